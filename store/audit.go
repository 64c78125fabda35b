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

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/workflows"
)

// The audit log (DESIGN.md §8) is append-only and hash-chained: each
// entry's hash is an HMAC-SHA256 under a NEMID_HASH_KEY key over the
// previous entry's hash and a canonical encoding of its own seq and fields
// (domain.AuditChainMAC), so editing, deleting or reordering a row breaks
// the chain from that row on (VerifyAudit) — also for someone who can write
// the database and recomputes every later hash, since the key is not in the
// database. Each entry stores the id of its key (key_id): the first key of
// NEMID_HASH_KEY writes, every key listed verifies, so a new key can be put
// first while older entries keep verifying. Entries written before the
// chain was keyed (an empty key_id) keep their plain SHA-256 link;
// audit_head's unkeyed_until bounds them, and none may follow a keyed
// entry (docs/security.md, "The audit log"). An entry is written in the
// same transaction as the action it records: an action that rolls back
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
	// KeyID names the NEMID_HASH_KEY key of Hash; "" for an entry written
	// before the chain was keyed (a plain SHA-256 link). Not in the API.
	KeyID string
	Hash  string
	// TokenID names the acting token. When ActorName is nil, AppendAudit
	// takes the name from it (tokenName). Not stored: the name is.
	TokenID string `gorm:"-"`
}

func (AuditEntry) TableName() string { return "audit_log" }

// ErrNotInTransaction: AppendAudit was handed a handle outside a
// transaction, where the entry could not share the action's fate.
var ErrNotInTransaction = errors.New("audit entries are appended inside the action's transaction")

// ErrNoAuditKey: the Store has no NEMID_HASH_KEY (UseHashKeys) to link an
// entry with, or to verify the chain's keyed entries with.
var ErrNoAuditKey = errors.New("audit: the chain is keyed and this process has no NEMID_HASH_KEY (store.UseHashKeys)")

// auditKeysPlugin carries NEMID_HASH_KEY to AppendAudit, which is handed
// only a transaction: gorm shares its Config's plugins with every session
// and transaction of one database handle, so any transaction of the Store
// finds its keys.
type auditKeysPlugin struct{ keys domain.HashKeys }

const auditKeysPluginName = "nemid:audit-keys"

func (auditKeysPlugin) Name() string              { return auditKeysPluginName }
func (auditKeysPlugin) Initialize(*gorm.DB) error { return nil }

// UseHashKeys gives the Store the NEMID_HASH_KEY keys its audit chain is
// linked with (the first) and verified with (all). Call it once after
// Open, before the Store is used; a process that appends audit entries or
// verifies the chain needs it.
func (s *Store) UseHashKeys(keys domain.HashKeys) {
	s.db.Config.Plugins[auditKeysPluginName] = auditKeysPlugin{keys: keys}
}

// HashKeys are the keys UseHashKeys gave the Store (none when it was not
// called).
func (s *Store) HashKeys() domain.HashKeys { return auditKeysOf(s.db) }

func auditKeysOf(db *gorm.DB) domain.HashKeys {
	if p, ok := db.Config.Plugins[auditKeysPluginName].(auditKeysPlugin); ok {
		return p.keys
	}
	return domain.HashKeys{}
}

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
	keys := auditKeysOf(tx)
	if keys.Empty() {
		return ErrNoAuditKey
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
	e.KeyID, e.Hash = domain.AuditChainMAC(keys, head.Hash, auditEncoding(e))
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

// auditEncoding is an entry's seq and fields as a JSON array (seq, at,
// actor, actor_name or null, action, target, outcome): what its link
// covers besides the previous hash.
func auditEncoding(e AuditEntry) string {
	fields := []any{e.Seq, e.At.UTC().Format(auditTimeLayout), e.Actor, e.ActorName, e.Action, e.Target, e.Outcome}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err) // strings, an int and a nil-able string always marshal
	}
	return string(b)
}

// unkeyedAuditHash is the link of an entry written before the chain was
// keyed (an empty key_id): SHA-256 over the previous hash, a newline and
// auditEncoding. VerifyAudit still checks those entries with it; nothing
// writes it any more.
func unkeyedAuditHash(prev string, e AuditEntry) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write([]byte(auditEncoding(e)))
	return hex.EncodeToString(h.Sum(nil))
}

