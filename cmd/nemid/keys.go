package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/opennemid/nemid/domain"
)

// runKeys is `nemid keys rehash-cpr --from ID`: after a new key was put
// first in NEMID_HASH_KEY, rewrite every CPR lookup hash from the key it
// was made with (still listed, by id) to the new first key. CPR lookups
// always use one key — the one-open-issuance-per-CPR guard is a unique
// index on the hash — so the rotation is this offline step: stop the API
// and workers, run it, start them with the new NEMID_HASH_KEY.
func runKeys(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rehash-cpr" {
		return fmt.Errorf("usage: nemid keys rehash-cpr --from ID")
	}
	fs := flag.NewFlagSet("keys rehash-cpr", flag.ContinueOnError)
	from := fs.String("from", "", "id of the key the CPR lookup hashes were made with (kept in NEMID_HASH_KEY)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfigForTools()
	if err != nil {
		return err
	}
	keys, err := cfg.HashKeys()
	if err != nil {
		return err
	}
	oldKey, ok := keys.Key(*from)
	if *from == "" || !ok {
		return fmt.Errorf("--from: name the id of the old key, and keep that key in NEMID_HASH_KEY after the new first one")
	}
	if *from == keys.PrimaryID() {
		fmt.Println("the CPR lookup key is already the first key: nothing to rehash")
		return nil
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	changed, err := st.RehashCPRs(ctx, func(raw string) (string, string, error) {
		cpr, err := domain.ParseCPR(raw, now)
		if err != nil {
			return "", "", err
		}
		return domain.CPRLookupHash(oldKey, cpr), domain.CPRLookupHash(keys.Lookup(), cpr), nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("rehashed %d CPR lookup hashes from key %q to key %q\n", changed, *from, keys.PrimaryID())
	return nil
}
