package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/store"
)

const oidcUsage = `usage: nemid oidc client create --name N --redirect-uri U [--redirect-uri U2…] [--public-authority] [--confidential]`

// runOIDC registers OpenID Connect clients (DESIGN.md §11).
func runOIDC(ctx context.Context, args []string) error {
	if len(args) < 2 || args[0] != "client" || args[1] != "create" {
		return errors.New(oidcUsage)
	}
	fs := flag.NewFlagSet("oidc client create", flag.ContinueOnError)
	name := fs.String("name", "", "the service provider's name, shown on the login page")
	var uris multiFlag
	fs.Var(&uris, "redirect-uri", "a redirect URI, matched exactly (repeat for more)")
	public := fs.Bool("public-authority", false, "a public authority: may be granted the scope cpr")
	confidential := fs.Bool("confidential", false, "authenticates at the token endpoint with a client secret")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), oidcUsage)
	}
	spec := api.OIDCClientSpec{Name: *name, RedirectURIs: uris, PublicAuthority: *public, Confidential: *confidential}
	if broken := api.CheckOIDCClientSpec(spec); len(broken) > 0 {
		msgs := make([]string, len(broken))
		for i, d := range broken {
			msgs[i] = d.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := api.RegisterOIDCClient(ctx, st, spec, operator(store.AuditOIDCClientCreated), time.Now().UTC())
	if err != nil {
		return err
	}
	printClient(c)
	return nil
}

// printClient prints a registered client; its secret, when it has one,
// is shown this once.
func printClient(c api.OIDCClientView) {
	fmt.Printf("client_id: %s\n", c.ClientID)
	if c.ClientSecret != "" {
		fmt.Fprintln(os.Stderr, "the client secret is shown once and stored hashed; keep it safe")
		fmt.Printf("client_secret: %s\n", c.ClientSecret)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
