// Package store is the system of record for people-facing data: the CPR
// register, API tokens, the issuance read model and its timeline. It owns the
// GORM models, the versioned migrations and every query.
package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store wraps the database handle; every query lives on it.
type Store struct {
	db      *gorm.DB
	dialect string // "postgres" or "sqlite"
	path    string // the SQLite file ("" on Postgres)
}

// Open connects to Postgres when url starts with postgres:// (or
// postgresql://), otherwise to the SQLite file dataDir/nemid.db.
func Open(url, dataDir string) (*Store, error) {
	cfg := &gorm.Config{TranslateError: true, Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		db, err := gorm.Open(postgres.Open(url), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return &Store{db: db, dialect: "postgres"}, nil
	}
	if url != "" {
		return nil, fmt.Errorf("DATABASE_URL: only postgres:// URLs are supported, got scheme of %q", strings.SplitN(url, ":", 2)[0])
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return OpenSQLite(filepath.Join(dataDir, "nemid.db"))
}

// OpenSQLite opens (creating) a SQLite database file. The file is created
// with mode 0600 before SQLite opens it, so its -wal and -shm files, which
// SQLite creates with the database file's mode, are private too; an
// existing file is narrowed to 0600. secure_delete makes SQLite overwrite
// deleted content with zeros instead of leaving it in free pages (the WAL
// still holds old page images until it is overwritten: what must not
// survive there is stored encrypted under keys kept outside the database).
func OpenSQLite(path string) (*Store, error) {
	if err := privateFile(path); err != nil {
		return nil, err
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=secure_delete(1)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{TranslateError: true, Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }})
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// One connection: SQLite allows one writer, and a single connection turns
	// lock contention into orderly queueing instead of SQLITE_BUSY errors.
	sqlDB.SetMaxOpenConns(1)
	return &Store{db: db, dialect: "sqlite", path: path}, nil
}

// privateFile creates the database file with mode 0600 when it is missing
// and narrows the mode of an existing one and of its -wal and -shm files.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create sqlite file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

// Dialect is "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close releases the connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// ErrNotFound is returned when a row does not exist (or is outside the caller's scope).
var ErrNotFound = errors.New("not found")

// IsUnavailable reports whether err means the database could not be reached,
// as opposed to a query the database refused.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "57P") {
		// Operator intervention: the server is shutting down or restarting
		// (57P01 admin_shutdown ends the session on a restart, 57P03 while
		// it starts), not a query it refused.
		return true
	}
	return errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, driver.ErrBadConn) ||
		strings.Contains(err.Error(), "sql: database is closed")
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
