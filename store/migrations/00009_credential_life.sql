-- the credential's life: one active NemID per CPR, blocks, revocation, register changes
-- +goose Up
ALTER TABLE credentials ADD COLUMN blocked_at {{ts}};
ALTER TABLE credentials ADD COLUMN revoked_at {{ts}};
ALTER TABLE credentials ADD COLUMN revoked_reason TEXT;
-- Before this index a person could hold two active NemIDs (applied again and
-- activated): the newer one stays, the older ones are revoked as replaced and
-- their sessions end.
UPDATE credentials SET status = 'revoked', revoked_reason = 'replaced', revoked_at = activated_at
	WHERE status = 'active' AND EXISTS (SELECT 1 FROM credentials AS newer
		WHERE newer.cpr_hash = credentials.cpr_hash AND newer.status = 'active'
		AND (newer.activated_at > credentials.activated_at
			OR (newer.activated_at = credentials.activated_at AND newer.id > credentials.id)));
DELETE FROM sessions WHERE credential_id IN (SELECT id FROM credentials WHERE status = 'revoked');
CREATE UNIQUE INDEX credentials_one_active_per_cpr ON credentials (cpr_hash) WHERE status = 'active';
CREATE INDEX credentials_by_cpr_hash ON credentials (cpr_hash, status);
CREATE INDEX issuances_by_cpr_hash ON issuances (cpr_hash, status);
CREATE TABLE register_changes (
	id {{serial}},
	cpr TEXT NOT NULL,
	kind TEXT NOT NULL,
	recorded_at {{ts}} NOT NULL,
	applied_at {{ts}}
);
CREATE INDEX register_changes_pending ON register_changes (applied_at, id);
