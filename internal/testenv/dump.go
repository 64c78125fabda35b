package testenv

import (
	"context"
	"testing"
)

// DumpDatabase renders every row of every table the secrets could reach as
// text, for tests that assert a secret is stored nowhere.
func (a *App) DumpDatabase(t *testing.T) string {
	t.Helper()
	dump, err := a.Store.DumpForTests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dump
}
