package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opennemid/nemid/store"
)

const auditUsage = `usage: nemid audit verify [--anchor FILE]
  --anchor FILE  a file outside the database (another volume, a write-once store) holding
                 the head the last verify saw; the log must still hold that entry unchanged
                 (so entries cut from the end are found too), and the new head is written back`

// runAudit is `nemid audit verify`: it walks the configured database's
// audit log and says whether the hash chain holds, checking each keyed
// link under NEMID_HASH_KEY. A broken chain is an error (exit status 1)
// that names the first broken seq.
func runAudit(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(auditUsage)
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	anchor := fs.String("anchor", "", "")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return errors.New(auditUsage)
	}
	cfg, err := loadConfigForTools()
	if err != nil {
		return err
	}
	if cfg.HashKey == "" {
		return errors.New("nemid audit verify needs NEMID_HASH_KEY, every key that linked entries (the chain is keyed); in dev, the key `nemid dev` generated into NEMID_DATA_DIR")
	}
	// Read only: verifying changes nothing, not even the schema.
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("verify the audit log: %w", err)
	}
	if !v.Holds() {
		return fmt.Errorf("audit log: the chain is broken at seq %d: %s", v.BrokenSeq, v.Reason)
	}
	if *anchor != "" {
		if err := checkAnchor(ctx, st, *anchor, v); err != nil {
			return err
		}
	}
	fmt.Printf("audit log: the chain holds: %d entries, head hash %s\n", v.Count, v.HeadHash)
	switch {
	case v.Unkeyed > 0 && v.Unkeyed == v.Count:
		// Right after the upgrade; later, a chain rewritten without the key
		// and its boundary moved (docs/security.md "The audit log").
		fmt.Printf("warning: no entry is keyed: all %d were linked before the chain was keyed (plain SHA-256); "+
			"after the first append under this version that number must never grow\n", v.Count)
	case v.Unkeyed > 0:
		fmt.Printf("entries 1 to %d were linked before the chain was keyed (plain SHA-256); every later one is keyed\n", v.Unkeyed)
	}
	return nil
}

// checkAnchor holds the log to the head an earlier verify wrote to path
// ("seq hash"): that entry must still be there with that hash. A chain
// whose newest entries were deleted and whose head was moved back verifies
// by itself; against the anchor it does not. It then writes v's head as the
// new anchor (a missing file is the first anchor).
func checkAnchor(ctx context.Context, st *store.Store, path string, v store.AuditVerdict) error {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Printf("anchor: none yet at %s\n", path)
	case err != nil:
		return fmt.Errorf("read the anchor: %w", err)
	default:
		seq, hash, err := parseAnchor(string(b))
		if err != nil {
			return fmt.Errorf("anchor %s: %w", path, err)
		}
		got, err := st.AuditHashAt(ctx, seq)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("audit log: the chain is broken at seq %d: the anchor saw entry %d, the log now ends at %d: entries were cut from its end", seq, seq, v.Count)
		}
		if err != nil {
			return err
		}
		if got != hash {
			return fmt.Errorf("audit log: the chain is broken at seq %d: entry %d's hash is not the one the anchor saw: the log was rewritten from there", seq, seq)
		}
		fmt.Printf("anchor: entry %d is as the last verify saw it\n", seq)
	}
	return writeAnchor(path, v.Count, v.HeadHash)
}

func parseAnchor(s string) (int64, string, error) {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return 0, "", errors.New(`want one line "seq hash"`)
	}
	seq, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || seq < 0 {
		return 0, "", fmt.Errorf("bad seq %q", fields[0])
	}
	return seq, fields[1], nil
}

// writeAnchor replaces the anchor file whole (a temporary file renamed over
// it), so a crash leaves the old anchor or the new one.
func writeAnchor(path string, seq int64, hash string) error {
	if seq == 0 {
		return nil // an empty log anchors nothing
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".anchor-*")
	if err != nil {
		return fmt.Errorf("write the anchor: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := fmt.Fprintf(tmp, "%d %s\n", seq, hash); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write the anchor: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write the anchor: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the anchor: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
