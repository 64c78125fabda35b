-- self-service after issuance: blocked cards, lost and extra card orders, password resets
-- +goose Up
ALTER TABLE code_cards ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE code_cards ADD COLUMN blocked_at {{ts}};
ALTER TABLE credentials ADD COLUMN lock_cause TEXT;
CREATE TABLE card_orders (
	id TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	kind TEXT NOT NULL,
	n INTEGER NOT NULL,
	status TEXT NOT NULL,
	card_number TEXT,
	letter_id TEXT,
	created_at {{ts}} NOT NULL,
	UNIQUE (credential_id, kind, n)
);
CREATE TABLE password_resets (
	id TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	status TEXT NOT NULL,
	temporary_password_mac TEXT,
	letter_id TEXT,
	representation TEXT,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	picked_up_at {{ts}},
	fee_dkk INTEGER,
	receipt TEXT,
	pickup_actor TEXT,
	closed_at {{ts}}
);
CREATE INDEX password_resets_by_credential ON password_resets (credential_id, status);
