package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/opennemid/nemid/domain"
)

// centreColumns are the columns of `nemid centres import` (DESIGN.md §5).
var centreColumns = []string{"code", "name", "kind", "address", "postcode", "city", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "slot_minutes", "desks"}

func runCentres(ctx context.Context, args []string) error {
	if len(args) != 2 || args[0] != "import" {
		return fmt.Errorf("usage: nemid centres import FILE.csv")
	}
	r, err := openInput(args[1])
	if err != nil {
		return err
	}
	defer r.Close()
	centres, err := parseCentres(r)
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.UpsertCentres(ctx, centres); err != nil {
		return err
	}
	fmt.Printf("imported %d centres\n", len(centres))
	return nil
}

// parseCentres reads the CSV with its header row; every row must be a
// valid centre, or nothing is imported.
func parseCentres(r io.Reader) ([]domain.ServiceCentre, error) {
	rd := csv.NewReader(r)
	rd.FieldsPerRecord = len(centreColumns)
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	if !slices.Equal(header, centreColumns) {
		return nil, fmt.Errorf("the header must be %s", strings.Join(centreColumns, ","))
	}
	var out []domain.ServiceCentre
	var problems []error
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		c := domain.ServiceCentre{Code: rec[0], Name: rec[1], Kind: rec[2], Address: rec[3], Postcode: rec[4], City: rec[5]}
		copy(c.Hours[:], rec[6:13])
		var e1, e2 error
		c.SlotMinutes, e1 = strconv.Atoi(rec[13])
		c.Desks, e2 = strconv.Atoi(rec[14])
		if err := errors.Join(e1, e2, c.Validate()); err != nil {
			problems = append(problems, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(problems...)
}
