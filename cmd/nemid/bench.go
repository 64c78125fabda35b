package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating and dropping the bench's database
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/telemetry"
	"github.com/opennemid/nemid/internal/wiring"
	"github.com/opennemid/nemid/store"
)

const benchUsage = "usage: nemid bench readmodel [--sizes 10k,100k,1M,10M] [--samples 200] [--db nemid_scale] [--keep] [--explain] [--out FILE]"

const benchHelp = `Creates the Postgres database --db on the server DATABASE_URL points at,
migrates it, grows its issuances to each size with the generator of
"nemid seed issuances", and at each size measures list pages, counts and
searches by CPR through the real HTTP handlers (the API in this process, on
a loopback port), beside GET /healthz as the baseline of the same run. It
prints the figures as Markdown tables and drops the database at the end
(unless --keep).`

func runBench(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "readmodel" {
		fmt.Fprintln(os.Stderr, benchHelp)
		return errors.New(benchUsage)
	}
	fs := flag.NewFlagSet("bench readmodel", flag.ContinueOnError)
	sizesArg := fs.String("sizes", "10k,100k,1M,10M", "table sizes to measure at, in increasing order")
	samples := fs.Int("samples", 200, "requests per operation and size")
	dbName := fs.String("db", "nemid_scale", "the database to create (and drop) on the server")
	keep := fs.Bool("keep", false, "keep the database at the end")
	explain := fs.Bool("explain", false, "also print the list queries' plans (EXPLAIN ANALYZE) at each size")
	out := fs.String("out", "", "also write the tables to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), benchUsage)
	}
	var sizes []int64
	for _, s := range strings.Split(*sizesArg, ",") {
		n, err := parseCount(strings.TrimSpace(s))
		if err != nil || n <= 0 || (len(sizes) > 0 && n <= sizes[len(sizes)-1]) {
			return fmt.Errorf("--sizes: want increasing counts such as 10k,100k,1M, got %q", *sizesArg)
		}
		sizes = append(sizes, n)
	}
	if *samples < 10 {
		return errors.New("--samples: at least 10")
	}
	if *dbName == sharedTestDatabase || !validDBName(*dbName) {
		return fmt.Errorf("--db: want a database name of letters, digits and _ other than %q", sharedTestDatabase)
	}
	b, err := newBench(ctx, *dbName)
	if err != nil {
		return err
	}
	defer func() {
		if err := b.close(ctx, *keep); err != nil {
			fmt.Fprintln(os.Stderr, "nemid:", err)
		}
	}()
	var results []sizeResult
	for _, size := range sizes {
		r, err := b.measureAt(ctx, size, *samples, *explain)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	report := benchReport(results, *samples)
	fmt.Print(report)
	if *out != "" {
		return os.WriteFile(*out, []byte(report), 0o644)
	}
	return nil
}

func validDBName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

// bench is the database under measurement and the API serving it.
type bench struct {
	admin   *sql.DB // the server's maintenance connection: creates and drops the database
	name    string
	st      *store.Store
	srv     *http.Server
	base    string
	http    *http.Client
	tokens  map[string]string // role:scope → token
	probes  []string          // CPR numbers that have issuances
	hashKey []byte
	// accepted are the issuances the write measurements accepted, newest
	// last: the status move moves the one accepted just before it.
	accepted []string
}

// Principals of the measurements: the smallest representation and the
// smallest bank the generator uses, so their pages are the sparsest.
const (
	benchAdmin      = "admin:all"
	benchCaseworker = "caseworker:KBH"
	benchEmbassy    = "embassy:BANGKOK"
	benchBank       = "bank:0521"
)

func newBench(ctx context.Context, name string) (*bench, error) {
	server := os.Getenv("DATABASE_URL")
	if server == "" {
		return nil, errors.New("DATABASE_URL is not set: point it at the Postgres server to measure on (any database there; the bench creates its own)")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("DATABASE_URL: the bench needs a postgres:// URL")
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("create database %s (drop it first if an earlier run kept it): %w", name, err)
	}
	b := &bench{admin: admin, name: name, tokens: map[string]string{}}
	fmt.Fprintf(os.Stderr, "created database %s at %s\n", name, u.Host)
	u.Path = "/" + name
	if b.st, err = store.Open(u.String(), ""); err != nil {
		return b, err
	}
	if err := b.st.Migrate(ctx); err != nil {
		return b, err
	}
	if err := b.startAPI(ctx); err != nil {
		return b, err
	}
	return b, b.addProbes(ctx)
}

// startAPI serves api.New on a loopback port, wired as `nemid api` is, with
// fresh keys and a Temporal client that never connects (the measured
// routes read the database only).
func (b *bench) startAPI(ctx context.Context) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	letterDir, err := os.MkdirTemp("", "nemid-bench-letter-keys")
	if err != nil {
		return err
	}
	cfg.HashKey, cfg.CodecKeys, cfg.LetterKeyDir = randomB64(), "bench:"+randomB64(), letterDir
	keys, err := wiring.LoadKeys(cfg)
	if err != nil {
		return err
	}
	b.hashKey = keys.Hash.Lookup()
	b.st.UseHashKeys(keys.Hash)            // the audited searches link the audit chain
	log := telemetry.NewLogger(io.Discard) // formatted as in production, written nowhere
	tc, err := client.NewLazyClient(client.Options{HostPort: cfg.TemporalAddress})
	if err != nil {
		return err
	}
	e := api.New(wiring.APIDeps(b.st, tc, cfg, keys, log, prometheus.NewRegistry(), cfg.TaskQueue))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	b.base = "http://" + ln.Addr().String()
	b.http = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	for _, p := range []string{benchAdmin, benchCaseworker, benchEmbassy, benchBank} {
		role, scope, _ := strings.Cut(p, ":")
		if b.tokens[p], err = b.st.CreateToken(ctx, role, scope); err != nil {
			return err
		}
	}
	return nil
}

