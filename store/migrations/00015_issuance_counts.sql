-- the read model at scale: issuance counts per status kept as counters, and list indexes
-- +goose Up
-- How many issuances there are per (path, office, status), so the console's
-- header answers from a few thousand rows instead of a GROUP BY over every
-- issuance. Every write that inserts an issuance or moves its status
-- changes these rows in the same transaction (store/issuance_counts.go).
-- An empty string stands for "none" (a counter issuance has no bank), so
-- the key can be a primary key that ON CONFLICT can name.
-- shard spreads the writes of one (office, status) over 16 rows: it is the
-- last character of the issuance's id (a random hex digit of a UUIDv7), so
-- concurrent transitions of different issuances rarely wait on one row, and
-- each shard counts exactly the issuances whose id ends in it. Readers sum.
CREATE TABLE issuance_counts (
	path TEXT NOT NULL,
	centre TEXT NOT NULL DEFAULT '',
	representation TEXT NOT NULL DEFAULT '',
	bank TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	shard TEXT NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (path, centre, representation, bank, status, shard)
);
INSERT INTO issuance_counts (path, centre, representation, bank, status, shard, n)
	SELECT path, COALESCE(centre, ''), COALESCE(representation, ''), COALESCE(bank, ''), status, substr(id, length(id), 1), COUNT(*)
	FROM issuances
	GROUP BY path, COALESCE(centre, ''), COALESCE(representation, ''), COALESCE(bank, ''), status, substr(id, length(id), 1);
-- List pages walk one index whose leading columns are the page's equalities,
-- followed by id, and stop after one page (store.ListIssuances). An office
-- alone walks (office, id), which exist; an office or a path with a status
-- needs these, or the walk filters one index by the other column and reads
-- the whole table when nothing matches (EXPLAIN at 10 M rows: a
-- caseworker's list of awaiting_pickup, which only the abroad path has,
-- read 40 000 rows in 1.5 s; see docs/readmodel-scale.md). IF NOT EXISTS: on
-- a large table an operator may build them beforehand, without locking
-- writes, with CREATE INDEX CONCURRENTLY under these names.
CREATE INDEX IF NOT EXISTS issuances_by_centre_status ON issuances (centre, status, id);
CREATE INDEX IF NOT EXISTS issuances_by_representation_status ON issuances (representation, status, id);
CREATE INDEX IF NOT EXISTS issuances_by_bank_status ON issuances (bank, status, id);
CREATE INDEX IF NOT EXISTS issuances_by_path_status ON issuances (path, status, id);
