package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// The migrations are SQL files in migrations/, run by goose
// (github.com/pressly/goose/v3). To change the schema, add the next file,
// NNNNN_what.sql, starting with "-- +goose Up"; never edit one that has
// shipped. Each is written once for both databases: the placeholders in
// dialectTypes pick each dialect's types, and dialectFS substitutes them
// before goose reads the files. goose runs each file in a transaction and
// splits it into statements with its own SQL parser (wrap a statement that
// contains semicolons, such as a function body, in "-- +goose
// StatementBegin" / "-- +goose StatementEnd").
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var dialectTypes = map[string]*strings.Replacer{
	"postgres": strings.NewReplacer("{{serial}}", "BIGSERIAL PRIMARY KEY", "{{ts}}", "TIMESTAMPTZ", "{{bytes}}", "BYTEA",
		"{{float}}", "DOUBLE PRECISION", "{{least}}", "LEAST", "{{greatest}}", "GREATEST"),
	"sqlite": strings.NewReplacer("{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{ts}}", "DATETIME", "{{bytes}}", "BLOB",
		"{{float}}", "REAL", "{{least}}", "MIN", "{{greatest}}", "MAX"),
}

// versionTable is goose's record of applied migrations.
const versionTable = "goose_db_version"

// legacyTable is where the hand-written runner that came before goose
// recorded its versions (version, name, applied_at). It is left in place;
// Migrate copies its versions into versionTable once.
const legacyTable = "schema_migrations"

// legacyLockKey is the advisory lock the old runner took; taking it while
// adopting the old versions keeps an old and a new process (a rolling
// upgrade) from migrating at the same moment.
const legacyLockKey = 7220470

// dialectFS is the migration files with the dialect's placeholders
// substituted.
func dialectFS(dialect string) (fs.FS, error) {
	r, ok := dialectTypes[dialect]
	if !ok {
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	for _, e := range entries {
		b, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = &fstest.MapFile{Data: []byte(r.Replace(string(b))), Mode: 0o444}
	}
	return out, nil
}

func gooseDialect(dialect string) goose.Dialect {
	if dialect == "postgres" {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// provider is a goose Provider for this store's database. On Postgres it
// holds goose's session advisory lock while it migrates, so several
// processes may start at once.
func (s *Store) provider() (*goose.Provider, *sql.DB, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, nil, err
	}
	fsys, err := dialectFS(s.dialect)
	if err != nil {
		return nil, nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(versionTable),
		goose.WithDisableGlobalRegistry(true),
		// A migration merged from another branch may carry a lower version
		// than one already applied: apply it anyway, as the old runner did.
		goose.WithAllowOutofOrder(true),
	}
	if s.dialect == "postgres" {
		// Another process migrating holds the lock: look every second, for
		// up to five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect(s.dialect), sqlDB, fsys, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return p, sqlDB, nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction. A database migrated by the runner before goose is adopted
// first: its applied versions are recorded as applied for goose.
func (s *Store) Migrate(ctx context.Context) error {
	if s.dialect == "sqlite" {
		// goose has no lock for SQLite: processes sharing the file take
		// turns through a lock file beside it, so a migration that would
		// succeed a second time (one that rebuilds a table under a
		// temporary name) still runs once.
		unlock, err := lockMigrations(s.path)
		if err != nil {
			return err
		}
		defer unlock()
	}
	p, sqlDB, err := s.provider()
	if err != nil {
		return err
	}
	if err := s.adoptLegacyVersions(ctx, sqlDB); err != nil {
		return fmt.Errorf("adopt %s: %w", legacyTable, err)
	}
	_, err = p.Up(ctx)
	// Where there is no lock file (lockMigrations on a system without
	// flock), each migration still runs in a transaction that takes the
	// file's write lock, so when another process applies the same
	// migration first, ours usually fails whole ("table already exists")
	// and leaves nothing behind: look again, and the versions it applied
	// are no longer pending.
	for try := 0; err != nil && s.dialect == "sqlite" && try < 3; try++ {
		if p, _, err = s.provider(); err == nil {
			_, err = p.Up(ctx)
		}
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// adoptLegacyVersions copies the versions the old runner applied into
// goose's version table, once: when goose's table does not exist yet and
// the old one does.
func (s *Store) adoptLegacyVersions(ctx context.Context, sqlDB *sql.DB) error {
	tx, err := sqlDB.BeginTx(ctx, nil) // SQLite: _txlock=immediate makes this the one writer
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if s.dialect == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", legacyLockKey); err != nil {
			return err
		}
	}
	haveGoose, err := s.tableExists(ctx, tx, versionTable)
	if err != nil || haveGoose {
		return err
	}
	haveLegacy, err := s.tableExists(ctx, tx, legacyTable)
	if err != nil || !haveLegacy {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM "+legacyTable+" ORDER BY version")
	if err != nil {
		return err
	}
	var versions []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			_ = rows.Close()
			return err
		}
		versions = append(versions, v)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	gs, err := database.NewStore(database.Dialect(gooseDialect(s.dialect)), versionTable)
	if err != nil {
		return err
	}
	if err := gs.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	for _, v := range append([]int64{0}, versions...) { // goose's table starts with version 0
		if err := gs.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return fmt.Errorf("record version %d: %w", v, err)
		}
	}
	return tx.Commit()
}

func (s *Store) tableExists(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if s.dialect == "postgres" {
		q = "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// SchemaVersion is the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	p, _, err := s.provider()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, err
	}
	return int(v), nil
}

// LatestMigration is the highest version among the migration files.
func LatestMigration() (int, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	latest := 0
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return 0, fmt.Errorf("migration file %s: no version number", e.Name())
		}
		latest = max(latest, v)
	}
	return latest, nil
}
