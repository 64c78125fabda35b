package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/opennemid/nemid/api"
)

func TestParseTokenSpec(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name              string
		role, scope, nick string
		ttl               *string
		wantTTL           time.Duration
		wantName          string
		codes             []string
	}{
		{"no ttl never expires", "caseworker", "KBH", "", nil, 0, "caseworker:KBH", nil},
		{"a name is kept, trimmed", "caseworker", "KBH", "  Mette Jensen ", nil, 0, "Mette Jensen", nil},
		{"hours", "admin", "all", "", str("2160h"), 2160 * time.Hour, "admin:all", nil},
		{"seconds", "post", "post", "", str("90s"), 90 * time.Second, "post:post", nil},
		{"mixed units", "bank", "1234", "", str("1h30m"), 90 * time.Minute, "bank:1234", nil},
		{"spaces around", "embassy", "LONDON", "", str(" 8h "), 8 * time.Hour, "embassy:LONDON", nil},
		{"days are not Go", "admin", "all", "", str("90d"), 0, "", []string{"ttl_invalid"}},
		{"words", "admin", "all", "", str("soon"), 0, "", []string{"ttl_invalid"}},
		{"empty", "admin", "all", "", str(""), 0, "", []string{"ttl_invalid"}},
		{"zero", "admin", "all", "", str("0s"), 0, "", []string{"ttl_invalid"}},
		{"negative", "admin", "all", "", str("-5m"), 0, "", []string{"ttl_invalid"}},
		{"unknown role", "king", "all", "", nil, 0, "", []string{"role_invalid"}},
		{"missing scope", "admin", "", "", nil, 0, "", []string{"scope_invalid"}},
		{"wrong scope", "caseworker", "OSLO", "", nil, 0, "", []string{"scope_invalid"}},
		{"an imported centre", "caseworker", "HEL", "", nil, 0, "caseworker:HEL", nil},
		{"a built-in code the store lacks", "caseworker", "AAL", "", nil, 0, "", []string{"scope_invalid"}},
		{"long name", "admin", "all", strings.Repeat("æ", 201), nil, 0, "", []string{"name_invalid"}},
		{"200 characters is fine", "admin", "all", strings.Repeat("æ", 200), nil, 0, strings.Repeat("æ", 200), nil},
		{"control character", "admin", "all", "a\tb", nil, 0, "", []string{"name_invalid"}},
		{"all broken", "", "", "\x00", str("x"), 0, "", []string{"role_invalid", "name_invalid", "ttl_invalid"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, broken := api.ParseTokenSpec(c.role, c.scope, c.nick, c.ttl, []string{"AAR", "HEL", "KBH", "ODE"})
			var codes []string
			for _, d := range broken {
				codes = append(codes, d.Code)
			}
			assert.Equal(t, c.codes, codes)
			if c.codes == nil {
				assert.Equal(t, c.wantTTL, spec.TTL)
				assert.Equal(t, c.wantName, spec.Name)
			}
		})
	}
}