func randomB64() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// addProbes records 20 people with three issuances each (two ended, one
// open, at different offices) under real lookup hashes, so the searches
// by CPR find something; the rest of the rows are generated without a CPR.
func (b *bench) addProbes(ctx context.Context) error {
	offices := []func(*store.Issuance){
		func(i *store.Issuance) { i.Path, i.Centre = "counter", ptr("KBH") },
		func(i *store.Issuance) { i.Path, i.Bank = "bank", ptr("3000") },
		func(i *store.Issuance) { i.Path, i.Representation = "abroad", ptr("LONDON") },
	}
	now := time.Now()
	for p := range 20 {
		raw := fmt.Sprintf("%02d%02d%02d%04d", 1+p, 1+p%12, 60+p, 1000+p)
		cpr, err := domain.ParseCPR(raw, now)
		if err != nil {
			return fmt.Errorf("probe CPR %d: %w", p, err)
		}
		b.probes = append(b.probes, raw)
		for k, status := range []string{"expired", "active", "letters_posted"} {
			// Dated in the generator's first hours: among the oldest rows at every size.
			iss := benchIssuance(store.SeedEpoch.Add(8*time.Hour), domain.CPRLookupHash(b.hashKey, cpr), cpr.Masked(), status)
			offices[(p+k)%len(offices)](&iss)
			if err := b.st.CreateIssuance(ctx, &iss, nil); err != nil {
				return fmt.Errorf("probe issuance: %w", err)
			}
		}
	}
	return nil
}

func ptr(s string) *string { return &s }

// benchIssuance is an issuance dated among the generated ones (its id a
// UUIDv7 of a moment in the hour before at), so what the measurements
// write lands where recent issuances do in every index without crowding
// the pages of the sizes measured later.
func benchIssuance(at time.Time, cprHash, masked, status string) store.Issuance {
	var r [4]byte
	_, _ = rand.Read(r[:])
	at = at.Add(-time.Duration(binary.BigEndian.Uint32(r[:])%3600) * time.Second).UTC()
	return store.Issuance{ID: uuidV7At(at), Path: "counter", Status: status, CPRHash: cprHash, CPRMasked: masked,
		Reasons: "[]", CreatedAt: at, UpdatedAt: at}
}

// seededUntil is when the generator's newest row of a table of rows
// issuances was created.
func seededUntil(rows int64) time.Time {
	return store.SeedEpoch.Add(time.Duration(rows) * store.SeedStep)
}

