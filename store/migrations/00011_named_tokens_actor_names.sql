-- staff identity: named tokens with an expiry and a last use; the token's name on timeline events and fees
-- +goose Up
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET name = role || ':' || scope WHERE name = '';
ALTER TABLE api_tokens ADD COLUMN expires_at {{ts}};
ALTER TABLE api_tokens ADD COLUMN last_used_at {{ts}};
ALTER TABLE issuance_events ADD COLUMN actor_name TEXT;
ALTER TABLE fees ADD COLUMN actor_name TEXT;
