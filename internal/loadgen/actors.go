package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The humans of DESIGN.md §1, each a few API calls. A journey is one
// issuance from application to the person's first logon; it plays every
// human of its path in turn, and shares the post provider with the others.

// staff are the tokens of the synthetic staff.
type staff struct {
	caseworker string            // KBH
	bank       string            // bank 1234
	post       string            // the print-and-post provider
	embassies  map[string]string // representation code → token
}

const (
	loadCentre = "KBH"
	loadBank   = "1234"
)

// journey is one issuance and what its person holds.
type journey struct {
	path      string
	person    person
	id        string
	applied   time.Time // the application was sent
	active    time.Time // the activation answered active
	mailbox   *mailbox
	printedAs []string // the printed texts the person read
}

// issuanceAnswer is the part of an issuance the actors read.
type issuanceAnswer struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// apply is the application of the journey's path, sent by its actor: the
// caseworker at the counter (photo ID, check questions passed: handover),
// the bank (photo ID shown) or the person online from abroad (anonymous).
func (r *runner) apply(ctx context.Context, j *journey) error {
	var body map[string]any
	token := ""
	switch j.path {
	case PathCounter:
		token = r.staff.caseworker
		body = map[string]any{"path": PathCounter, "cpr": j.person.cpr, "centre": loadCentre, "check_questions_passed": true,
			"documents": []map[string]any{{"type": "passport", "number": "LT" + j.person.cpr[:6], "expires": "2099-01-01"}}}
	case PathBank:
		token = r.staff.bank
		body = map[string]any{"path": PathBank, "cpr": j.person.cpr, "bank": loadBank, "agreement_id": "LOAD-" + j.person.cpr[:6], "photo_id_shown": true}
	case PathAbroad:
		body = map[string]any{"path": PathAbroad, "cpr": j.person.cpr,
			"document":       map[string]any{"type": "danish_passport", "number": j.person.passport},
			"address":        j.person.address,
			"representation": j.person.representation.Code}
	}
	j.applied = time.Now()
	ans, err := r.api.do(ctx, request{route: "POST /v1/issuances", path: "/v1/issuances", token: token, body: body}.withKey(), http.StatusCreated)
	if err != nil {
		return err
	}
	var iss issuanceAnswer
	if err := ans.decode(&iss); err != nil {
		return err
	}
	j.id = iss.ID
	if j.path != PathCounter {
		r.post.expect(j) // a letter queued before this waits for the post's next round
	}
	return nil
}

// ownerToken is the token of the staff who follows the issuance in their
// console: the centre's caseworker, the bank, or the representation.
func (r *runner) ownerToken(j *journey) string {
	switch j.path {
	case PathCounter:
		return r.staff.caseworker
	case PathBank:
		return r.staff.bank
	}
	return r.staff.embassies[j.person.representation.Code]
}

// awaitStatus polls the issuance, as its staff's console does, until it
// shows want; a final status on the way is an error. It looks again after
// PollInterval, then less and less often, up to ten times that: a wait of
// seconds costs a dozen reads, not a hundred.
func (r *runner) awaitStatus(ctx context.Context, j *journey, want string) error {
	deadline := time.Now().Add(r.opts.StepTimeout)
	interval := r.opts.PollInterval
	for {
		ans, err := r.api.do(ctx, request{route: "GET /v1/issuances/{id}", path: "/v1/issuances/" + j.id, token: r.ownerToken(j)}, http.StatusOK)
		if err != nil {
			return err
		}
		var iss issuanceAnswer
		if err := ans.decode(&iss); err != nil {
			return err
		}
		switch iss.Status {
		case want:
			return nil
		case "rejected", "expired", "cancelled", "active":
			return fmt.Errorf("the issuance became %s while awaiting %s", iss.Status, want)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still %s after %s awaiting %s", iss.Status, r.opts.StepTimeout, want)
		}
		if err := sleep(ctx, interval); err != nil {
			return err
		}
		interval = min(interval*3/2, 10*r.opts.PollInterval)
	}
}

// handover: the caseworker waits for the printed document and hands it
// over; the person reads it.
func (r *runner) handover(ctx context.Context, j *journey) error {
	if err := r.awaitStatus(ctx, j, "awaiting_handover"); err != nil {
		return err
	}
	ans, err := r.api.do(ctx, request{route: "POST /v1/issuances/{id}/handover", path: "/v1/issuances/" + j.id + "/handover",
		token: r.staff.caseworker}.withKey(), http.StatusOK)
	if err != nil {
		return err
	}
	text, err := r.extract(ctx, ans.body)
	if err != nil {
		return fmt.Errorf("read the handover document: %w", err)
	}
	j.printedAs = []string{text}
	return nil
}

// letters: the person waits for both letters the post provider delivers
// (for an abroad order, the password letter waits at the representation
// and is handed over at the pickup).
func (r *runner) letters(ctx context.Context, j *journey) error {
	texts, err := j.mailbox.await(ctx, r.opts.StepTimeout)
	if err != nil {
		return err
	}
	j.printedAs = texts
	return nil
}

