package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/opennemid/nemid/workflows"
)

// The audit log (DESIGN.md §8) is append-only and hash-chained: each
// entry's hash is SHA-256 over the previous entry's hash and a canonical
// encoding of its own fields, so editing, deleting or reordering a row
// breaks the chain from that row on (VerifyAudit). An entry is written in
// the same transaction as the action it records: an action that rolls back
// leaves no entry, and an entry that fails to write rolls the action back.
//
// How a feature audits an action:
//
//   - inside a transaction it already runs, call AppendAudit(tx, e) as the
//     LAST write of that transaction;
//   - otherwise wrap the writes in Store.Audited(ctx, e, func(tx) error {…}),
//     which runs them and appends e in one transaction;
//   - for a read that must leave a trace (a PDF fetched), Audited with a nil
//     step appends the entry alone, before the answer is sent.
//
// Appends are serialized by the chain's one-row head, audit_head: on
// Postgres AppendAudit locks it (SELECT … FOR UPDATE) until the transaction
// ends, on SQLite the write transaction (BEGIN IMMEDIATE) already excludes
// every other writer. So seq is gapless and strictly ordered across any
// number of API and worker processes. Taking that lock last keeps the time
// it is held short and its order after every other row lock, so two
// audited transactions cannot deadlock on it.
//
// The log holds no secret and no full CPR: an entry names who (the token's
// role:scope and name), what (an action below), on what (a typed id) and
// how it ended; never a request body.

// Audited actions. A feature adding one adds it here and to auditActions,
// which GET /v1/audit?action= accepts.
const (
	AuditIssuanceCreated         = "issuance_created"                  // caseworker or bank application accepted
	AuditIssuanceCancelled       = workflows.AuditIssuanceCancelled    // the cancellation recorded
	AuditHandoverConfirmed       = workflows.AuditHandoverConfirmed    // the counter handover recorded
	AuditHandoverPDFFetched      = "handover_pdf_fetched"              // the handover document served (once)
	AuditPickupConfirmed         = workflows.AuditPickupConfirmed      // an embassy's pickup and fee recorded
	AuditPublicSignatureUpgraded = "public_signature_upgraded"         // a bank NemID upgraded after a photo ID check
	AuditLetterPDFFetched        = "letter_pdf_fetched"                // the post provider fetched a letter's PDF
	AuditLetterDispatched        = "letter_dispatched"                 // a letter marked dispatched (its PDF purged)
	AuditCredentialUnlocked      = "credential_unlocked"               // a lock lifted after an ID check
	AuditCredentialBlocked       = "credential_blocked"                // a NemID blocked (by support or the person)
	AuditCredentialUnblocked     = "credential_unblocked"              // a block lifted after an ID check
	AuditCredentialLookedUp      = "credential_looked_up"              // support read a NemID (by number or CPR)
	AuditIssuancesSearched       = "issuances_searched"                // staff listed a person's issuances by CPR
	AuditTokenCreated            = "token_created"                     // a staff token issued
	AuditTokenRevoked            = "token_revoked"                     // a staff token revoked
	AuditAppointmentCheckedIn    = workflows.AuditAppointmentCheckedIn // a booked person checked in at the counter
	AuditOIDCClientCreated       = "oidc_client_created"               // a service provider registered
	AuditOIDCLogon               = "oidc_logon"                        // a person logged on at a service provider
	AuditNotificationSent        = "notification_sent"                 // the post provider marked a notification sent (its text purged)
)

var auditActions = []string{
	AuditIssuanceCreated, AuditIssuanceCancelled, AuditHandoverConfirmed, AuditHandoverPDFFetched,
	AuditPickupConfirmed, AuditPublicSignatureUpgraded, AuditLetterPDFFetched, AuditLetterDispatched,
	AuditCredentialUnlocked, AuditCredentialBlocked, AuditCredentialUnblocked, AuditCredentialLookedUp, AuditIssuancesSearched,
	AuditTokenCreated, AuditTokenRevoked, AuditAppointmentCheckedIn, AuditOIDCClientCreated, AuditOIDCLogon,
	AuditNotificationSent,
}

// AuditActions lists the actions the log records.
func AuditActions() []string { return append([]string(nil), auditActions...) }

// AuditOK is the outcome of an action that did what was asked. A refused
// attempt, where a feature chooses to log one, carries its error code.
const AuditOK = "ok"

// Targets: what an entry is about, as "<kind>:<id>".
func IssuanceTarget(id string) string       { return "issuance:" + id }
func TokenTarget(id string) string          { return "token:" + id }
func CredentialTarget(userID string) string { return "credential:" + userID }
func LetterTarget(id string) string         { return "letter:" + id }
func AppointmentTarget(id string) string    { return "appointment:" + id }
func OIDCClientTarget(id string) string     { return "oidc_client:" + id }
func NotificationTarget(id string) string   { return "notification:" + id }

