// Command nemid runs the NemID issuance pipeline: `nemid dev` for a laptop,
// `nemid worker` and `nemid api` for production, and the operator tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `nemid — the NemID issuance pipeline

Usage:
  nemid dev                                  everything in one process for a laptop
  nemid worker                               run the Temporal worker
  nemid api                                  serve the HTTP API and console
  nemid migrate                              apply database migrations and exit
  nemid token create --role R --scope S [--name N] [--ttl 2160h]
                                             print a new API token (alone on the last line)
  nemid token list                           list API tokens (never the tokens themselves)
  nemid token revoke ID                      revoke an API token at once
  nemid registry import FILE.csv             load people into the built-in CPR register
  nemid centres import FILE.csv              add or change centres (hours, slot length, desks)
  nemid audit verify [--anchor FILE]         check the audit log's hash chain, and that it still holds the
                                             head FILE saw; names the first broken seq
  nemid oidc client create --name N --redirect-uri U [--public-authority] [--confidential]
                                             register an OpenID Connect client (service provider)
  nemid keys rehash-cpr --from ID            after a NEMID_HASH_KEY rotation, rewrite CPR lookup hashes (offline)
  nemid load [--n 200] [--concurrency 20] [--mix counter=1,bank=1,abroad=1] [--duration D]
             [--api URL[,URL…]] [--baseline=true] [--sample 30] [--pdftotext]
                                             act as every human on all three paths against a running
                                             system, end to end to an active NemID and one logon; print
                                             throughput, latencies, errors, the engine cost per issuance
                                             and the ratio to a bare-workflow baseline of the same run
  nemid seed issuances --n 10M               add generated issuances to a Postgres database (DATABASE_URL)
  nemid bench readmodel [--sizes 10k,1M]     measure list, count and search latency as the table grows
  nemid readmodel recount                    rebuild the per-status counters from the issuances

Configuration comes from the environment; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nemid:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Print(usage)
		return fmt.Errorf("name a command")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx)
	case "worker":
		return runWorkerCmd(ctx)
	case "api":
		return runAPICmd(ctx)
	case "migrate":
		return runMigrate(ctx)
	case "token":
		return runToken(ctx, args[1:])
	case "registry":
		return runRegistry(ctx, args[1:])
	case "centres":
		return runCentres(ctx, args[1:])
	case "keys":
		return runKeys(ctx, args[1:])
	case "audit":
		return runAudit(ctx, args[1:])
	case "oidc":
		return runOIDC(ctx, args[1:])
	case "load":
		return runLoad(ctx, args[1:])
	case "seed":
		return runSeed(ctx, args[1:])
	case "bench":
		return runBench(ctx, args[1:])
	case "readmodel":
		return runReadModel(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Print(usage)
	return fmt.Errorf("unknown command %q", args[0])
}
