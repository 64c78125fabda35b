package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver used to create and drop test databases

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// HashKeyEnv is the NEMID_HASH_KEY of the stores Open returns (a fixed test
// key, id "test"): a command run against a test database with it in its
// environment links and verifies the same audit chain. NewApp gives the
// store its own keys instead.
const HashKeyEnv = "test:dGVzdC1vbmx5LWhhc2gta2V5LW5vdC1hLXNlY3JldC0zMmI="

// HashKeys are HashKeyEnv parsed.
func HashKeys() domain.HashKeys {
	k, err := domain.ParseHashKeys(HashKeyEnv)
	if err != nil {
		panic(err)
	}
	return k
}

// Backend is one database the same tests run against.
type Backend struct {
	Name string
	Open func(t testing.TB) *store.Store // a fresh, migrated, empty database
	// OpenDisk is Open with a view of the database from below: its raw
	// files and statements run past the application (see Disk).
	OpenDisk func(t testing.TB) (*store.Store, *Disk)
	// Empty is a fresh database without any schema (for migration tests).
	Empty func(t testing.TB) *store.Store
}

// Backends are SQLite (always) and Postgres (NEMID_TEST_POSTGRES_URL, by
// default the local server): run each test body once per backend.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Open: SQLite, OpenDisk: SQLiteDisk, Empty: SQLiteEmpty},
		{Name: "postgres", Open: Postgres, OpenDisk: PostgresDisk, Empty: PostgresEmpty},
	}
}

// SQLite opens a migrated database in the test's temporary directory.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	st, _ := SQLiteDisk(t)
	return st
}

func postgresBaseURL() string {
	if u := os.Getenv("NEMID_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Postgres creates a database of its own for the test and drops it after.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	st, _ := PostgresDisk(t)
	return st
}

// PostgresDisk is Postgres with the Disk view of the test's database.
func PostgresDisk(t testing.TB) (*store.Store, *Disk) {
	t.Helper()
	st, disk := postgresDisk(t)
	return migrated(t, st), disk
}

// PostgresEmpty is a database of the test's own without any schema.
func PostgresEmpty(t testing.TB) *store.Store {
	t.Helper()
	st, _ := postgresDisk(t)
	return st
}

func postgresDisk(t testing.TB) (*store.Store, *Disk) {
	t.Helper()
	base := postgresBaseURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		_ = admin.Close()
		Unavailable(t, "Postgres at %s is unreachable: %v", redact(base), err)
	}
	var walStart string // the WAL from here on holds everything this test's database saw
	if err := admin.QueryRowContext(ctx, "SELECT pg_walfile_name(pg_current_wal_lsn())").Scan(&walStart); err != nil {
		walStart = "" // on a standby or without the privilege: Disk.EachFile says so when it is used
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "nemid_test_" + hex.EncodeToString(suffix)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	u, _ := url.Parse(base)
	u.Path = "/" + name
	st, err := store.Open(u.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	remember(st, u.String())
	t.Cleanup(func() {
		_ = st.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	return st, &Disk{Backend: "postgres", pg: &pgDisk{admin: admin, url: u.String(), name: name, walStart: walStart}}
}

func migrated(t testing.TB, st *store.Store) *store.Store {
	t.Helper()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	st.UseHashKeys(HashKeys())
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Reopen opens a second, independent connection (pool) to the database
// behind st, as a second API process would: for SQLite the same file, for
// Postgres the same database. It is closed when the test ends.
func Reopen(t *testing.T, st *store.Store) *store.Store {
	t.Helper()
	dsn, dataDir := Location(t, st), ""
	if st.Dialect() != "postgres" {
		dsn, dataDir = "", dsn
	}
	again, err := store.Open(dsn, dataDir)
	if err != nil {
		t.Fatalf("reopen the database: %v", err)
	}
	again.UseHashKeys(st.HashKeys()) // a second process of the same deployment: the same NEMID_HASH_KEY
	t.Cleanup(func() { _ = again.Close() })
	return again
}
