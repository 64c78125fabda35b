package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/store"
)

func TestCentresImportAddsAndChanges(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "centres.csv")
	header := "code,name,kind,address,postcode,city,mon,tue,wed,thu,fri,sat,sun,slot_minutes,desks\n"
	require.NoError(t, os.WriteFile(file, []byte(header+
		"KBH,Borgerservice København,citizen_service,Rådhuspladsen 1,1599,København V,08:00-12:00,,,,,,,15,6\n"+
		"VEJ,Skattecenter Vejle,tax,Skolegade 1,7100,Vejle,09:00-15:00,09:00-15:00,,,,,,20,1\n"), 0o600))
	out, err := runCaptured(t, dir, "centres", "import", file)
	require.NoError(t, err)
	assert.Contains(t, out, "imported 2 centres")

	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	kbh, err := st.GetCentre(context.Background(), "KBH")
	require.NoError(t, err)
	assert.Equal(t, "08:00-12:00", kbh.Hours[0])
	assert.Empty(t, kbh.Hours[1], "closed on Tuesdays now")
	assert.Equal(t, 6, kbh.Desks)
	all, err := st.ListCentres(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 5, "the four built in and VEJ")

	tests := []struct{ name, row string }{
		{"hours that close before they open", "AAR,Aarhus,citizen_service,Vej 1,8000,Aarhus,17:00-09:00,,,,,,,15,3"},
		{"an unknown kind", "AAR,Aarhus,library,Vej 1,8000,Aarhus,,,,,,,,15,3"},
		{"desks that are no number", "AAR,Aarhus,citizen_service,Vej 1,8000,Aarhus,,,,,,,,15,many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(file, []byte(header+tt.row+"\n"), 0o600))
			_, err := runCaptured(t, dir, "centres", "import", file)
			assert.Error(t, err)
		})
	}
}

// TestTokenForAnImportedCentre: a caseworker token can be created for a
// centre `nemid centres import` added, and only for a centre there is.
func TestTokenForAnImportedCentre(t *testing.T) {
	dir := t.TempDir()
	_, err := runCaptured(t, dir, "token", "create", "--role", "caseworker", "--scope", "HEL")
	require.ErrorContains(t, err, "centre", "no centre HEL yet")
	file := filepath.Join(dir, "centres.csv")
	require.NoError(t, os.WriteFile(file, []byte("code,name,kind,address,postcode,city,mon,tue,wed,thu,fri,sat,sun,slot_minutes,desks\n"+
		"HEL,Borgerservice Helsingør,citizen_service,\"Helsingør Rådhus, Stengade 59\",3000,Helsingør,09:00-15:00,09:00-15:00,,,,,,15,2\n"), 0o600))
	_, err = runCaptured(t, dir, "centres", "import", file)
	require.NoError(t, err)
	out, err := runCaptured(t, dir, "token", "create", "--role", "caseworker", "--scope", "HEL", "--name", "Mette Jensen")
	require.NoError(t, err)

	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	got, err := st.TokenByValue(context.Background(), lastLine(out))
	require.NoError(t, err)
	assert.Equal(t, "caseworker", got.Role)
	assert.Equal(t, "HEL", got.Scope)
}
