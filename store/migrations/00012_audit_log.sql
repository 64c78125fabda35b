-- the tamper-evident audit log (DESIGN.md §8) and the head of its hash chain
-- +goose Up
CREATE TABLE audit_log (
	seq BIGINT PRIMARY KEY,
	at {{ts}} NOT NULL,
	actor TEXT NOT NULL,
	actor_name TEXT,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	outcome TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_action ON audit_log (action, seq);
CREATE INDEX audit_log_by_at ON audit_log (at);
-- One row: the last entry's seq and hash. Appends lock it (Postgres: FOR
-- UPDATE), so seq is gapless and the chain has one order across processes.
CREATE TABLE audit_head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
