-- register, tokens, issuances, timeline, idempotency
-- +goose Up
CREATE TABLE persons (
	cpr TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	address TEXT NOT NULL DEFAULT '',
	postcode TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT 'DK',
	address_protected BOOLEAN NOT NULL DEFAULT FALSE,
	deceased BOOLEAN NOT NULL DEFAULT FALSE,
	danish_passport TEXT NOT NULL DEFAULT '',
	danish_driving_licence TEXT NOT NULL DEFAULT '',
	arrived_dk TEXT NOT NULL DEFAULT '',
	updated_at {{ts}} NOT NULL
);
CREATE TABLE api_tokens (
	id TEXT PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	scope TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	revoked_at {{ts}}
);
CREATE TABLE issuances (
	id TEXT PRIMARY KEY,
	path TEXT NOT NULL,
	status TEXT NOT NULL,
	cpr_hash TEXT NOT NULL,
	cpr_masked TEXT NOT NULL,
	centre TEXT,
	representation TEXT,
	bank TEXT,
	public_signature BOOLEAN,
	reasons TEXT NOT NULL DEFAULT '[]',
	deadline {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX issuances_one_open_per_cpr ON issuances (cpr_hash)
	WHERE status NOT IN ('rejected', 'active', 'expired', 'cancelled');
CREATE INDEX issuances_by_status ON issuances (status, id);
CREATE INDEX issuances_by_centre ON issuances (centre, id);
CREATE INDEX issuances_by_representation ON issuances (representation, id);
CREATE INDEX issuances_by_bank ON issuances (bank, id);
CREATE TABLE issuance_events (
	id {{serial}},
	issuance_id TEXT NOT NULL REFERENCES issuances(id) ON DELETE CASCADE,
	dedupe_key TEXT NOT NULL,
	at {{ts}} NOT NULL,
	type TEXT NOT NULL,
	actor TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	UNIQUE (issuance_id, dedupe_key)
);
CREATE TABLE idempotency_keys (
	principal TEXT NOT NULL,
	key TEXT NOT NULL,
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	response_body {{bytes}},
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (principal, key)
);
