package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opennemid/nemid/store"
)

// Disk is a test database seen from below, as an attacker with a copy of
// its storage (or a backup) sees it: the raw bytes of the files that hold
// it, not its rows. It also runs statements past the application, for a
// test that must store what the application never would.
type Disk struct {
	Backend string
	// SQLitePath is the SQLite database file; its -wal and -shm files lie
	// beside it. Empty for Postgres.
	SQLitePath string
	pg         *pgDisk
}

type pgDisk struct {
	admin    *sql.DB // the server's maintenance database, as a superuser
	url      string  // the test's own database
	name     string
	walStart string // the WAL segment current before the database was created
}

// SQLiteDisk is SQLite with the Disk view of the test's database file.
func SQLiteDisk(t testing.TB) (*store.Store, *Disk) {
	t.Helper()
	st, disk := sqliteDisk(t)
	return migrated(t, st), disk
}

// SQLiteEmpty is a new SQLite database without any schema.
func SQLiteEmpty(t testing.TB) *store.Store {
	t.Helper()
	st, _ := sqliteDisk(t)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func sqliteDisk(t testing.TB) (*store.Store, *Disk) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "nemid.db")
	st, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	remember(st, dir)
	return st, &Disk{Backend: "sqlite", SQLitePath: path}
}

// Exec runs one statement on the test database directly, with ? for each
// argument on both databases.
func (d *Disk) Exec(t *testing.T, query string, args ...any) {
	t.Helper()
	driver, dsn := "sqlite", "file:"+d.SQLitePath+"?_pragma=busy_timeout(10000)"
	if d.pg != nil {
		driver, dsn = "pgx", d.pg.url
		n := 0
		query = regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string { n++; return "$" + strconv.Itoa(n) })
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// RawFile is one file that holds the database, byte for byte.
type RawFile struct {
	Name string
	Data []byte
	// Shared is true for a file that also holds other databases' data
	// (Postgres's WAL is the server's): other tests' rows may be there, so
	// look in it only for what is unique to this test.
	Shared bool
}

// EachFile reads every file that holds the database, byte for byte, and
// hands each to visit (one at a time: the WAL can be large).
//
// SQLite: the database file and its -wal, -shm and -journal files, as they
// are on disk now (a running database included: that is what a copy taken
// now would hold).
//
// Postgres: after a CHECKPOINT (so the pages in shared buffers are on
// disk), every file in the database's directory under the data directory —
// the heap of each table, the letters table's and every TOAST relation,
// indexes — and the WAL segments written since the test's database was
// created, read with pg_read_binary_file (so the server may be remote; it
// needs a superuser, as the local test server's postgres is). Names say
// which relation a file belongs to, e.g. "base/16384/16420 (letters)"; the
// WAL segments are Shared.
func (d *Disk) EachFile(t *testing.T, visit func(RawFile)) {
	t.Helper()
	if d.pg == nil {
		d.eachSQLiteFile(t, visit)
		return
	}
	d.pg.eachFile(t, visit)
}

// SQLiteFiles are the paths of the SQLite files that exist now.
func (d *Disk) SQLiteFiles() []string {
	var out []string
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if _, err := os.Stat(d.SQLitePath + suffix); err == nil {
			out = append(out, d.SQLitePath+suffix)
		}
	}
	return out
}

func (d *Disk) eachSQLiteFile(t *testing.T, visit func(RawFile)) {
	t.Helper()
	for _, path := range d.SQLiteFiles() {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the WAL goes away when the last connection closes
		}
		if err != nil {
			t.Fatal(err)
		}
		visit(RawFile{Name: filepath.Base(path), Data: data})
	}
}

// maxWALSegments bounds how much WAL one call reads (16 MB each).
const maxWALSegments = 64

