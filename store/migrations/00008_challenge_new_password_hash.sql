-- activation: the new password's hash waits on its challenge for the workflow
-- +goose Up
ALTER TABLE challenges ADD COLUMN new_password_hash TEXT;
