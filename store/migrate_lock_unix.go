//go:build unix

package store

import (
	"fmt"
	"os"
	"syscall"
)

// lockMigrations holds an exclusive flock on a file beside the SQLite
// database until unlock is called: one migrating process (or Store) at a
// time. The lock goes with the process, so a killed migrator frees it.
func lockMigrations(dbPath string) (unlock func(), err error) {
	f, err := os.OpenFile(dbPath+".migrate-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the migration lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
