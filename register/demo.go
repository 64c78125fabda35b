package register

import (
	"bytes"
	_ "embed"
	"time"

	"github.com/opennemid/nemid/store"
)

// demoCSV is the small register `nemid dev` loads into an empty database:
// people that exercise every rule (abroad, address protection, deceased,
// under 15, a 16-year-old who cannot witness, a short stay, witnesses, and
// a valid CPR that fails the modulus-11 check).
//
//go:embed demo.csv
var demoCSV []byte

// Demo returns the demo register.
func Demo(today time.Time) ([]store.Person, error) {
	return ParseCSV(bytes.NewReader(demoCSV), today)
}