// PersonTarget names a person by the CPR's keyed lookup hash (the one
// issuances and credentials carry), never by the CPR: an auditor holding
// the key finds who looked a given person up by hashing their CPR. After a
// rotation of the lookup key (nemid keys rehash-cpr) older entries keep the
// hash under the key of their time.
func PersonTarget(cprHash string) string { return "person:" + cprHash }

var targetKinds = []string{"issuance:", "token:", "credential:", "letter:", "appointment:", "oidc_client:", "person:", "notification:"}

// AuditEntry is one line of the audit log. Callers fill Actor, Action,
// Target and, when known, ActorName or TokenID; AppendAudit fills Seq, At,
// Hash and an empty Outcome (AuditOK).
type AuditEntry struct {
	Seq       int64 `gorm:"primaryKey;autoIncrement:false"`
	At        time.Time
	Actor     string  // role:scope of the token
	ActorName *string // the token's name; nil for the system
	Action    string
	Target    string
	Outcome   string
	Hash      string
	// TokenID names the acting token. When ActorName is nil, AppendAudit
	// takes the name from it (tokenName). Not stored: the name is.
	TokenID string `gorm:"-"`
}

func (AuditEntry) TableName() string { return "audit_log" }

// ErrNotInTransaction: AppendAudit was handed a handle outside a
// transaction, where the entry could not share the action's fate.
var ErrNotInTransaction = errors.New("audit entries are appended inside the action's transaction")

// AppendAudit appends e to the chain inside tx, which must be a
// transaction (gorm's Transaction callback handle). Call it as the
// transaction's last write: it holds the chain's head until tx ends.
func AppendAudit(tx *gorm.DB, e AuditEntry) error {
	if _, ok := tx.Statement.ConnPool.(gorm.TxCommitter); !ok {
		return ErrNotInTransaction
	}
	if err := validAuditEntry(e); err != nil {
		return err
	}
	if e.Outcome == "" {
		e.Outcome = AuditOK
	}
	if e.ActorName == nil && e.TokenID != "" {
		name, err := tokenName(tx, e.TokenID)
		if err != nil {
			return fmt.Errorf("audit: name of token %s: %w", e.TokenID, err)
		}
		e.ActorName = name
	}
	var head struct {
		Seq  int64
		Hash string
	}
	lock := "SELECT seq, hash FROM audit_head WHERE id = 1"
	if tx.Dialector.Name() == "postgres" {
		lock += " FOR UPDATE"
	}
	if err := tx.Raw(lock).Scan(&head).Error; err != nil {
		return fmt.Errorf("audit: lock the chain head: %w", err)
	}
	// Taken under the head's lock, so at never runs backwards along seq
	// within one clock.
	e.Seq, e.At = head.Seq+1, time.Now().UTC().Truncate(time.Microsecond)
	e.Hash = auditHash(head.Hash, e)
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	res := tx.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?", e.Seq, e.Hash, head.Seq)
	if res.Error != nil {
		return fmt.Errorf("audit: move the chain head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("audit: the chain head moved under its lock (at seq %d)", head.Seq)
	}
	return nil
}

// tokenName is the display name of the token that acted, read in the
// entry's transaction; nil when the token is gone.
func tokenName(tx *gorm.DB, tokenID string) (*string, error) {
	var names []string
	if err := tx.Model(&APIToken{}).Where("id = ?", tokenID).Limit(1).Pluck("name", &names).Error; err != nil {
		return nil, fmt.Errorf("audit: the acting token's name: %w", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	return &names[0], nil
}

func validAuditEntry(e AuditEntry) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("audit: an entry needs an actor and an action")
	}
	for _, k := range targetKinds {
		if id, ok := strings.CutPrefix(e.Target, k); ok && id != "" {
			return nil
		}
	}
	return fmt.Errorf("audit: target %q is not one of %s<id>", e.Target, strings.Join(targetKinds, "<id>, "))
}

// Audited runs step and appends e in one transaction: both or neither. A
// nil step appends e alone (an audited read).
func (s *Store) Audited(ctx context.Context, e AuditEntry, step TxStep) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if step != nil {
			if err := step(tx); err != nil {
				return err
			}
		}
		return AppendAudit(tx, e)
	})
}

// AuditStep is AppendAudit as a further write of another write's
// transaction (CreateIssuance's extra); put it last.
func AuditStep(e AuditEntry) TxStep {
	return func(tx *gorm.DB) error { return AppendAudit(tx, e) }
}

// Steps runs steps one after the other in one transaction; nil when there
// are none.
func Steps(steps ...TxStep) TxStep {
	if len(steps) == 0 {
		return nil
	}
	return func(tx *gorm.DB) error {
		for _, step := range steps {
			if err := step(tx); err != nil {
				return err
			}
		}
		return nil
	}
}

// auditTimeLayout writes at with fixed microseconds, the precision both
// databases keep, so the hash is computed over what is read back.
const auditTimeLayout = "2006-01-02T15:04:05.000000Z"

