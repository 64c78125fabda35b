-- a password reset for a NemID number that has nothing to reset (unknown,
-- unactivated, revoked) is a decoy that must behave like a real one
-- (DESIGN.md §6: resets are no NemID-number oracle): after a wrong code a
-- real reset shows a new key, and three wrong codes lock. This is the
-- decoy's state, keyed by a MAC of the number (never the number itself):
-- the id of the challenge it shows now and its wrong answers.
-- +goose Up
CREATE TABLE decoy_resets (
	number_mac TEXT PRIMARY KEY,
	challenge_id TEXT NOT NULL UNIQUE,
	wrong_answers INTEGER NOT NULL,
	updated_at {{ts}} NOT NULL
);
