package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/workflows"
)

// Issuance is the read model of one issuance. The full CPR is never stored
// here: CPRHash is a keyed hash for the one-open-per-CPR guard and lookups.
type Issuance struct {
	ID              string `gorm:"primaryKey"`
	Path            string
	Status          string
	CPRHash         string `gorm:"column:cpr_hash"`
	CPRMasked       string `gorm:"column:cpr_masked"`
	Centre          *string
	Representation  *string
	Bank            *string
	PublicSignature *bool
	Reasons         string // JSON array of {code,message}
	// DocumentHash is the keyed MAC of an abroad order's document number:
	// the pickup must show the same document; the number is not kept.
	DocumentHash *string `gorm:"column:document_hash"`
	Deadline     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Events       []Event `gorm:"foreignKey:IssuanceID"`
	// CredentialStatus is its credential's state (Credential.State), nil
	// before minting; filled by GetIssuance and ListIssuances.
	CredentialStatus *string `gorm:"-"`
}

// Event is one line of an issuance's timeline. DedupeKey makes writes
// idempotent: a retried activity writes the same key and changes nothing.
type Event struct {
	ID         int64 `gorm:"primaryKey"`
	IssuanceID string
	DedupeKey  string
	At         time.Time
	Type       string
	Actor      string
	Detail     string
	// ActorName is the name of the token that acted (a person or a
	// system); nil for the system itself and for citizens.
	ActorName *string
}

func (Event) TableName() string    { return "issuance_events" }
func (Issuance) TableName() string { return "issuances" }

// finalStatuses are the statuses that never change again (the workflows'
// contract); the partial unique index of the migrations uses the same list.
var finalStatuses = workflows.FinalStatuses()

// OpenIssuanceError is returned when the CPR already has a pending issuance.
type OpenIssuanceError struct{ ID string }

func (e *OpenIssuanceError) Error() string { return "an open issuance exists: " + e.ID }

// TxStep is a further write inside another write's transaction.
type TxStep = func(tx *gorm.DB) error

// CreateIssuance writes the issuance and its first events in one
// transaction, inside which extra may write more (a witness statement).
// The partial unique index decides races between concurrent applications.
// extra runs first, so a rule it finds broken (a 422) is reported before
// the conflict with an open issuance (a 409); its writes roll back with
// the transaction when the row then conflicts.
func (s *Store) CreateIssuance(ctx context.Context, iss *Issuance, extra TxStep) error {
	return s.createIssuance(ctx, iss, extra, nil)
}

// createIssuance writes the row between two steps of its transaction:
// before runs first (the witness statement, so a broken witness rule is
// reported before another open issuance), after runs last (the audit entry,
// which holds the chain's head until the commit).
func (s *Store) createIssuance(ctx context.Context, iss *Issuance, before, after TxStep) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		if err := tx.Create(iss).Error; err != nil {
			return err
		}
		key := countKeyOf(iss.ID, iss.Path, iss.Centre, iss.Representation, iss.Bank, iss.Status)
		if err := bumpCounts(tx, countDelta{key, 1}); err != nil {
			return err
		}
		if after != nil {
			return after(tx)
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		var open Issuance
		lookup := s.db.WithContext(ctx).Select("id").Where("cpr_hash = ? AND status NOT IN ?", iss.CPRHash, finalStatuses).Take(&open)
		if lookup.Error != nil {
			return fmt.Errorf("find open issuance after conflict: %w", lookup.Error)
		}
		return &OpenIssuanceError{ID: open.ID}
	}
	return err
}

// AcceptIssuance is CreateIssuance for a step that may run more than once:
// when the issuance's own row is already there (an earlier attempt
// committed), it is accepted and nothing more is written.
func (s *Store) AcceptIssuance(ctx context.Context, iss *Issuance, before, after TxStep) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Issuance{}).Where("id = ?", iss.ID).Count(&n).Error; err != nil {
		return fmt.Errorf("look for issuance %s: %w", iss.ID, err)
	}
	if n > 0 {
		return nil
	}
	err := s.createIssuance(ctx, iss, before, after)
	var open *OpenIssuanceError
	if errors.As(err, &open) && open.ID == iss.ID {
		return nil // a concurrent attempt of the same step won
	}
	return err
}

