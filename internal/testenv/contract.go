package testenv

import (
	"net/http"
	"sync"
	"testing"

	"github.com/opennemid/nemid/internal/contract"
)

// checkedServers are the base URLs whose server checks its own exchanges
// against openapi.json (contract.Handler); Do checks the others from the
// client side.
var checkedServers sync.Map // base URL → true

// checkContract wraps an in-process API so that every exchange it serves,
// whoever sends it, is validated against openapi.json; a violation fails t.
func checkContract(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	v, err := contract.Served()
	if err != nil {
		t.Fatal(err)
	}
	var pending sync.WaitGroup
	t.Cleanup(pending.Wait) // runs after the server's Close: every answer checked
	return v.Handler(h, contractReport(t), &pending)
}

// contractClient is client, its requests and answers validated against
// openapi.json, for servers that do not check themselves.
func contractClient(t testing.TB, base string, client *http.Client) *http.Client {
	t.Helper()
	if _, ok := checkedServers.Load(base); ok {
		return client
	}
	v, err := contract.Served()
	if err != nil {
		t.Fatal(err)
	}
	transport := client.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	checked := *client
	checked.Transport = v.Transport(transport, contractReport(t))
	return &checked
}

// contractReport fails t with a violation. A fuzz target may not fail its
// *testing.F, so there the violations are kept and reported at its end.
func contractReport(t testing.TB) func(string) {
	f, ok := t.(*testing.F)
	if !ok {
		return func(msg string) { t.Errorf("%s", msg) }
	}
	var mu sync.Mutex
	var kept []string
	f.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, msg := range kept {
			f.Errorf("%s", msg)
		}
	})
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, msg)
	}
}
