package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// Register answers CPR lookups from the persons table.
type Register struct{ Store *store.Store }

// Lookup returns the register's record for cpr, or nil when the register
// does not know the number.
func (r Register) Lookup(ctx context.Context, cpr domain.CPR) (*domain.Person, error) {
	row, err := r.Store.PersonByCPR(ctx, cpr.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up CPR %s: %w", cpr.Masked(), err)
	}
	return ToDomain(row, cpr)
}

// ToDomain converts a register row for the given, already parsed, CPR.
func ToDomain(row store.Person, cpr domain.CPR) (*domain.Person, error) {
	p := &domain.Person{
		CPR: cpr, Name: row.Name, Postcode: row.Postcode, City: row.City, Country: row.Country,
		AddressProtected: row.AddressProtected, Deceased: row.Deceased,
		DanishPassport: row.DanishPassport, DanishDrivingLicence: row.DanishDrivingLicence,
	}
	if row.Address != "" {
		p.AddressLines = strings.Split(row.Address, "\n")
	}
	if row.ArrivedDK != "" {
		d, err := domain.ParseDate(row.ArrivedDK)
		if err != nil {
			return nil, fmt.Errorf("register row %s: arrived_dk: %w", cpr.Masked(), err)
		}
		p.ArrivedDK = &d
	}
	return p, nil
}

// CPRHasher computes the lookup hash of a plain CPR under key (the CPR
// lookup key of NEMID_HASH_KEY), for store.PersonByCPRHash.
func CPRHasher(key []byte, now time.Time) func(string) (string, error) {
	return func(raw string) (string, error) {
		cpr, err := domain.ParseCPR(raw, now)
		if err != nil {
			return "", err
		}
		return domain.CPRLookupHash(key, cpr), nil
	}
}