func (p *pgDisk) eachFile(t *testing.T, visit func(RawFile)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := p.admin.ExecContext(ctx, "CHECKPOINT"); err != nil {
		Unavailable(t, "reading Postgres's files needs a superuser (CHECKPOINT): %v", err)
	}
	if p.walStart == "" {
		Unavailable(t, "reading Postgres's WAL needs a superuser on a primary (pg_current_wal_lsn failed when the database was created)")
	}
	relations, letterFiles := p.relationNames(t, ctx)

	var oid string
	if err := p.admin.QueryRowContext(ctx, "SELECT oid::text FROM pg_database WHERE datname = $1", p.name).Scan(&oid); err != nil {
		t.Fatalf("find the test database's directory: %v", err)
	}
	dir := "base/" + oid
	names := p.list(t, ctx, "SELECT pg_ls_dir($1)", dir)
	seen := map[string]bool{}
	for _, name := range names {
		path := dir + "/" + name
		data, ok := p.read(t, ctx, path)
		if !ok {
			continue
		}
		seen[path] = true
		label := path
		if rel := letterFiles[path]; rel != "" {
			label += " (" + rel + ")"
		} else if rel := relations[strings.SplitN(name, ".", 2)[0]]; rel != "" {
			label += " (" + rel + ")"
		}
		visit(RawFile{Name: label, Data: data})
	}
	for f := range letterFiles {
		if !seen[f] {
			t.Fatalf("the letters table's file %s was not among the files read from %s", f, dir)
		}
	}

	var current string
	if err := p.admin.QueryRowContext(ctx, "SELECT pg_walfile_name(pg_current_wal_lsn())").Scan(&current); err != nil {
		t.Fatalf("current WAL segment: %v", err)
	}
	segments := p.list(t, ctx, `SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name >= $1 AND name <= $2 ORDER BY name`,
		p.walStart, current)
	if len(segments) > maxWALSegments {
		t.Logf("reading the last %d of %d WAL segments written since the test's database was created", maxWALSegments, len(segments))
		segments = segments[len(segments)-maxWALSegments:]
	}
	for _, seg := range segments {
		if data, ok := p.read(t, ctx, "pg_wal/"+seg); ok {
			visit(RawFile{Name: "pg_wal/" + seg, Data: data, Shared: true})
		}
	}
}

// relationNames maps the test database's file nodes to relation names, and
// the files of the letters table and of its TOAST relation and index to
// what they are.
func (p *pgDisk) relationNames(t *testing.T, ctx context.Context) (map[string]string, map[string]string) {
	t.Helper()
	db, err := sql.Open("pgx", p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT pg_relation_filenode(c.oid)::text, c.relname FROM pg_class c WHERE pg_relation_filenode(c.oid) IS NOT NULL`)
	if err != nil {
		t.Fatalf("list relations: %v", err)
	}
	names := map[string]string{}
	for rows.Next() {
		var node, name string
		if err := rows.Scan(&node, &name); err != nil {
			t.Fatal(err)
		}
		names[node] = name
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var heap, toast, toastIndex string
	err = db.QueryRowContext(ctx, `SELECT pg_relation_filepath(c.oid), pg_relation_filepath(c.reltoastrelid),
		pg_relation_filepath((SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = c.reltoastrelid LIMIT 1))
		FROM pg_class c WHERE c.oid = 'letters'::regclass`).Scan(&heap, &toast, &toastIndex)
	if err != nil {
		t.Fatalf("find the letters table's files: %v", err)
	}
	return names, map[string]string{heap: "letters", toast: "letters: TOAST", toastIndex: "letters: TOAST index"}
}

func (p *pgDisk) list(t *testing.T, ctx context.Context, query string, args ...any) []string {
	t.Helper()
	rows, err := p.admin.QueryContext(ctx, query, args...)
	if err != nil {
		Unavailable(t, "reading Postgres's files needs a superuser (%s): %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// read reads one file under the data directory; a file removed since it
// was listed (a recycled WAL segment, a dropped relation) reads as absent.
func (p *pgDisk) read(t *testing.T, ctx context.Context, path string) ([]byte, bool) {
	t.Helper()
	var data []byte
	err := p.admin.QueryRowContext(ctx, "SELECT pg_read_binary_file($1)", path).Scan(&data)
	if err != nil && strings.Contains(err.Error(), "No such file") {
		return nil, false
	}
	if err != nil {
		t.Fatalf("read %s: %v", path, fmt.Errorf("pg_read_binary_file: %w", err))
	}
	return data, true
}
