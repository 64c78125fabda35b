package testenv

import (
	"bytes"
	"os/exec"
	"testing"
)

// PDFText extracts a PDF's text with pdftotext -layout, as a person reading
// the printed page would see it.
func PDFText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		Unavailable(t, "pdftotext (poppler-utils) is not installed")
	}
	cmd := exec.Command(bin, "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
