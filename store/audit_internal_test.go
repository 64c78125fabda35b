package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/opennemid/nemid/domain"
)

// An entry appended outside a transaction could outlive a failed action,
// or an action outlive a failed entry: AppendAudit refuses it.
func TestAppendAuditOnlyInsideATransaction(t *testing.T) {
	st, err := OpenSQLite(filepath.Join(t.TempDir(), "nemid.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.UseHashKeys(domain.NewHashKeys("test", make([]byte, 32)))
	e := AuditEntry{Actor: "admin:all", Action: AuditCredentialUnlocked, Target: CredentialTarget("123456789")}
	if err := AppendAudit(st.db.WithContext(ctx), e); !errors.Is(err, ErrNotInTransaction) {
		t.Fatalf("outside a transaction: got %v, want ErrNotInTransaction", err)
	}
	if err := st.Audited(ctx, e, nil); err != nil {
		t.Fatalf("inside one: %v", err)
	}
}
