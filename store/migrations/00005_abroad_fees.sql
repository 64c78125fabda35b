-- abroad orders: document hash, representation fees
-- +goose Up
ALTER TABLE issuances ADD COLUMN document_hash TEXT;
CREATE TABLE fees (
	issuance_id TEXT PRIMARY KEY REFERENCES issuances(id),
	representation TEXT NOT NULL,
	amount_dkk INTEGER NOT NULL,
	receipt TEXT NOT NULL,
	actor TEXT NOT NULL,
	paid_at {{ts}} NOT NULL
);
