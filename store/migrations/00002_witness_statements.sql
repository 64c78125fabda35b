-- witness statements
-- +goose Up
CREATE TABLE witness_statements (
	id {{serial}},
	witness_cpr_hash TEXT NOT NULL,
	issuance_id TEXT NOT NULL,
	accepted_at {{ts}} NOT NULL
);
CREATE INDEX witness_statements_by_witness ON witness_statements (witness_cpr_hash, accepted_at);
