-- secret attempts in flight: the lockout decided across processes
-- +goose Up
CREATE TABLE secret_attempts (
	id TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	started_at {{ts}} NOT NULL
);
CREATE INDEX secret_attempts_by_credential ON secret_attempts (credential_id, started_at);
CREATE INDEX sessions_by_credential ON sessions (credential_id);
