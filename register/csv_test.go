package register

import (
	"strings"
	"testing"
	"time"
)

var today = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const header = "cpr,name,address,postcode,city,country,address_protected,deceased,danish_passport,danish_driving_licence,arrived_dk\n"

func TestParseCSV(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		want    int
		wantErr string
	}{
		{"a dashed and an undashed CPR", "010190-1234,Søren Ærø,Nørregade 1,1165,København K,DK,false,false,,,\n" +
			"0202854321,Anna,Main St 1,SW1,London,gb,false,false,P123,,\n", 2, ""},
		{"an arrival date", "010190-1234,A,B,1,C,DK,true,false,,,2026-10-01\n", 1, ""},
		{"a malformed CPR names its line", "310290-1234,A,B,1,C,DK,false,false,,,\n", 0, "line 2: cpr"},
		{"a bad boolean", "010190-1234,A,B,1,C,DK,yes,false,,,\n", 0, "address_protected must be true or false"},
		{"a bad country", "010190-1234,A,B,1,C,DNK,false,false,,,\n", 0, "ISO 3166-1"},
		{"a bad date", "010190-1234,A,B,1,C,DK,false,false,,,01-10-2026\n", 0, "arrived_dk"},
		{"a missing column", "010190-1234,A,B,1,C,DK,false,false,,\n", 0, "wrong number of fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			people, err := ParseCSV(strings.NewReader(header+tc.body), today)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(people) != tc.want {
				t.Fatalf("got %d people, want %d", len(people), tc.want)
			}
			for _, p := range people {
				if len(p.CPR) != 10 || len(p.Country) != 2 {
					t.Errorf("not normalised: %+v", p)
				}
			}
		})
	}
}

func TestParseCSVRejectsAWrongHeader(t *testing.T) {
	_, err := ParseCSV(strings.NewReader("cpr,name\n010190-1234,A\n"), today)
	if err == nil {
		t.Fatal("a wrong header was accepted")
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add(header + "010190-1234,A,B,1,C,DK,false,false,,,\n")
	f.Add(header + "\"0101901234\",\"Ø, Å\",\"x\ny\",1,C,gb,TRUE,false,P1,D2,2020-02-29\n")
	f.Fuzz(func(t *testing.T, body string) {
		people, err := ParseCSV(strings.NewReader(body), today)
		if err != nil {
			return
		}
		for _, p := range people {
			if len(p.CPR) != 10 || p.Name == "" || len(p.Country) != 2 {
				t.Fatalf("accepted an invalid row: %+v", p)
			}
		}
	})
}

func TestDemoRegisterParses(t *testing.T) {
	people, err := Demo(today)
	if err != nil {
		t.Fatal(err)
	}
	var abroad, protected, deceased, shortStay bool
	for _, p := range people {
		abroad = abroad || p.Country != "DK"
		protected = protected || p.AddressProtected
		deceased = deceased || p.Deceased
		shortStay = shortStay || p.ArrivedDK != ""
	}
	if !abroad || !protected || !deceased || !shortStay {
		t.Fatalf("the demo register must exercise every rule: abroad=%v protected=%v deceased=%v shortStay=%v", abroad, protected, deceased, shortStay)
	}
}
