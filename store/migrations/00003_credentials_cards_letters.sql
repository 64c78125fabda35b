-- credentials, code cards, letters outbox
-- +goose Up
CREATE TABLE credentials (
	id TEXT PRIMARY KEY,
	issuance_id TEXT NOT NULL UNIQUE,
	user_id TEXT NOT NULL UNIQUE,
	cpr_hash TEXT NOT NULL,
	temporary_password_mac TEXT NOT NULL,
	password_hash TEXT,
	status TEXT NOT NULL,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	locked_at {{ts}},
	created_at {{ts}} NOT NULL,
	activated_at {{ts}}
);
CREATE TABLE code_cards (
	card_number TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	seq INTEGER NOT NULL,
	created_at {{ts}} NOT NULL,
	UNIQUE (credential_id, seq)
);
CREATE TABLE card_codes (
	card_number TEXT NOT NULL REFERENCES code_cards(card_number),
	key TEXT NOT NULL,
	code_mac TEXT NOT NULL,
	spent_at {{ts}},
	PRIMARY KEY (card_number, key)
);
CREATE TABLE letters (
	id TEXT PRIMARY KEY,
	issuance_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	dedupe_key TEXT NOT NULL UNIQUE,
	recipient TEXT NOT NULL,
	pdf {{bytes}},
	pdf_sha256 TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	dispatched_at {{ts}}
);
CREATE INDEX letters_by_status ON letters (status, id);
CREATE INDEX letters_by_issuance ON letters (issuance_id);
