package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// Outside is what the world outside the system owns and the load writes
// directly: the CPR register (synthetic people) and the staff's tokens.
// Everything else goes through the API.
type Outside interface {
	UpsertPersons(ctx context.Context, people []store.Person) error
	IssueToken(ctx context.Context, spec store.NewToken, extra store.TokenStep) (store.APIToken, string, error)
}

// The issuance paths of DESIGN.md §1.
const (
	PathCounter = "counter"
	PathBank    = "bank"
	PathAbroad  = "abroad"
)

// Paths in report order.
var Paths = []string{PathCounter, PathBank, PathAbroad}

// Mix weighs the paths: counter=2,bank=1,abroad=1.
type Mix map[string]int

// ParseMix reads "counter=2,bank=1,abroad=1"; a path left out gets no issuances.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("mix %q: want path=weight, comma-separated", s)
		}
		if !slices.Contains(Paths, name) {
			return nil, fmt.Errorf("mix %q: unknown path %q (want %s)", s, name, strings.Join(Paths, ", "))
		}
		w, err := strconv.Atoi(weight)
		if err != nil || w < 0 {
			return nil, fmt.Errorf("mix %q: the weight of %s is not a whole number ≥ 0", s, name)
		}
		m[name] = w
	}
	total := 0
	for _, w := range m {
		total += w
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: every weight is 0", s)
	}
	return m, nil
}

// EvenMix weighs the three paths alike.
func EvenMix() Mix { return Mix{PathCounter: 1, PathBank: 1, PathAbroad: 1} }

func (m Mix) String() string {
	var parts []string
	for _, p := range Paths {
		if m[p] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", p, m[p]))
		}
	}
	return strings.Join(parts, ",")
}

// Sequence spreads n issuances over the paths by weight, interleaved
// (smooth weighted round robin), so the mix holds at every point of the
// run and not only at its end.
func (m Mix) Sequence(n int) []string {
	total := 0
	for _, w := range m {
		total += w
	}
	current := map[string]int{}
	out := make([]string, 0, n)
	for range n {
		best := ""
		for _, p := range Paths {
			current[p] += m[p]
			if m[p] > 0 && (best == "" || current[p] > current[best]) {
				best = p
			}
		}
		current[best] -= total
		out = append(out, best)
	}
	return out
}

// person is one synthetic person of the register, with what the load
// needs to act as them.
type person struct {
	cpr            string
	passport       string                // abroad: the Danish passport number the register holds
	representation domain.Representation // abroad: where the password is collected
	address        domain.Address        // abroad: where the card goes
}

// syntheticPeople writes a person for each issuance into the register:
// adults born 1940–1999 living in Denmark (counter, bank), or abroad in a
// country with a representation, with a Danish passport (abroad).
func syntheticPeople(ctx context.Context, out Outside, paths []string, now time.Time) ([]person, error) {
	reps := domain.BuiltinRepresentations()
	sort.Slice(reps, func(i, j int) bool { return reps[i].Code < reps[j].Code })
	taken := map[string]bool{}
	people := make([]person, len(paths))
	rows := make([]store.Person, len(paths))
	for i, path := range paths {
		cpr := freshCPR(taken)
		p := person{cpr: cpr}
		row := store.Person{CPR: cpr, Name: "Load Test " + cpr[:6], Address: "Testvej " + strconv.Itoa(1+i%200),
			Postcode: "1000", City: "København K", Country: "DK", UpdatedAt: now.UTC()}
		if path == PathAbroad {
			rep := reps[i%len(reps)]
			p.representation = rep
			p.passport = fmt.Sprintf("LP%07d", i)
			p.address = domain.Address{Lines: []string{fmt.Sprintf("%d Load Street", 1+i%200)}, Postcode: "1000",
				City: rep.Address.City, Country: rep.Address.Country}
			row.Address, row.City, row.Country, row.DanishPassport = p.address.Lines[0], p.address.City, p.address.Country, p.passport
		}
		people[i], rows[i] = p, row
	}
	if err := out.UpsertPersons(ctx, rows); err != nil {
		return nil, fmt.Errorf("write the synthetic people into the register: %w", err)
	}
	return people, nil
}

// demoCPRs are the demo register's people (register/demo.csv), left alone.
var demoCPRs = map[string]bool{"0101901234": true, "1502854321": true, "2304781122": true, "0303504321": true,
	"1006154123": true, "0101104321": true, "2007884112": true, "1108795221": true, "0512921337": true,
	"1210701234": true, "0708651239": true, "0101400000": true}

// freshCPR draws a CPR number of someone born 1940–1999 (7th digit 1–3:
// the 1900s) not drawn before in this run.
func freshCPR(taken map[string]bool) string {
	for {
		born := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rand.IntN(60*365))
		cpr := born.Format("020106") + fmt.Sprintf("%d%03d", 1+rand.IntN(3), rand.IntN(1000))
		if !taken[cpr] && !demoCPRs[cpr] {
			taken[cpr] = true
			return cpr
		}
	}
}

// newPassword chooses the person's own password: 12 letters and digits
// that the domain's policy accepts for this CPR and NemID number.
func newPassword(cpr, userID string) (string, error) {
	parsed, err := domain.ParseCPR(cpr, time.Now())
	if err != nil {
		return "", fmt.Errorf("choose a password: %w", err)
	}
	const letters, digits = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ", "23456789"
	for range 100 {
		b := []byte{letters[rand.IntN(len(letters))], digits[rand.IntN(len(digits))]}
		for len(b) < 12 {
			all := letters + digits
			b = append(b, all[rand.IntN(len(all))])
		}
		pw := string(b)
		if len(domain.PasswordViolations(pw, parsed, userID)) == 0 {
			return pw, nil
		}
	}
	return "", fmt.Errorf("no password the policy accepts in 100 draws")
}
