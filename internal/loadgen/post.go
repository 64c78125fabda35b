package loadgen

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// postProvider is the print-and-post provider: it drains the letter queue
// (GET /v1/letters?status=queued), fetches each letter's PDF, dispatches it
// and delivers it to the person. It handles only the letters of this run's
// issuances; anything else in the queue is left for its own provider.
type postProvider struct {
	r        *runner
	mu       sync.Mutex
	expected map[string]*journey // issuance id → journey
	taken    map[string]bool     // letter ids being handled or done
	work     chan letterItem
}

type letterItem struct {
	ID         string `json:"id"`
	IssuanceID string `json:"issuance_id"`
	Kind       string `json:"kind"`
}

func newPostProvider(r *runner) *postProvider {
	return &postProvider{r: r, expected: map[string]*journey{}, taken: map[string]bool{}, work: make(chan letterItem)}
}

// expect registers an issuance whose letters the person waits for.
func (p *postProvider) expect(j *journey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	j.mailbox = newMailbox()
	p.expected[j.id] = j
}

// run drains the queue until ctx ends, with workers letters in hand at once.
func (p *postProvider) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for l := range p.work {
				p.dispatch(ctx, l)
			}
		})
	}
	for ctx.Err() == nil {
		found := p.drain(ctx)
		if !found {
			_ = sleep(ctx, p.r.opts.PollInterval)
		}
	}
	close(p.work)
	wg.Wait()
}

// drain reads every page of the queue once and hands out this run's new
// letters; it reports whether there were any.
func (p *postProvider) drain(ctx context.Context) bool {
	found := false
	cursor := ""
	for {
		q := url.Values{"status": {"queued"}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		ans, err := p.r.api.do(ctx, request{route: "GET /v1/letters", path: "/v1/letters?" + q.Encode(), token: p.r.staff.post}, http.StatusOK)
		if err != nil {
			if ctx.Err() == nil { // not the run's own stop interrupting the list
				p.r.logf("post: list the queue: %v", err)
			}
			return found
		}
		var page struct {
			Items      []letterItem `json:"items"`
			NextCursor string       `json:"next_cursor"`
		}
		if err := ans.decode(&page); err != nil {
			p.r.logf("post: %v", err)
			return found
		}
		for _, l := range page.Items {
			if !p.take(l) {
				continue
			}
			found = true
			select {
			case p.work <- l:
			case <-ctx.Done():
				return found
			}
		}
		if page.NextCursor == "" {
			return found
		}
		cursor = page.NextCursor
	}
}

// take claims a letter of this run not claimed before.
func (p *postProvider) take(l letterItem) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ours := p.expected[l.IssuanceID]; !ours || p.taken[l.ID] {
		return false
	}
	p.taken[l.ID] = true
	return true
}

// dispatch fetches, dispatches and delivers one letter. A letter that
// fails is given back to the queue for the next round.
func (p *postProvider) dispatch(ctx context.Context, l letterItem) {
	path := "/v1/letters/" + l.ID
	pdf, err := p.r.api.do(ctx, request{route: "GET /v1/letters/{id}/pdf", path: path + "/pdf", token: p.r.staff.post}, http.StatusOK)
	if err == nil {
		_, err = p.r.api.do(ctx, request{route: "POST /v1/letters/{id}/dispatched", path: path + "/dispatched", token: p.r.staff.post, idempotent: true}, http.StatusOK)
	}
	if err != nil {
		if ctx.Err() == nil {
			p.r.logf("post: letter of issuance %s: %v", l.IssuanceID, err)
			p.mu.Lock()
			delete(p.taken, l.ID)
			p.mu.Unlock()
			_ = sleep(ctx, time.Second)
		}
		return
	}
	p.mu.Lock()
	j := p.expected[l.IssuanceID]
	p.mu.Unlock()
	if l.Kind != "code_card" && l.Kind != "password" {
		return // a reminder or a later letter: nothing the activation needs
	}
	text, err := p.r.extract(ctx, pdf.body)
	j.mailbox.deliver(l.Kind, text, err)
}
