-- citizen challenges, sessions, register lookup hash
-- +goose Up
CREATE TABLE challenges (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	card_number TEXT NOT NULL,
	key TEXT NOT NULL,
	status TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	closed_at {{ts}}
);
CREATE INDEX challenges_by_credential ON challenges (credential_id, status);
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
ALTER TABLE persons ADD COLUMN cpr_hash TEXT;
CREATE INDEX persons_by_cpr_hash ON persons (cpr_hash);