// Scope restricts what a principal may see; empty fields do not restrict.
// BankPathToo widens a centre's scope to every bank-path issuance: people
// bring a bank-issued NemID to any centre (DESIGN.md §4).
type Scope struct {
	Centre, Representation, Bank string
	BankPathToo                  bool
}

func (sc Scope) apply(q *gorm.DB) *gorm.DB {
	switch {
	case sc.Centre != "" && sc.BankPathToo:
		q = q.Where("(centre = ? OR path = ?)", sc.Centre, "bank")
	case sc.Centre != "":
		q = q.Where("centre = ?", sc.Centre)
	}
	if sc.Representation != "" {
		q = q.Where("representation = ?", sc.Representation)
	}
	if sc.Bank != "" {
		q = q.Where("bank = ?", sc.Bank)
	}
	return q
}

// GetIssuance loads one issuance with its timeline in order; an issuance
// outside scope is ErrNotFound, so its existence is not revealed.
func (s *Store) GetIssuance(ctx context.Context, id string, scope Scope) (Issuance, error) {
	var iss Issuance
	q := scope.apply(s.db.WithContext(ctx).Where("id = ?", id))
	err := q.Preload("Events", func(db *gorm.DB) *gorm.DB { return db.Order("at, id") }).Take(&iss).Error
	if err != nil {
		return iss, notFound(err)
	}
	rows := []Issuance{iss}
	if err := s.fillCredentialStates(ctx, rows); err != nil {
		return iss, err
	}
	return rows[0], nil
}

// fillCredentialStates sets CredentialStatus on a page of issuances.
func (s *Store) fillCredentialStates(ctx context.Context, rows []Issuance) error {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	states, err := s.CredentialStates(ctx, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		if st, ok := states[rows[i].ID]; ok {
			rows[i].CredentialStatus = &st
		}
	}
	return nil
}

// Transition is a status change decided by a workflow, with the event that
// explains it.
type Transition struct {
	IssuanceID string
	Status     string // empty: only record the event
	Deadline   *time.Time
	Reasons    any // marshalled to JSON when non-nil
	Event      Event
	Fee        *Fee // a pickup's fee, recorded once with the event
	// ActivationID is the answered activation challenge whose password an
	// `active` transition moves into the credential, in the same
	// transaction (activateCredential).
	ActivationID string
	// Audit, when set, is appended in the same transaction, once: a retry
	// whose event is already recorded appends nothing.
	Audit *AuditEntry
}

// ApplyTransition records a workflow's decision idempotently: the event's
// dedupe key makes a retry a no-op, and the status never leaves a final
// state. A transition without an event is a plain status move. The move to
// active also activates the credential with the password its activation
// chose, in this transaction: the workflow is the one writer of both.
func (s *Store) ApplyTransition(ctx context.Context, t Transition) error {
	err := s.applyTransition(ctx, t)
	// Two activations of one person racing (Postgres): the loser's
	// transaction did not see the winner's active NemID and the unique
	// index refused a second one. Again, it sees it and replaces it.
	for try := 0; try < 3 && t.Status == workflows.StatusActive && errors.Is(err, gorm.ErrDuplicatedKey); try++ {
		err = s.applyTransition(ctx, t)
	}
	return err
}

