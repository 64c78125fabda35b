package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one schema version. Statements are written once for both
// databases; the placeholders below pick each dialect's types.
type migration struct {
	version int
	name    string
	sql     string
}

var dialectTypes = map[string]*strings.Replacer{
	"postgres": strings.NewReplacer("{{serial}}", "BIGSERIAL PRIMARY KEY", "{{ts}}", "TIMESTAMPTZ", "{{bytes}}", "BYTEA",
		"{{float}}", "DOUBLE PRECISION", "{{least}}", "LEAST", "{{greatest}}", "GREATEST"),
	"sqlite": strings.NewReplacer("{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{ts}}", "DATETIME", "{{bytes}}", "BLOB",
		"{{float}}", "REAL", "{{least}}", "MIN", "{{greatest}}", "MAX"),
}

// migrations are append-only: never edit one that has shipped, add the next.
// Versions may have gaps (6 and 7 are another branch's): Migrate applies
// each version it has not applied yet, in list order, whatever came before.
var migrations = []migration{
	{1, "register, tokens, issuances, timeline, idempotency", `
CREATE TABLE persons (
	cpr TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	address TEXT NOT NULL DEFAULT '',
	postcode TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT 'DK',
	address_protected BOOLEAN NOT NULL DEFAULT FALSE,
	deceased BOOLEAN NOT NULL DEFAULT FALSE,
	danish_passport TEXT NOT NULL DEFAULT '',
	danish_driving_licence TEXT NOT NULL DEFAULT '',
	arrived_dk TEXT NOT NULL DEFAULT '',
	updated_at {{ts}} NOT NULL
);
CREATE TABLE api_tokens (
	id TEXT PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	scope TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	revoked_at {{ts}}
);
CREATE TABLE issuances (
	id TEXT PRIMARY KEY,
	path TEXT NOT NULL,
	status TEXT NOT NULL,
	cpr_hash TEXT NOT NULL,
	cpr_masked TEXT NOT NULL,
	centre TEXT,
	representation TEXT,
	bank TEXT,
	public_signature BOOLEAN,
	reasons TEXT NOT NULL DEFAULT '[]',
	deadline {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX issuances_one_open_per_cpr ON issuances (cpr_hash)
	WHERE status NOT IN ('rejected', 'active', 'expired', 'cancelled');
CREATE INDEX issuances_by_status ON issuances (status, id);
CREATE INDEX issuances_by_centre ON issuances (centre, id);
CREATE INDEX issuances_by_representation ON issuances (representation, id);
CREATE INDEX issuances_by_bank ON issuances (bank, id);
CREATE TABLE issuance_events (
	id {{serial}},
	issuance_id TEXT NOT NULL REFERENCES issuances(id) ON DELETE CASCADE,
	dedupe_key TEXT NOT NULL,
	at {{ts}} NOT NULL,
	type TEXT NOT NULL,
	actor TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	UNIQUE (issuance_id, dedupe_key)
);
CREATE TABLE idempotency_keys (
	principal TEXT NOT NULL,
	key TEXT NOT NULL,
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	response_body {{bytes}},
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (principal, key)
);
`},
	{2, "witness statements", `
CREATE TABLE witness_statements (
	id {{serial}},
	witness_cpr_hash TEXT NOT NULL,
	issuance_id TEXT NOT NULL,
	accepted_at {{ts}} NOT NULL
);
CREATE INDEX witness_statements_by_witness ON witness_statements (witness_cpr_hash, accepted_at);
`},
	{3, "credentials, code cards, letters outbox", `
CREATE TABLE credentials (
	id TEXT PRIMARY KEY,
	issuance_id TEXT NOT NULL UNIQUE,
	user_id TEXT NOT NULL UNIQUE,
	cpr_hash TEXT NOT NULL,
	temporary_password_mac TEXT NOT NULL,
	password_hash TEXT,
	status TEXT NOT NULL,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	locked_at {{ts}},
	created_at {{ts}} NOT NULL,
	activated_at {{ts}}
);
CREATE TABLE code_cards (
	card_number TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	seq INTEGER NOT NULL,
	created_at {{ts}} NOT NULL,
	UNIQUE (credential_id, seq)
);
CREATE TABLE card_codes (
	card_number TEXT NOT NULL REFERENCES code_cards(card_number),
	key TEXT NOT NULL,
	code_mac TEXT NOT NULL,
	spent_at {{ts}},
	PRIMARY KEY (card_number, key)
);
CREATE TABLE letters (
	id TEXT PRIMARY KEY,
	issuance_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	dedupe_key TEXT NOT NULL UNIQUE,
	recipient TEXT NOT NULL,
	pdf {{bytes}},
	pdf_sha256 TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	dispatched_at {{ts}}
);
CREATE INDEX letters_by_status ON letters (status, id);
CREATE INDEX letters_by_issuance ON letters (issuance_id);
`},
	{4, "citizen challenges, sessions, register lookup hash", `
CREATE TABLE challenges (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	card_number TEXT NOT NULL,
	key TEXT NOT NULL,
	status TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	closed_at {{ts}}
);
CREATE INDEX challenges_by_credential ON challenges (credential_id, status);
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
ALTER TABLE persons ADD COLUMN cpr_hash TEXT;
CREATE INDEX persons_by_cpr_hash ON persons (cpr_hash);
`},
	{5, "abroad orders: document hash, representation fees", `
ALTER TABLE issuances ADD COLUMN document_hash TEXT;
CREATE TABLE fees (
	issuance_id TEXT PRIMARY KEY REFERENCES issuances(id),
	representation TEXT NOT NULL,
	amount_dkk INTEGER NOT NULL,
	receipt TEXT NOT NULL,
	actor TEXT NOT NULL,
	paid_at {{ts}} NOT NULL
);
`},
	{6, "secret attempts in flight: the lockout decided across processes", `
CREATE TABLE secret_attempts (
	id TEXT PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials(id),
	started_at {{ts}} NOT NULL
);
CREATE INDEX secret_attempts_by_credential ON secret_attempts (credential_id, started_at);
CREATE INDEX sessions_by_credential ON sessions (credential_id);
`},
	{7, "rate limits shared by API processes, abroad orders per CPR, idempotency key expiry", `
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
`},
	{8, "activation: the new password's hash waits on its challenge for the workflow", `
ALTER TABLE challenges ADD COLUMN new_password_hash TEXT;
`},
}

type schemaMigration struct {
	Version   int `gorm:"primaryKey"`
	Name      string
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate applies every migration not yet applied, each in its own
// transaction. On Postgres an advisory lock lets several processes start at
// once without racing.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` +
		dialectTypes[s.dialect].Replace("{{ts}}") + ` NOT NULL)`).Error; err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(7220470)").Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&schemaMigration{}).Where("version = ?", m.version).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, stmt := range strings.Split(dialectTypes[s.dialect].Replace(m.sql), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("%w in: %s", err, strings.TrimSpace(stmt))
			}
		}
		return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now().UTC()}).Error
	})
}

// SchemaVersion is the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := s.db.WithContext(ctx).Model(&schemaMigration{}).Select("MAX(version)").Scan(&v).Error
	if err != nil || v == nil {
		return 0, err
	}
	return *v, nil
}
