package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/opennemid/nemid/internal/codec"
	"github.com/opennemid/nemid/internal/loadgen"
	"github.com/opennemid/nemid/internal/wiring"
)

// runLoad drives a running system (`nemid dev`, or api + worker processes)
// as its humans do, on every path, end to end, and prints the report with
// the engine baseline of the same run (internal/loadgen). It writes only
// the synthetic people into the register and the staff's tokens into the
// configured database; everything else goes through the API.
func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	n := fs.Int("n", 200, "issuances to complete (a cap when --duration is set)")
	concurrency := fs.Int("concurrency", 20, "issuances in flight at once")
	mixSpec := fs.String("mix", "counter=1,bank=1,abroad=1", "weights of the paths")
	duration := fs.Duration("duration", 0, "stop starting new issuances after this (0: run all N)")
	apis := fs.String("api", "", "API base URLs, comma-separated, used round-robin (default http://$NEMID_HTTP_ADDR)")
	baseline := fs.Bool("baseline", true, "run the engine baseline of the same shape after the load")
	sample := fs.Int("sample", 30, "workflows per path whose histories are read for the engine cost")
	pdftotext := fs.Bool("pdftotext", false, "read PDFs with poppler's pdftotext when installed (default: the built-in reader)")
	poll := fs.Duration("poll", 0, "how often staff consoles and the post provider look again (default 100ms)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mix, err := loadgen.ParseMix(*mixSpec)
	if err != nil {
		return err
	}
	cfg, err := loadConfigForTools()
	if err != nil {
		return err
	}
	if *apis == "" {
		*apis = "http://" + cfg.HTTPAddr
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	payload, err := baselineCodec(cfg.CodecKeys)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tc, err := wiring.DialTemporal(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, wiring.Keys{Payload: payload}, quiet, nil)
	if err != nil {
		return err
	}
	defer tc.Close()
	extract := loadgen.GoExtractor
	if *pdftotext {
		var found bool
		if extract, found = loadgen.PdftotextExtractor(); !found {
			fmt.Fprintln(os.Stderr, "nemid load: pdftotext is not installed; reading PDFs with the built-in reader")
		}
	}
	var bases []string
	for _, u := range strings.Split(*apis, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			bases = append(bases, u)
		}
	}
	report, err := loadgen.Run(ctx, loadgen.Options{
		N: *n, Concurrency: *concurrency, Mix: mix, Duration: *duration, APIs: bases,
		Baseline: *baseline, Sample: *sample, FeeDKK: cfg.AbroadFeeDKK, Outside: st, Temporal: tc,
		Extract: extract, PollInterval: *poll, Out: os.Stdout, Log: os.Stderr,
	})
	if report != nil {
		report.Print(os.Stdout)
	}
	if err != nil {
		return err
	}
	if failed := report.TotalFailed(); failed > 0 {
		return fmt.Errorf("%d of %d issuances did not reach a logon", failed, report.Journeys)
	}
	return nil
}

// baselineCodec is the payload codec of the engine baseline's client and
// worker: the system's own kind (AES-GCM), so that the baseline pays for
// encrypting its payloads as the system does and the ratio compares like
// with like. The key is the configured one (NEMID_CODEC_KEY), or one made
// for this run: the load decodes none of the system's payloads (it reads
// histories only to count events).
func baselineCodec(configured string) (*codec.AESGCM, error) {
	if configured != "" {
		return codec.Parse(configured)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return codec.Parse("load:" + base64.StdEncoding.EncodeToString(key))
}