func (s *Store) applyTransition(ctx context.Context, t Transition) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ev := t.Event
		if ev.Type != "" {
			ev.IssuanceID = t.IssuanceID
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev)
			if res.Error != nil {
				return fmt.Errorf("record event %s: %w", ev.Type, res.Error)
			}
			if res.RowsAffected == 0 {
				return nil
			}
		}
		if t.Fee != nil {
			fee := *t.Fee
			fee.ID, fee.IssuanceID, fee.ResetID = t.IssuanceID, t.IssuanceID, nil
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fee).Error; err != nil {
				return fmt.Errorf("record fee: %w", err)
			}
		}
		if t.Status == "" {
			return nil
		}
		updates := map[string]any{"status": t.Status, "deadline": t.Deadline, "updated_at": ev.At}
		if t.Reasons != nil {
			b, err := json.Marshal(t.Reasons)
			if err != nil {
				return err
			}
			updates["reasons"] = string(b)
		}
		before, err := lockIssuance(tx, t.IssuanceID)
		if err != nil {
			return err
		}
		res := tx.Model(&Issuance{}).Where("id = ? AND status NOT IN ?", t.IssuanceID, finalStatuses).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("record status %s: %w", t.Status, res.Error)
		}
		if t.Status == workflows.StatusActive && res.RowsAffected == 1 {
			if err := activateCredential(tx, t.IssuanceID, t.ActivationID, ev.At); err != nil {
				return err
			}
		}
		if res.RowsAffected == 1 && before.Status != t.Status {
			from := countKeyOf(before.ID, before.Path, before.Centre, before.Representation, before.Bank, before.Status)
			to := from
			to.Status = t.Status
			if err := bumpCounts(tx, countDelta{from, -1}, countDelta{to, 1}); err != nil {
				return err
			}
		}
		if t.Audit != nil {
			return AppendAudit(tx, *t.Audit)
		}
		return nil
	})
}

// lockIssuance reads the fields of an issuance that its counter row is
// keyed by, locking the row until the transaction ends (Postgres; SQLite's
// write transaction already excludes every other writer), so the status
// read is the one the update replaces.
func lockIssuance(tx *gorm.DB, id string) (Issuance, error) {
	q := tx.Select("id", "path", "status", "centre", "representation", "bank").Where("id = ?", id)
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []Issuance
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return Issuance{}, fmt.Errorf("lock issuance %s: %w", id, err)
	}
	if len(rows) == 0 {
		return Issuance{}, nil // the update below finds nothing either
	}
	return rows[0], nil
}

// endedUnused lists the final statuses that leave no active NemID.
func endedUnused() []string {
	var out []string
	for _, st := range finalStatuses {
		if workflows.EndedUnused(st) {
			out = append(out, st)
		}
	}
	return out
}

// LoadEvents fills the timelines of a page of issuances with one query.
func (s *Store) LoadEvents(ctx context.Context, rows []Issuance) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]string, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		ids[i], index[r.ID] = r.ID, i
	}
	var events []Event
	if err := s.db.WithContext(ctx).Where("issuance_id IN ?", ids).Order("at, id").Find(&events).Error; err != nil {
		return err
	}
	for _, e := range events {
		rows[index[e.IssuanceID]].Events = append(rows[index[e.IssuanceID]].Events, e)
	}
	return nil
}

// ErrNotUpgradable: the issuance is not a bank-issued NemID without public
// digital signature that may still be used (it was upgraded meanwhile, or
// ended rejected, expired or cancelled).
var ErrNotUpgradable = errors.New("the issuance cannot be upgraded to public digital signature")

// UpgradePublicSignature marks a bank-issued NemID usable as a public
// digital signature and records ev on its timeline, in one transaction. The
// conditional update decides races: of two concurrent upgrades one wins and
// the other gets ErrNotUpgradable. audit is appended in the same transaction.
func (s *Store) UpgradePublicSignature(ctx context.Context, issuanceID string, ev Event, audit AuditEntry) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Issuance{}).
			Where("id = ? AND path = ? AND public_signature = ? AND status NOT IN ?",
				issuanceID, domain.PathBank, false, endedUnused()).
			Updates(map[string]any{"public_signature": true, "updated_at": ev.At})
		if res.Error != nil {
			return fmt.Errorf("upgrade public signature: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotUpgradable
		}
		ev.IssuanceID = issuanceID
		if err := tx.Create(&ev).Error; err != nil {
			return fmt.Errorf("record public signature upgrade: %w", err)
		}
		return AppendAudit(tx, audit)
	})
}
