package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
)

// runMigrate brings the schema up to date and seals the letter PDFs an
// earlier version stored in plaintext, each under a new key in
// NEMID_LETTER_KEY_DIR (the directory the worker and API share).
func runMigrate(ctx context.Context) error {
	cfg, err := loadConfigForTools()
	if err != nil {
		return err
	}
	keys, err := letterkeys.OpenDir(cfg.LetterKeyDir)
	if err != nil {
		return err
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	sealed, err := st.SealPlaintextLetters(ctx, keys)
	if err != nil {
		return fmt.Errorf("seal letters stored by an earlier version: %w", err)
	}
	if sealed > 0 {
		fmt.Printf("sealed %d letter PDFs stored in plaintext by an earlier version\n", sealed)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("database at schema version %d\n", v)
	return nil
}

// loadConfigForTools reads the configuration without requiring keys.
func loadConfigForTools() (config.Config, error) { return config.FromEnv() }

// migratedStore opens the configured database and brings its schema up to
// date; the operator tools need no keys.
func migratedStore(ctx context.Context) (*store.Store, error) {
	cfg, err := loadConfigForTools()
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func runToken(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: nemid token create --role R --scope S")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	role := fs.String("role", "", "caseworker, embassy, bank, post or admin")
	scope := fs.String("scope", "", "centre, representation, bank, post or all")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !api.ValidRole(*role) || *scope == "" {
		return fmt.Errorf("--role must be caseworker, embassy, bank, post or admin, and --scope is required")
	}
	if err := api.ValidScope(*role, *scope); err != nil {
		return err
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	token, err := st.CreateToken(ctx, *role, *scope)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "token for %s:%s (shown once; stored hashed):\n", *role, *scope)
	fmt.Println(token)
	return nil
}

func runRegistry(ctx context.Context, args []string) error {
	if len(args) != 2 || args[0] != "import" {
		return fmt.Errorf("usage: nemid registry import FILE.csv")
	}
	var r io.Reader = os.Stdin
	if args[1] != "-" {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	people, err := register.ParseCSV(r, time.Now())
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	changes, err := st.ImportPersons(ctx, people, time.Now().UTC())
	if err != nil {
		return err
	}
	fmt.Printf("imported %d people into the CPR register\n", len(people))
	for _, c := range changes {
		fmt.Printf("recorded register change %d: %s (a worker applies it within NEMID_REGISTER_SWEEP)\n", c.ID, c.Kind)
	}
	return nil
}
