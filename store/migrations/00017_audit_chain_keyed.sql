-- the audit chain keyed: each entry names the NEMID_HASH_KEY key of its link
-- +goose Up
-- From here on every entry's hash is an HMAC-SHA256 under a key the
-- database does not hold (store/audit.go), and key_id names that key so
-- that keys can rotate. The entries written before, with the plain SHA-256
-- link, get key_id '' and keep verifying that way. audit_head records up
-- to which seq that is allowed: an unkeyed entry after it, or after a
-- keyed one, is a chain recomputed without the key.
-- The head is altered first: that lock waits for every append in flight
-- (they hold the head's row) and keeps new ones out until this commits, so
-- unkeyed_until is the last seq and the copy below misses no entry.
ALTER TABLE audit_head ADD COLUMN unkeyed_until BIGINT NOT NULL DEFAULT 0;
UPDATE audit_head SET unkeyed_until = seq WHERE id = 1;
-- The log is rebuilt rather than altered so that key_id is NOT NULL without
-- a default on both databases: a process of the previous version, which
-- does not name a key, fails to append (its action rolls back) instead of
-- writing an unkeyed entry that verify would find after the boundary.
CREATE TABLE audit_log_keyed (
	seq BIGINT PRIMARY KEY,
	at {{ts}} NOT NULL,
	actor TEXT NOT NULL,
	actor_name TEXT,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	outcome TEXT NOT NULL,
	key_id TEXT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_log_keyed (seq, at, actor, actor_name, action, target, outcome, key_id, hash)
	SELECT seq, at, actor, actor_name, action, target, outcome, '', hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_keyed RENAME TO audit_log;
CREATE INDEX audit_log_by_action ON audit_log (action, seq);
CREATE INDEX audit_log_by_at ON audit_log (at);
