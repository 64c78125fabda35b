package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
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

// loadConfigForTools reads the configuration without requiring keys;
// NEMID_HASH_KEY, when unset, is the dev key in NEMID_DATA_DIR if there is
// one (`nemid audit verify` and the commands that append to the audit log
// need it). It makes none: a key made up now would verify nothing.
func loadConfigForTools() (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.UseDevHashKey()
}

// migratedStore opens the configured database, creating it if need be, and
// brings its schema up to date. On the dev SQLite database it also makes
// the dev hash key if this command comes before `nemid dev` (the audited
// token and oidc commands link entries with it), as `nemid dev` would;
// beside Postgres NEMID_HASH_KEY is the operator's.
func migratedStore(ctx context.Context) (*store.Store, error) {
	cfg, err := loadConfigForTools()
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		if err := cfg.EnsureDevHashKey(); err != nil {
			return nil, err
		}
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

const tokenUsage = `usage: nemid token create --role R --scope S [--name "Mette Jensen"] [--ttl 2160h]
       nemid token list
       nemid token revoke ID`

// runToken manages API tokens (DESIGN.md §8) directly in the database,
// for the first admin token and for operators.
func runToken(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	switch args[0] {
	case "create":
		return runTokenCreate(ctx, args[1:])
	case "list":
		if len(args) != 1 {
			return errors.New(tokenUsage)
		}
		return runTokenList(ctx)
	case "revoke":
		if len(args) != 2 || args[1] == "" {
			return errors.New(tokenUsage)
		}
		return runTokenRevoke(ctx, args[1])
	}
	return errors.New(tokenUsage)
}

// runTokenCreate prints the new token alone on the last line of standard
// output (scripts read it from there), after a line naming its id.
func runTokenCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	role := fs.String("role", "", "caseworker, embassy, bank, post or admin")
	scope := fs.String("scope", "", "centre, representation, bank, post or all")
	name := fs.String("name", "", "who holds the token (default role:scope)")
	ttl := fs.String("ttl", "", "how long the token is valid, as a Go duration (default: no expiry)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), tokenUsage)
	}
	var ttlArg *string
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "ttl" {
			ttlArg = ttl
		}
	})
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	centres, err := api.CentreCodes(ctx, st)
	if err != nil {
		return err
	}
	spec, broken := api.ParseTokenSpec(*role, *scope, *name, ttlArg, centres)
	if len(broken) > 0 {
		msgs := make([]string, len(broken))
		for i, d := range broken {
			msgs[i] = d.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	t, token, err := st.IssueToken(ctx, spec, store.AuditToken(operator(store.AuditTokenCreated)))
	if err != nil {
		return err
	}
	expires := "never expires"
	if t.ExpiresAt != nil {
		expires = "expires " + t.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintln(os.Stderr, "the token is shown once and stored hashed; keep it safe")
	fmt.Printf("token %s for %q (%s:%s), %s:\n", t.ID, t.Name, t.Role, t.Scope, expires)
	fmt.Println(token)
	return nil
}

func runTokenList(ctx context.Context) error {
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tROLE:SCOPE\tNAME\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
	after := ""
	for {
		page, more, err := st.ListTokens(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, t := range page {
			fmt.Fprintf(w, "%s\t%s:%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Scope, t.Name, t.CreatedAt.UTC().Format(time.RFC3339),
				instant(t.ExpiresAt), instant(t.RevokedAt), instant(t.LastUsedAt))
		}
		if !more {
			break
		}
		after = page[len(page)-1].ID
	}
	return w.Flush()
}

func instant(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func runTokenRevoke(ctx context.Context, id string) error {
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.RevokeToken(ctx, id, time.Now(), store.AuditToken(operator(store.AuditTokenRevoked)))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no token with id %q (see nemid token list)", id)
	}
	if err != nil {
		return err
	}
	fmt.Printf("token %s for %q (%s:%s) revoked at %s\n", t.ID, t.Name, t.Role, t.Scope, t.RevokedAt.UTC().Format(time.RFC3339))
	return nil
}

func runRegistry(ctx context.Context, args []string) error {
	if len(args) != 2 || args[0] != "import" {
		return fmt.Errorf("usage: nemid registry import FILE.csv")
	}
	r, err := openInput(args[1])
	if err != nil {
		return err
	}
	defer r.Close()
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

// operator is the audit entry of a change made with the nemid command on
// the database itself: the actor is the command, named by the OS user who
// ran it (what an auditor can trace to a person with shell access).
func operator(action string) store.AuditEntry {
	e := store.AuditEntry{Actor: "operator:cli", Action: action}
	if u, err := user.Current(); err == nil && u.Username != "" {
		e.ActorName = &u.Username
	}
	return e
}

// openInput opens an import's file, or standard input for "-".
func openInput(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(name)
}