// uuidV7At lays a random UUIDv7 out with the given instant.
func uuidV7At(at time.Time) string {
	var u uuid.UUID
	_, _ = rand.Read(u[:])
	ms := uint64(at.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

func (b *bench) close(ctx context.Context, keep bool) error {
	if b.srv != nil {
		_ = b.srv.Close()
	}
	if b.st != nil {
		_ = b.st.Close()
	}
	defer b.admin.Close()
	if keep {
		fmt.Fprintf(os.Stderr, "kept database %s\n", b.name)
		return nil
	}
	if _, err := b.admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+b.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", b.name, err)
	}
	fmt.Fprintf(os.Stderr, "dropped database %s\n", b.name)
	return nil
}

// operation is one measured request (or store call); i numbers the sample,
// so an operation can vary its parameters from one sample to the next. It
// answers how long what it measures took.
type operation struct {
	name string
	do   func(ctx context.Context, i int) (time.Duration, error)
}

// timed measures f whole.
func timed(f func() error) (time.Duration, error) {
	began := time.Now()
	err := f()
	return time.Since(began), err
}

// sizeResult is what one size measured: each operation's latencies.
type sizeResult struct {
	size      int64
	names     []string
	latencies map[string][]time.Duration
	notes     []string
}

func (b *bench) measureAt(ctx context.Context, size int64, samples int, explain bool) (sizeResult, error) {
	res := sizeResult{size: size, latencies: map[string][]time.Duration{}}
	have, err := b.st.IssuanceRows(ctx)
	if err != nil {
		return res, err
	}
	if grow := size - have; grow > 0 {
		began := time.Now()
		fmt.Fprintf(os.Stderr, "growing to %d issuances …\n", size)
		err := b.st.SeedIssuances(ctx, grow, 100_000, func(rows int64, _ time.Duration) {
			fmt.Fprintf(os.Stderr, "  %d\n", rows)
		})
		if err != nil {
			return res, err
		}
		res.notes = append(res.notes, fmt.Sprintf("grown by %d rows in %s", grow, time.Since(began).Round(time.Second)))
	}
	if err := b.st.Analyze(ctx); err != nil {
		return res, err
	}
	cwPage10, err := b.cursorOfPage(ctx, benchCaseworker, 10)
	if err != nil {
		return res, err
	}
	adminPage10, err := b.cursorOfPage(ctx, benchAdmin, 10)
	if err != nil {
		return res, err
	}
	rows, err := b.st.IssuanceRows(ctx)
	if err != nil {
		return res, err
	}
	ops := b.operations(cwPage10, adminPage10, seededUntil(rows))
	for _, op := range ops {
		res.names = append(res.names, op.name)
		for i := range 5 { // warm the caches and the connections
			if _, err := op.do(ctx, i); err != nil {
				return res, fmt.Errorf("%s: %w", op.name, err)
			}
		}
	}
	// Rounds of one request per operation: whatever else the machine does
	// meanwhile falls on every operation and on the baseline alike.
	fmt.Fprintf(os.Stderr, "measuring at %d issuances: %d rounds of %d operations\n", size, samples, len(ops))
	for i := range samples {
		for _, op := range ops {
			took, err := op.do(ctx, i)
			if err != nil {
				return res, fmt.Errorf("%s: %w", op.name, err)
			}
			res.latencies[op.name] = append(res.latencies[op.name], took)
		}
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.notes = append(res.notes, "load average "+strings.Join(strings.Fields(string(load))[:3], " ")+" on "+fmt.Sprint(goruntime.NumCPU())+" CPUs")
	}
	notes, err := b.checkCounts(ctx, &res)
	res.notes = append(res.notes, notes...)
	if err != nil {
		return res, err
	}
	if explain {
		if err := b.explain(ctx, size); err != nil {
			return res, err
		}
	}
	return res, nil
}

// operations are the measured requests at one size.
func (b *bench) operations(cwPage10, adminPage10 string, newest time.Time) []operation {
	statuses := []string{"received", "rejected", "letters_posted", "awaiting_handover", "awaiting_pickup",
		"awaiting_activation", "active", "expired", "cancelled"}
	centres := []string{"KBH", "AAR", "ODE", "AAL"}
	get := func(who, path string) func(context.Context, int) (time.Duration, error) {
		return func(ctx context.Context, _ int) (time.Duration, error) {
			return timed(func() error { return b.call(ctx, who, "GET", path, nil) })
		}
	}
	getEach := func(who string, path func(i int) string) func(context.Context, int) (time.Duration, error) {
		return func(ctx context.Context, i int) (time.Duration, error) {
			return timed(func() error { return b.call(ctx, who, "GET", path(i), nil) })
		}
	}
	search := func(who string) func(context.Context, int) (time.Duration, error) {
		return func(ctx context.Context, i int) (time.Duration, error) {
			return timed(func() error {
				return b.call(ctx, who, "POST", "/v1/issuances/search", map[string]string{"cpr": b.probes[i%len(b.probes)]})
			})
		}
	}
	return []operation{
		{"GET /healthz (baseline)", get("", "/healthz")},
		{"list, admin, first page", get(benchAdmin, "/v1/issuances")},
		{"list, caseworker (KBH + bank path), first page", get(benchCaseworker, "/v1/issuances")},
		{"list, embassy (BANGKOK, smallest), first page", get(benchEmbassy, "/v1/issuances")},
		{"list, bank (0521, smallest), first page", get(benchBank, "/v1/issuances")},
		{"list, admin, status=each of 9", getEach(benchAdmin, func(i int) string {
			return "/v1/issuances?status=" + statuses[i%len(statuses)]
		})},
		{"list, caseworker, status=each of 9", getEach(benchCaseworker, func(i int) string {
			return "/v1/issuances?status=" + statuses[i%len(statuses)]
		})},
		{"list, admin, status × centre (36 pairs)", getEach(benchAdmin, func(i int) string {
			return "/v1/issuances?status=" + statuses[i%len(statuses)] + "&centre=" + centres[(i/len(statuses))%len(centres)]
		})},
		{"list, admin, page 10 by cursor", get(benchAdmin, "/v1/issuances?cursor="+adminPage10)},
		{"list, caseworker, page 10 by cursor", get(benchCaseworker, "/v1/issuances?cursor="+cwPage10)},
		{"counts, admin", get(benchAdmin, "/v1/issuances/counts")},
		{"counts, caseworker", get(benchCaseworker, "/v1/issuances/counts")},
		{"counts, embassy", get(benchEmbassy, "/v1/issuances/counts")},
		{"search by CPR, caseworker (audited)", search(benchCaseworker)},
		{"search by CPR, admin (audited)", search(benchAdmin)},
		{"write: accept (store.CreateIssuance, counted)", func(ctx context.Context, i int) (time.Duration, error) {
			iss := benchIssuance(newest, "bench-write-"+uuid.NewString(), "010190-XXXX", "received")
			iss.Centre = ptr(centres[i%len(centres)])
			took, err := timed(func() error { return b.st.CreateIssuance(ctx, &iss, nil) })
			b.accepted = append(b.accepted, iss.ID)
			return took, err
		}},
		{"write: status move (store.ApplyTransition, counted)", func(ctx context.Context, _ int) (time.Duration, error) {
			// The issuance the operation before accepted.
			id := b.accepted[len(b.accepted)-1]
			return timed(func() error {
				return b.st.ApplyTransition(ctx, store.Transition{IssuanceID: id, Status: "letters_posted",
					Event: store.Event{DedupeKey: "letters_posted", At: time.Now().UTC(), Type: "letter_queued", Actor: "system"}})
			})
		}},
	}
}

// call sends one request as who (empty: no token) and wants a 200.
func (b *bench) call(ctx context.Context, who, method, path string, body any) error {
	_, err := b.callJSON(ctx, who, method, path, body)
	return err
}

func (b *bench) callJSON(ctx context.Context, who, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return nil, err
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+b.tokens[who])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s answered %d: %.200s", method, path, res.StatusCode, out)
	}
	return out, nil
}