// auditLink checks e's stored hash against its predecessor's: the keyed
// link under the key it names, or, for an entry from before the keying,
// the plain one. It returns why not, or "".
func auditLink(keys domain.HashKeys, prev string, e AuditEntry) string {
	if e.KeyID == "" {
		if unkeyedAuditHash(prev, e) != e.Hash {
			return fmt.Sprintf("entry %d (written before the chain was keyed) does not hash to its stored hash with its predecessor's: edited, reordered, or its predecessor was", e.Seq)
		}
		return ""
	}
	ok, known := domain.VerifyAuditChainMAC(keys, e.KeyID, prev, auditEncoding(e), e.Hash)
	if !known {
		return fmt.Sprintf("entry %d is linked under key %q, which NEMID_HASH_KEY does not hold (keep every key that wrote entries in NEMID_HASH_KEY)", e.Seq, e.KeyID)
	}
	if !ok {
		return fmt.Sprintf("entry %d's stored hash is not its link to its predecessor under key %q: edited, reordered, its predecessor was, or the chain was recomputed without the key", e.Seq, e.KeyID)
	}
	return ""
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

// AuditVerdict is what VerifyAudit found: the entries checked, how many of
// them were written before the chain was keyed, the head hash, and the
// first broken seq (0 when the chain holds) with why.
type AuditVerdict struct {
	Count     int64
	Unkeyed   int64
	HeadHash  string
	BrokenSeq int64
	Reason    string
}

// Holds reports whether the chain is whole.
func (v AuditVerdict) Holds() bool { return v.BrokenSeq == 0 }

const verifyBatch = 1000

// VerifyAudit walks the log in seq order and recomputes every link from
// its predecessor under the key the entry names: the first entry whose seq
// is missing, out of place or whose hash does not follow is the broken
// one. An entry without a key id is broken past the keying boundary
// (audit_head.unkeyed_until) and after any keyed entry: that is a chain
// recomputed without the key. The walk ends at the head read first, so
// appends meanwhile do not disturb it; an entry beyond the head (which no
// append leaves) is broken too. It needs the keys (UseHashKeys).
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerdict, error) {
	keys := s.HashKeys()
	if keys.Empty() {
		return AuditVerdict{}, ErrNoAuditKey
	}
	head, err := s.auditHead(ctx)
	if err != nil {
		return AuditVerdict{}, err
	}
	v := AuditVerdict{HeadHash: head.Hash}
	broken := func(seq int64, why string, args ...any) (AuditVerdict, error) {
		v.BrokenSeq, v.Reason = seq, fmt.Sprintf(why, args...)
		return v, nil
	}
	prev, next, keyed := "", int64(1), false
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
			if e.KeyID == "" && keyed {
				return broken(e.Seq, "entry %d has no key after keyed entries: the chain was recomputed without the key", e.Seq)
			}
			if e.KeyID == "" && e.Seq > head.UnkeyedUntil {
				return broken(e.Seq, "entry %d has no key, but every entry after seq %d is keyed: the chain was recomputed without the key", e.Seq, head.UnkeyedUntil)
			}
			if why := auditLink(keys, prev, e); why != "" {
				return broken(e.Seq, "%s", why)
			}
			if e.KeyID == "" {
				v.Unkeyed++
			} else {
				keyed = true
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
	Seq          int64
	Hash         string
	UnkeyedUntil int64 // the last seq written before the chain was keyed
}

// AuditHashAt is the stored hash of entry seq; ErrNotFound when there is
// none. `nemid audit verify --anchor` compares it with the head an earlier
// verify saw.
func (s *Store) AuditHashAt(ctx context.Context, seq int64) (string, error) {
	var hashes []string
	if err := s.db.WithContext(ctx).Model(&AuditEntry{}).Where("seq = ?", seq).Pluck("hash", &hashes).Error; err != nil {
		return "", fmt.Errorf("read audit entry %d: %w", seq, err)
	}
	if len(hashes) == 0 {
		return "", ErrNotFound
	}
	return hashes[0], nil
}

func (s *Store) auditHead(ctx context.Context) (auditHeadRow, error) {
	var rows []auditHeadRow
	if err := s.db.WithContext(ctx).Raw("SELECT seq, hash, unkeyed_until FROM audit_head WHERE id = 1").Scan(&rows).Error; err != nil {
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
