-- rate limits shared by API processes, abroad orders per CPR, idempotency key expiry
-- +goose Up
CREATE TABLE rate_buckets (
	bucket TEXT PRIMARY KEY,
	tokens {{float}} NOT NULL,
	refilled_us BIGINT NOT NULL,
	allowed BOOLEAN NOT NULL
);
CREATE INDEX rate_buckets_by_refill ON rate_buckets (refilled_us);
CREATE TABLE abroad_order_windows (
	cpr_hash TEXT PRIMARY KEY,
	at1_us BIGINT NOT NULL,
	at2_us BIGINT NOT NULL,
	at3_us BIGINT NOT NULL,
	at4_us BIGINT NOT NULL,
	at5_us BIGINT NOT NULL,
	allowed BOOLEAN NOT NULL
);
CREATE INDEX abroad_order_windows_by_last ON abroad_order_windows (at5_us);
CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
