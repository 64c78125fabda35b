package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

// issuanceView is the contract's Issuance shape; fields that do not apply
// are null.
type issuanceView struct {
	ID              string      `json:"id"`
	Path            string      `json:"path"`
	Status          string      `json:"status"`
	CPRMasked       string      `json:"cpr_masked"`
	Centre          *string     `json:"centre"`
	Representation  *string     `json:"representation"`
	Bank            *string     `json:"bank"`
	PublicSignature *bool       `json:"public_signature"`
	CredentialState *string     `json:"credential_status"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
	Deadline        *time.Time  `json:"deadline"`
	Reasons         []Detail    `json:"reasons"`
	Timeline        []eventView `json:"timeline"`
}

type eventView struct {
	At        time.Time `json:"at"`
	Type      string    `json:"type"`
	Actor     string    `json:"actor"`
	ActorName *string   `json:"actor_name"` // the token's name; null for the system and citizens
	Detail    string    `json:"detail"`
}

// stamp is how the API shows an instant: UTC at microsecond precision, the
// precision Postgres keeps, so one instant reads the same in every answer.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func stampPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := stamp(*t)
	return &v
}

func viewIssuance(iss store.Issuance) (issuanceView, error) {
	v := issuanceView{
		ID: iss.ID, Path: iss.Path, Status: iss.Status, CPRMasked: iss.CPRMasked,
		Centre: iss.Centre, Representation: iss.Representation, Bank: iss.Bank,
		PublicSignature: iss.PublicSignature, CredentialState: iss.CredentialStatus, CreatedAt: stamp(iss.CreatedAt), UpdatedAt: stamp(iss.UpdatedAt),
		Deadline: stampPtr(iss.Deadline), Reasons: []Detail{}, Timeline: make([]eventView, 0, len(iss.Events)),
	}
	if iss.Reasons != "" {
		if err := json.Unmarshal([]byte(iss.Reasons), &v.Reasons); err != nil {
			return issuanceView{}, fmt.Errorf("decode the reasons of issuance %s: %w", iss.ID, err)
		}
	}
	for _, e := range iss.Events {
		v.Timeline = append(v.Timeline, eventView{At: stamp(e.At), Type: e.Type, Actor: e.Actor, ActorName: e.ActorName, Detail: e.Detail})
	}
	return v, nil
}

// respondIssuance answers one issuance in the contract's shape.
func respondIssuance(c echo.Context, status int, iss store.Issuance) error {
	v, err := viewIssuance(iss)
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

// listView is the contract's list shape.
type listView[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
