// Package register is the built-in adapter for the CPR register: it imports
// the register from CSV and answers lookups from the persons table.
package register

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// Columns is the header DESIGN.md §4 fixes for `nemid registry import`.
var Columns = []string{"cpr", "name", "address", "postcode", "city", "country", "address_protected",
	"deceased", "danish_passport", "danish_driving_licence", "arrived_dk"}

// ParseCSV reads a register file. It checks every row and reports every
// bad row (up to 20) by line number; nothing is returned unless all parse.
func ParseCSV(r io.Reader, today time.Time) ([]store.Person, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(Columns)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	for i, col := range Columns {
		if strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")) != col {
			return nil, fmt.Errorf("header column %d is %q, want %q (columns: %s)", i+1, header[i], col, strings.Join(Columns, ","))
		}
	}
	var people []store.Person
	var problems []error
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, err)
		} else if p, perr := parseRow(rec, today); perr != nil {
			problems = append(problems, fmt.Errorf("line %d: %w", line, perr))
		} else {
			people = append(people, p)
		}
		if len(problems) >= 20 {
			problems = append(problems, errors.New("stopped after 20 problems"))
			break
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return people, nil
}

func parseRow(rec []string, today time.Time) (store.Person, error) {
	get := func(i int) string { return strings.TrimSpace(rec[i]) }
	cpr, err := domain.ParseCPR(get(0), today)
	if err != nil {
		return store.Person{}, fmt.Errorf("cpr: %w", err)
	}
	var errs []error
	boolean := func(i int) bool {
		switch strings.ToLower(get(i)) {
		case "true":
			return true
		case "false", "":
			return false
		}
		errs = append(errs, fmt.Errorf("%s must be true or false, got %q", Columns[i], get(i)))
		return false
	}
	p := store.Person{
		CPR: cpr.String(), Name: get(1), Address: get(2), Postcode: get(3), City: get(4),
		Country: strings.ToUpper(get(5)), AddressProtected: boolean(6), Deceased: boolean(7),
		DanishPassport: get(8), DanishDrivingLicence: get(9), ArrivedDK: get(10), UpdatedAt: time.Now().UTC(),
	}
	if p.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if p.Country == "" {
		p.Country = "DK"
	}
	if len(p.Country) != 2 || strings.ToUpper(p.Country) != p.Country || strings.ContainsAny(p.Country, "0123456789") {
		errs = append(errs, fmt.Errorf("country must be an ISO 3166-1 alpha-2 code, got %q", get(5)))
	}
	if p.ArrivedDK != "" {
		if _, err := time.Parse("2006-01-02", p.ArrivedDK); err != nil {
			errs = append(errs, fmt.Errorf("arrived_dk must be YYYY-MM-DD, got %q", p.ArrivedDK))
		}
	}
	return p, errors.Join(errs...)
}
