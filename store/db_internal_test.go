package store

import (
	"context"
	"path/filepath"
	"testing"
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
