-- the fees ledger holds every representation's fee, one per decision: an
-- abroad issuance's pickup (id = the issuance's id, as before) and an abroad
-- password reset's pickup (id = 'reset:' || the reset's id), both with the
-- credential's issuance_id. Before, a reset's fee was kept only on its
-- password_resets row, and fees could hold one row per issuance.
-- +goose Up
CREATE TABLE fees_v2 (
	id TEXT PRIMARY KEY,
	issuance_id TEXT NOT NULL REFERENCES issuances(id),
	reset_id TEXT UNIQUE,
	representation TEXT NOT NULL,
	amount_dkk INTEGER NOT NULL,
	receipt TEXT NOT NULL,
	actor TEXT NOT NULL,
	actor_name TEXT,
	paid_at {{ts}} NOT NULL
);
INSERT INTO fees_v2 (id, issuance_id, reset_id, representation, amount_dkk, receipt, actor, actor_name, paid_at)
	SELECT issuance_id, issuance_id, NULL, representation, amount_dkk, receipt, actor, actor_name, paid_at FROM fees;
-- resets picked up before this migration: their fee from the reset's row
INSERT INTO fees_v2 (id, issuance_id, reset_id, representation, amount_dkk, receipt, actor, actor_name, paid_at)
	SELECT 'reset:' || r.id, c.issuance_id, r.id, COALESCE(r.representation, i.representation, ''), r.fee_dkk,
		COALESCE(r.receipt, ''), COALESCE(r.pickup_actor, ''), NULL, r.picked_up_at
	FROM password_resets r
	JOIN credentials c ON c.id = r.credential_id
	JOIN issuances i ON i.id = c.issuance_id
	WHERE r.picked_up_at IS NOT NULL AND r.fee_dkk IS NOT NULL;
DROP TABLE fees;
ALTER TABLE fees_v2 RENAME TO fees;
CREATE INDEX fees_by_paid_at ON fees (paid_at, id);
CREATE INDEX fees_by_issuance ON fees (issuance_id);
