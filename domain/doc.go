// Package domain holds the rules of NemID issuance as plain Go: CPR numbers,
// eligibility, identity documents, witnesses, credentials, the password
// policy and support hours. It knows nothing of Temporal, HTTP or databases,
// so every rule can be tested as a table of cases.
package domain
