// Package domain holds the rules of NemID issuance as plain Go: CPR numbers,
// eligibility, identity documents, witnesses, credentials, the password
// policy and support hours. It knows nothing of Temporal, HTTP or databases,
// so every rule can be tested as a table of cases. Calendar rules are judged
// on the date in Europe/Copenhagen.
//
// CPR numbers and dates:
//
//	ParseCPR(s string, today time.Time) (CPR, error)    // ErrCPRInvalid
//	CPR: String, Masked, BirthDate, AgeOn(time.Time), Mod11Valid, IsZero
//	CPRLookupHash(key []byte, c CPR) string             // HMAC-SHA256 hex
//	Date{Year, Month, Day}; ParseDate, DateOf(time.Time), Before, After,
//	    Compare, AddDays, AddMonths, JSON and text as "2006-01-02"
//	Copenhagen() *time.Location
//
// Applications, one evaluation per path; each returns every broken rule as
// a Violation{Code, Message} (the Code* constants) and, when none is
// broken, an Outcome (Delivery, Reason, Note, PublicSignature,
// WitnessStatement, Representation):
//
//	EvaluateCounter(CounterApplication, CounterFacts) (Outcome, []Violation)
//	EvaluateBank(BankApplication, BankFacts) (Outcome, []Violation)
//	EvaluateAbroad(AbroadApplication, AbroadFacts) (Outcome, []Violation)
//	PickupViolations(Pickup, HashKeys, orderDocumentHash string, feeDKK int) []Violation
//	PhotoIDViolations(Document, today time.Time) []Violation
//	Person (register record): LivesAbroad, ShortStay, RegisteredAddress
//	WitnessWindowStart(applicationAt), WitnessStatementCounts(acceptedAt, applicationAt)
//	Document, DocumentType (Doc* constants), Witness, Address
//	Centres, LookupCentre, BuiltinRepresentations, FindRepresentation
//
// Credentials, drawn from crypto/rand, and their protection:
//
//	NewNemIDNumber, NewTemporaryPassword, NewCardNumber () (string, error)
//	NewCodeCard() (CodeCard, error)                     // 148 CodePairs
//	HashKeys (NEMID_HASH_KEY): the first key writes, every key verifies
//	HashPassword(keys, pw) (string, error); VerifyPassword(keys, hash, pw) (ok, stale bool, err error)
//	CodeMAC, VerifyCodeMAC, TemporaryPasswordMAC, VerifyTemporaryPassword, DocumentNumberHash
//	PasswordViolations(pw string, cpr CPR, nemID string) []Violation
//
// Support:
//
//	SupportPhone, SupportHoursLines()
//	SupportStatus(now time.Time) (openNow bool, hoursToday *string)
package domain
