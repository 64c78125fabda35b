package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// secure_delete is set on every connection through the DSN: deleted
// content is overwritten with zeros in the database file.
func TestSQLiteOpensWithSecureDelete(t *testing.T) {
	st, err := OpenSQLite(filepath.Join(t.TempDir(), "nemid.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var on int
	if err := st.db.WithContext(context.Background()).Raw("PRAGMA secure_delete").Scan(&on).Error; err != nil {
		t.Fatal(err)
	}
	if on != 1 {
		t.Fatalf("PRAGMA secure_delete = %d, want 1", on)
	}
}

func TestRestartingPostgresIsUnavailable(t *testing.T) {
	for _, code := range []string{"57P01", "57P02", "57P03"} {
		if !IsUnavailable(fmt.Errorf("list letters: %w", &pgconn.PgError{Severity: "FATAL", Code: code})) {
			t.Errorf("SQLSTATE %s is not taken for unavailable", code)
		}
	}
	if IsUnavailable(&pgconn.PgError{Code: "23505"}) {
		t.Error("a unique violation is taken for unavailable")
	}
}
