package main

import (
	"context"
	"errors"
	"fmt"
)

// runAudit is `nemid audit verify`: it walks the configured database's
// audit log and says whether the hash chain holds, checking each keyed
// link under NEMID_HASH_KEY. A broken chain is an error (exit status 1)
// that names the first broken seq.
func runAudit(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] != "verify" {
		return fmt.Errorf("usage: nemid audit verify")
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
