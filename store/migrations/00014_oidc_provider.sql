-- the OpenID Connect provider (DESIGN.md §11): clients, authorization requests and their codes, access tokens, signing keys
-- +goose Up
CREATE TABLE oidc_clients (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	secret_hash TEXT,
	redirect_uris TEXT NOT NULL,
	public_authority BOOLEAN NOT NULL DEFAULT FALSE,
	confidential BOOLEAN NOT NULL DEFAULT FALSE,
	created_at {{ts}} NOT NULL
);
CREATE TABLE oidc_auth_requests (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL REFERENCES oidc_clients(id),
	redirect_uri TEXT NOT NULL,
	scopes TEXT NOT NULL,
	state TEXT NOT NULL,
	nonce TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	response_mode TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	challenge_id TEXT,
	credential_id TEXT REFERENCES credentials(id),
	subject TEXT,
	auth_time {{ts}},
	code_hash TEXT UNIQUE,
	code_expires_at {{ts}},
	code_used_at {{ts}}
);
CREATE INDEX oidc_auth_requests_by_expiry ON oidc_auth_requests (expires_at);
CREATE TABLE oidc_access_tokens (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL REFERENCES oidc_clients(id),
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	subject TEXT NOT NULL,
	scopes TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL
);
CREATE INDEX oidc_access_tokens_by_expiry ON oidc_access_tokens (expires_at);
CREATE TABLE oidc_signing_keys (
	id TEXT PRIMARY KEY,
	sealed_private_key {{bytes}} NOT NULL,
	seal_key_id TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