// cursorOfPage follows next_cursor from the first page of who's list to
// the cursor that fetches page n.
func (b *bench) cursorOfPage(ctx context.Context, who string, n int) (string, error) {
	cursor := ""
	for range n - 1 {
		path := "/v1/issuances"
		if cursor != "" {
			path += "?cursor=" + cursor
		}
		raw, err := b.callJSON(ctx, who, "GET", path, nil)
		if err != nil {
			return "", err
		}
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", err
		}
		if page.NextCursor == "" {
			return "", fmt.Errorf("%s's list ends before page %d", who, n)
		}
		cursor = page.NextCursor
	}
	return cursor, nil
}

// checkCounts compares the counters with a GROUP BY over the issuances for
// the admin's and the caseworker's scopes (they must be equal), and times
// that GROUP BY: what the counts would cost without the counters.
func (b *bench) checkCounts(ctx context.Context, res *sizeResult) ([]string, error) {
	var notes []string
	for _, sc := range []struct {
		name  string
		scope store.Scope
	}{{"admin", store.Scope{}}, {"caseworker", store.Scope{Centre: "KBH", BankPathToo: true}}} {
		kept, err := b.st.CountIssuances(ctx, store.CountFilter{Scope: sc.scope})
		if err != nil {
			return notes, err
		}
		var took []time.Duration
		var scanned map[string]int64
		for range 3 {
			began := time.Now()
			if scanned, err = b.st.CountIssuancesByScan(ctx, store.CountFilter{Scope: sc.scope}); err != nil {
				return notes, err
			}
			took = append(took, time.Since(began))
		}
		name := "GROUP BY status over issuances, " + sc.name + " (3 runs; what the counters replace)"
		res.latencies[name] = took
		res.names = append(res.names, name)
		if !mapsEqual(kept, scanned) {
			return notes, fmt.Errorf("the %s's counters %v differ from the issuances counted %v", sc.name, kept, scanned)
		}
		notes = append(notes, fmt.Sprintf("%s counts equal the GROUP BY over the issuances", sc.name))
	}
	return notes, nil
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// explain prints the plans of the list's queries as the store runs them.
func (b *bench) explain(ctx context.Context, size int64) error {
	cw := store.Scope{Centre: "KBH", BankPathToo: true}
	cases := []struct {
		name string
		f    store.ListFilter
	}{
		{"admin, first page", store.ListFilter{}},
		{"admin, status=awaiting_handover", store.ListFilter{Status: "awaiting_handover"}},
		{"admin, centre=AAL", store.ListFilter{Centre: "AAL"}},
		{"admin, status=awaiting_pickup and centre=KBH (no row)", store.ListFilter{Status: "awaiting_pickup", Centre: "KBH"}},
		{"caseworker KBH, first page", store.ListFilter{Scope: cw}},
		{"caseworker KBH, status=awaiting_pickup (no row)", store.ListFilter{Scope: cw, Status: "awaiting_pickup"}},
		{"embassy BANGKOK, first page", store.ListFilter{Scope: store.Scope{Representation: "BANGKOK"}}},
		{"bank 0521, first page", store.ListFilter{Scope: store.Scope{Bank: "0521"}}},
		{"bank 0521, status=received", store.ListFilter{Scope: store.Scope{Bank: "0521"}, Status: "received"}},
	}
	for _, c := range cases {
		c.f.Limit = 50
		plan, err := b.st.ExplainList(ctx, c.f)
		if err != nil {
			return err
		}
		fmt.Printf("\n### Plan at %s rows: %s\n\n```\n%s\n```\n", humanCount(size), c.name, plan)
	}
	return nil
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func humanCount(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// benchReport renders the measurements: latency per size (p50 / p99, ms),
// how the p99 grew from the smallest size to the largest, and each p99 as a
// multiple of the baseline's p99 at the same size.
func benchReport(results []sizeResult, samples int) string {
	var w strings.Builder
	first, last := results[0], results[len(results)-1]
	fmt.Fprintf(&w, "Latency in ms, p50 / p99 over %d samples per operation and size (requests in rounds, one at a time).\n\n", samples)
	fmt.Fprint(&w, "| operation |")
	for _, r := range results {
		fmt.Fprintf(&w, " %s |", humanCount(r.size))
	}
	fmt.Fprintf(&w, " p99 %s ÷ %s |\n|---|", humanCount(last.size), humanCount(first.size))
	for range results {
		fmt.Fprint(&w, "---|")
	}
	fmt.Fprintln(&w, "---|")
	for _, name := range last.names {
		fmt.Fprintf(&w, "| %s |", name)
		for _, r := range results {
			d := r.latency(name)
			if len(d) == 0 {
				fmt.Fprint(&w, " – |")
				continue
			}
			fmt.Fprintf(&w, " %s / %s |", ms(percentile(d, 50)), ms(percentile(d, 99)))
		}
		a, z := first.latency(name), last.latency(name)
		if len(a) > 0 && len(z) > 0 {
			fmt.Fprintf(&w, " %.2f× |\n", float64(percentile(z, 99))/float64(percentile(a, 99)))
		} else {
			fmt.Fprintln(&w, " – |")
		}
	}
	fmt.Fprint(&w, "\nEach p99 as a multiple of GET /healthz's p99 at the same size (same run):\n\n| operation |")
	for _, r := range results {
		fmt.Fprintf(&w, " %s |", humanCount(r.size))
	}
	fmt.Fprint(&w, "\n|---|")
	for range results {
		fmt.Fprint(&w, "---|")
	}
	fmt.Fprintln(&w)
	for _, name := range last.names {
		if strings.HasPrefix(name, "GROUP BY") || strings.HasPrefix(name, "GET /healthz") {
			continue
		}
		fmt.Fprintf(&w, "| %s |", name)
		for _, r := range results {
			d, base := r.latency(name), r.latency(last.names[0])
			fmt.Fprintf(&w, " %.1f× |", float64(percentile(d, 99))/float64(percentile(base, 99)))
		}
		fmt.Fprintln(&w)
	}
	fmt.Fprintln(&w)
	for _, r := range results {
		fmt.Fprintf(&w, "- %s: %s\n", humanCount(r.size), strings.Join(r.notes, "; "))
	}
	return w.String()
}

func (r sizeResult) latency(name string) []time.Duration { return r.latencies[name] }
