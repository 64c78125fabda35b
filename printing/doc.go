// Package printing renders the letters and documents of NemID issuance as
// PDF: the code card letter, the password letter, the replacement card
// letter, the activation reminder, and the two-page handover document
// printed at the counter.
//
// It is pure: each renderer takes plain values and returns the PDF's bytes,
// touching no database, clock or random source. The same input always gives
// the same bytes (the PDF's creation date is the letter's date, catalogs are
// sorted, compression is fixed), so a retried activity prints the identical
// letter.
//
// Every page is A4 with the recipient in the window position of a C5 or DL
// window envelope (DIN 5008 form B: 20 mm from the left, 45–90 mm from the
// top), the sender, the letter's date (in Danish time) and the support
// phone and opening hours. Text uses the PDF core fonts in Windows-1252, so
// Danish æ ø å print and extract exactly; letters outside that code page
// lose their diacritics rather than disappear.
//
// The text is extractable (pdftotext -layout): the card shows
// "Card number: <n>" and each key/code pair as one run "KKKK CCCCCC"; the
// password page shows "NemID number: <n>" and "Temporary password: <n>".
// Code cards and passwords never share a page: a card letter carries no
// NemID number or password, and the handover document puts them on
// separate pages to be sealed separately.
//
// Renderers are safe for concurrent use. Input they refuse (not exactly 148
// pairs, a malformed key, code, NemID number or password, a missing date)
// gives an error wrapping ErrInvalidInput that never quotes a secret.
package printing