// pickup: the representation sees the order waiting for pickup, checks
// the passport, takes the fee and confirms.
func (r *runner) pickup(ctx context.Context, j *journey) error {
	if err := r.awaitStatus(ctx, j, "awaiting_pickup"); err != nil {
		return err
	}
	rep := j.person.representation.Code
	body := map[string]any{"document_number": j.person.passport, "fee_paid_dkk": r.opts.FeeDKK, "receipt": rep + "-" + j.id[len(j.id)-8:]}
	_, err := r.api.do(ctx, request{route: "POST /v1/issuances/{id}/pickup", path: "/v1/issuances/" + j.id + "/pickup",
		token: r.staff.embassies[rep], body: body}.withKey(), http.StatusOK)
	return err
}

// challenge is a started activation or logon.
type challenge struct {
	ActivationID string `json:"activation_id"`
	LoginID      string `json:"login_id"`
	CardNumber   string `json:"card_number"`
	Key          string `json:"key"`
}

// activateAndLogOn: the person activates with what the paper shows,
// choosing a password, and logs on once with it.
func (r *runner) activateAndLogOn(ctx context.Context, j *journey) error {
	held, err := ReadPrinted(j.printedAs...)
	if err != nil {
		return fmt.Errorf("read the printed credentials: %w", err)
	}
	ans, err := r.api.do(ctx, request{route: "POST /v1/activations", path: "/v1/activations",
		body: map[string]string{"user_id": held.UserID, "temporary_password": held.TemporaryPassword}}, http.StatusCreated)
	if err != nil {
		return err
	}
	var ch challenge
	if err := ans.decode(&ch); err != nil {
		return err
	}
	code := held.Code(ch.CardNumber, ch.Key)
	if code == "" {
		return fmt.Errorf("the activation asks key %s of card %s, which the printed card does not show", ch.Key, ch.CardNumber)
	}
	password, err := newPassword(j.person.cpr, held.UserID)
	if err != nil {
		return err
	}
	if _, err := r.api.do(ctx, request{route: "POST /v1/activations/{id}", path: "/v1/activations/" + ch.ActivationID,
		body: map[string]string{"code": code, "new_password": password}}, http.StatusOK); err != nil {
		return err
	}
	j.active = time.Now()
	r.progress.activated(j.path)

	ans, err = r.api.do(ctx, request{route: "POST /v1/logins", path: "/v1/logins",
		body: map[string]string{"user_id": held.UserID, "password": password}}, http.StatusCreated)
	if err != nil {
		return err
	}
	if err := ans.decode(&ch); err != nil {
		return err
	}
	code = held.Code(ch.CardNumber, ch.Key)
	if code == "" {
		return fmt.Errorf("the logon asks key %s of card %s, which the printed card does not show", ch.Key, ch.CardNumber)
	}
	_, err = r.api.do(ctx, request{route: "POST /v1/logins/{id}", path: "/v1/logins/" + ch.LoginID,
		body: map[string]string{"code": code}}, http.StatusOK)
	return err
}

// step is one human's part of a journey.
type step struct {
	name string
	do   func(context.Context, *journey) error
}

// steps are the parts of a path's journey, in order.
func (r *runner) steps(path string) []step {
	apply, activate := step{"apply", r.apply}, step{"activate and log on", r.activateAndLogOn}
	switch path {
	case PathCounter:
		return []step{apply, {"handover", r.handover}, activate}
	case PathBank:
		awaitActivation := func(ctx context.Context, j *journey) error { return r.awaitStatus(ctx, j, "awaiting_activation") }
		return []step{apply, {"letters", r.letters}, {"await activation", awaitActivation}, activate}
	}
	return []step{apply, {"letters", r.letters}, {"pickup", r.pickup}, activate}
}

// run plays the journey's path to the end; on failure it names the step.
func (r *runner) run(ctx context.Context, j *journey) (string, error) {
	for _, s := range r.steps(j.path) {
		if err := s.do(ctx, j); err != nil {
			return s.name, err
		}
	}
	return "", nil
}

// mailbox is where the post provider puts a journey's letters.
type mailbox struct {
	mu      sync.Mutex
	letters map[string]string // kind → printed text
	full    chan struct{}     // closed once the code card and password letters are in
	err     error             // a letter the person could not read
}

func newMailbox() *mailbox { return &mailbox{letters: map[string]string{}, full: make(chan struct{})} }

func (m *mailbox) deliver(kind, text string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.full:
		return
	default:
	}
	if err != nil {
		m.err = fmt.Errorf("read the %s letter: %w", kind, err)
		close(m.full)
		return
	}
	m.letters[kind] = text
	if m.letters["code_card"] != "" && m.letters["password"] != "" {
		close(m.full)
	}
}

func (m *mailbox) await(ctx context.Context, limit time.Duration) ([]string, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, fmt.Errorf("the letters did not arrive within %s", limit)
	case <-m.full:
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	return []string{m.letters["code_card"], m.letters["password"]}, nil
}
