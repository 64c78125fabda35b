package domain

// Centre is a Citizen Service or tax centre where counter applications are
// made. Address-protected people collect later letters there.
type Centre struct {
	Code    string
	Name    string
	Address Address
}

// Representation is a Danish embassy or consulate where abroad applicants
// collect their temporary password. Its country is Address.Country.
type Representation struct {
	Code    string
	Name    string
	Address Address
}

// Centres returns the built-in centres: KBH, AAR, ODE, AAL.
func Centres() []Centre {
	return []Centre{
		{Code: "KBH", Name: "Borgerservice København", Address: Address{
			Lines: []string{"Københavns Rådhus", "Rådhuspladsen 1"}, Postcode: "1599", City: "København V", Country: "DK"}},
		{Code: "AAR", Name: "Borgerservice Aarhus", Address: Address{
			Lines: []string{"Dokk1", "Hack Kampmanns Plads 2"}, Postcode: "8000", City: "Aarhus C", Country: "DK"}},
		{Code: "ODE", Name: "Borgerservice Odense", Address: Address{
			Lines: []string{"Odense Rådhus", "Flakhaven 2"}, Postcode: "5000", City: "Odense C", Country: "DK"}},
		{Code: "AAL", Name: "Borgerservice Aalborg", Address: Address{
			Lines: []string{"Boulevarden 13"}, Postcode: "9000", City: "Aalborg", Country: "DK"}},
	}
}

// LookupCentre finds a built-in centre by its code. The centres in force
// are the store's (centres imported with `nemid centres import` too; the
// built-in ones are seeded there): this list only serves workflows started
// before their input carried the issuing centre.
func LookupCentre(code string) (Centre, bool) {
	for _, c := range Centres() {
		if c.Code == code {
			return c, true
		}
	}
	return Centre{}, false
}

// BuiltinRepresentations returns the default representations: LONDON (GB),
// PARIS (FR), BERLIN (DE), WASHINGTON (US), BANGKOK (TH). Representations
// are configuration data; this is the list used when none is configured.
func BuiltinRepresentations() []Representation {
	return []Representation{
		{Code: "LONDON", Name: "Royal Danish Embassy in London", Address: Address{
			Lines: []string{"55 Sloane Street"}, Postcode: "SW1X 9SR", City: "London", Country: "GB"}},
		{Code: "PARIS", Name: "Royal Danish Embassy in Paris", Address: Address{
			Lines: []string{"77 avenue Marceau"}, Postcode: "75116", City: "Paris", Country: "FR"}},
		{Code: "BERLIN", Name: "Royal Danish Embassy in Berlin", Address: Address{
			Lines: []string{"Rauchstraße 1"}, Postcode: "10787", City: "Berlin", Country: "DE"}},
		{Code: "WASHINGTON", Name: "Royal Danish Embassy in Washington", Address: Address{
			Lines: []string{"3200 Whitehaven Street NW"}, Postcode: "DC 20008", City: "Washington", Country: "US"}},
		{Code: "BANGKOK", Name: "Royal Danish Embassy in Bangkok", Address: Address{
			Lines: []string{"10 Soi Attakarn Prasit", "South Sathorn Road"}, Postcode: "10120", City: "Bangkok", Country: "TH"}},
	}
}

// FindRepresentation finds a representation by its code in reps.
func FindRepresentation(reps []Representation, code string) (Representation, bool) {
	for _, r := range reps {
		if r.Code == code {
			return r, true
		}
	}
	return Representation{}, false
}
