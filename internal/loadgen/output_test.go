package loadgen

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// The progress line and the failure log may be one writer (a terminal, a
// test's buffer) written from different goroutines at once: every line
// arrives whole, and the race detector finds no unguarded write.
func TestProgressAndFailureLogShareOneWriter(t *testing.T) {
	var out bytes.Buffer // not safe for concurrent use on its own
	r := &runner{opts: Options{Log: &out}, calls: newCalls()}
	p := newProgress(&out, &r.outMu, r.calls)

	const each = 50
	var wg sync.WaitGroup
	for i := range each {
		wg.Go(p.line)
		wg.Go(func() { r.logf("journey %d failed", i) })
	}
	wg.Wait()

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	progress, failures, capped := 0, 0, 0
	for _, l := range lines {
		switch {
		case strings.Contains(l, "active/s"):
			progress++
		case strings.HasPrefix(l, "load: journey ") && strings.HasSuffix(l, " failed"):
			failures++
		case l == "load: further failures only counted":
			capped++
		default:
			t.Errorf("a line came out mixed: %q", l)
		}
	}
	if progress != each || failures != maxLogged || capped != 1 {
		t.Errorf("progress lines %d (want %d), failures %d (want %d), cap notes %d (want 1)", progress, each, failures, maxLogged, capped)
	}
}
