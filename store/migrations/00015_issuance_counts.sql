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
