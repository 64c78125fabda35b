package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

const seedUsage = "usage: nemid seed issuances --n 10000000 [--batch 100000] [--allow-test-database]"

const seedHelp = `Adds N generated issuances (with their received events, counted in the
per-status counters) to the Postgres database named by DATABASE_URL, for
measuring the read model at scale. It never runs on SQLite, needs DATABASE_URL
set explicitly, and refuses the database named "test" that the test suites
share unless --allow-test-database is given.`

// sharedTestDatabase is the database the test suites share (HELPERS.md):
// generated rows there would disturb every other test.
const sharedTestDatabase = "test"

func runSeed(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "issuances" {
		fmt.Fprintln(os.Stderr, seedHelp)
		return errors.New(seedUsage)
	}
	fs := flag.NewFlagSet("seed issuances", flag.ContinueOnError)
	n := fs.String("n", "", "how many issuances to add (10000, 10k, 1M …)")
	batch := fs.Int64("batch", 100_000, "rows per transaction")
	allowTest := fs.Bool("allow-test-database", false, `also run against the database named "test"`)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), seedUsage)
	}
	count, err := parseCount(*n)
	if err != nil || count <= 0 {
		return fmt.Errorf("--n: want a positive number such as 10000, 10k or 10M\n%s", seedUsage)
	}
	dbURL := os.Getenv("DATABASE_URL")
	name, err := seedTarget(dbURL, *allowTest)
	if err != nil {
		return err
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	before, err := st.IssuanceRows(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("adding %d generated issuances (and their received events) to database %q at %s, which holds %d; %d rows per transaction\n",
		count, name, hostOf(dbURL), before, *batch)
	began := time.Now()
	err = st.SeedIssuances(ctx, count, *batch, func(rows int64, took time.Duration) {
		fmt.Printf("  %d rows (batch %.1f s, %.0f rows/s overall)\n", rows, took.Seconds(),
			float64(rows-before)/time.Since(began).Seconds())
	})
	if err != nil {
		return err
	}
	fmt.Printf("added %d issuances in %s; analysing the tables for the planner\n", count, time.Since(began).Round(time.Second))
	return st.Analyze(ctx)
}

// seedTarget checks that DATABASE_URL names a Postgres database other than
// the shared test database, and answers its name.
func seedTarget(dbURL string, allowTest bool) (string, error) {
	if dbURL == "" {
		return "", errors.New("DATABASE_URL is not set: the generator writes millions of rows, so name the Postgres database explicitly")
	}
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("DATABASE_URL: the generator needs a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		name = u.User.Username() // libpq's default database
	}
	if name == sharedTestDatabase && !allowTest {
		return "", fmt.Errorf("DATABASE_URL names the database %q that the test suites share; use a database of your own (or --allow-test-database)", name)
	}
	return name, nil
}

func hostOf(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Host
}

// parseCount reads 10000, 10k, 10K, 1M, 1.5M.
func parseCount(s string) (int64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult, s = 1e6, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return 0, err
	}
	return int64(f * mult), nil
}

// runReadModel: `nemid readmodel recount` rebuilds the per-status
// counters from the issuances, writers waiting meanwhile. Run it once
// after a rolling upgrade to the version that made the counters, when no
// older process writes any more.
func runReadModel(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] != "recount" {
		return errors.New("usage: nemid readmodel recount")
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	if err := st.RecountIssuances(ctx); err != nil {
		return err
	}
	fmt.Printf("recounted the issuances per status in %s\n", time.Since(began).Round(time.Millisecond))
	return nil
}
