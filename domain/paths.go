package domain

// The issuance paths of DESIGN.md §1: the one list every layer accepts.
const (
	PathCounter = "counter"
	PathBank    = "bank"
	PathAbroad  = "abroad"
)

// Paths lists the accepted issuance paths.
func Paths() []string { return []string{PathCounter, PathBank, PathAbroad} }
