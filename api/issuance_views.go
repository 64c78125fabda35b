package api

import (
	"encoding/json"
	"time"

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
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
	Deadline        *time.Time  `json:"deadline"`
	Reasons         []Detail    `json:"reasons"`
	Timeline        []eventView `json:"timeline"`
}

type eventView struct {
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail"`
}

func viewIssuance(iss store.Issuance) issuanceView {
	v := issuanceView{
		ID: iss.ID, Path: iss.Path, Status: iss.Status, CPRMasked: iss.CPRMasked,
		Centre: iss.Centre, Representation: iss.Representation, Bank: iss.Bank,
		PublicSignature: iss.PublicSignature, CreatedAt: iss.CreatedAt.UTC(), UpdatedAt: iss.UpdatedAt.UTC(),
		Reasons: []Detail{}, Timeline: make([]eventView, 0, len(iss.Events)),
	}
	if iss.Deadline != nil {
		d := iss.Deadline.UTC()
		v.Deadline = &d
	}
	if iss.Reasons != "" {
		_ = json.Unmarshal([]byte(iss.Reasons), &v.Reasons) // written by us; an empty list if ever unreadable
	}
	for _, e := range iss.Events {
		v.Timeline = append(v.Timeline, eventView{At: e.At.UTC(), Type: e.Type, Actor: e.Actor, Detail: e.Detail})
	}
	return v
}

// listView is the contract's list shape.
type listView[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