// auditHash chains an entry to the previous entry's hash: SHA-256 over the
// previous hash, a newline and the entry's fields as a JSON array (seq, at,
// actor, actor_name or null, action, target, outcome).
func auditHash(prev string, e AuditEntry) string {
	fields := []any{e.Seq, e.At.UTC().Format(auditTimeLayout), e.Actor, e.ActorName, e.Action, e.Target, e.Outcome}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err) // strings, an int and a nil-able string always marshal
	}
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditFilter selects a page of the log, newest first.
type AuditFilter struct {
	From, To *time.Time // inclusive bounds on at
	Action   string
	Before   int64 // keyset cursor: the last seq of the previous page; 0 starts at the newest
	Limit    int
}

// ListAudit returns up to Limit entries, newest (highest seq) first, and
// whether more follow.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, bool, error) {
	q := s.db.WithContext(ctx).Model(&AuditEntry{})
	if f.From != nil {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("at <= ?", f.To.UTC())
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Before > 0 {
		q = q.Where("seq < ?", f.Before)
	}
	var rows []AuditEntry
	if err := q.Order("seq DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("list audit log: %w", err)
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	return rows, more, nil
}

// AuditVerdict is what VerifyAudit found: the entries checked, the head
// hash, and the first broken seq (0 when the chain holds) with why.
type AuditVerdict struct {
	Count     int64
	HeadHash  string
	BrokenSeq int64
	Reason    string
}

// Holds reports whether the chain is whole.
func (v AuditVerdict) Holds() bool { return v.BrokenSeq == 0 }

const verifyBatch = 1000

// VerifyAudit walks the log in seq order and recomputes every hash from
// its predecessor: the first entry whose seq is missing, out of place or
// whose hash does not follow is the broken one. The walk ends at the head
// read first, so appends meanwhile do not disturb it; an entry beyond the
// head (which no append leaves) is broken too.
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerdict, error) {
	head, err := s.auditHead(ctx)
	if err != nil {
		return AuditVerdict{}, err
	}
	v := AuditVerdict{HeadHash: head.Hash}
	broken := func(seq int64, why string, args ...any) (AuditVerdict, error) {
		v.BrokenSeq, v.Reason = seq, fmt.Sprintf(why, args...)
		return v, nil
	}
	prev, next := "", int64(1)
	for next <= head.Seq {
		var rows []AuditEntry
		err := s.db.WithContext(ctx).Where("seq >= ? AND seq <= ?", next, head.Seq).Order("seq").Limit(verifyBatch).Find(&rows).Error
		if err != nil {
			return v, fmt.Errorf("read audit log from seq %d: %w", next, err)
		}
		if len(rows) == 0 {
			return broken(next, "entries %d to %d are missing", next, head.Seq)
		}
		for _, e := range rows {
			if e.Seq != next {
				return broken(next, "entry %d is missing (the next entry is %d)", next, e.Seq)
			}
			if got := auditHash(prev, e); got != e.Hash {
				return broken(e.Seq, "entry %d does not hash to its stored hash with its predecessor's: edited, reordered, or its predecessor was", e.Seq)
			}
			prev, next = e.Hash, next+1
			v.Count++
		}
	}
	if prev != head.Hash {
		return broken(max(head.Seq, 1), "the chain head's hash is not entry %d's", head.Seq)
	}
	after, err := s.auditHead(ctx)
	if err != nil {
		return v, err
	}
	var beyond int64
	if err := s.db.WithContext(ctx).Model(&AuditEntry{}).Where("seq > ?", after.Seq).Count(&beyond).Error; err != nil {
		return v, fmt.Errorf("count entries beyond the head: %w", err)
	}
	if beyond > 0 {
		return broken(after.Seq+1, "%d entries lie beyond the chain head (seq %d)", beyond, after.Seq)
	}
	return v, nil
}

type auditHeadRow struct {
	Seq  int64
	Hash string
}

func (s *Store) auditHead(ctx context.Context) (auditHeadRow, error) {
	var rows []auditHeadRow
	if err := s.db.WithContext(ctx).Raw("SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&rows).Error; err != nil {
		return auditHeadRow{}, fmt.Errorf("read the audit chain head: %w", err)
	}
	if len(rows) != 1 {
		return auditHeadRow{}, errors.New("the audit chain head is missing (run nemid migrate; or it was deleted)")
	}
	return rows[0], nil
}

// AuditToken is the TokenStep that records a token change made by by (its
// Action set): the entry targets the changed token. A repeated revocation
// changes nothing and records nothing.
func AuditToken(by AuditEntry) TokenStep {
	return func(tx *gorm.DB, t APIToken, changed bool) error {
		if !changed {
			return nil
		}
		by.Target = TokenTarget(t.ID)
		return AppendAudit(tx, by)
	}
}
