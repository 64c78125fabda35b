package contract_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/contract"
)

// TestTheValidatorCatchesDrift feeds the validator exchanges that break the
// served document in every way it checks, and one that keeps it: a
// validator that passes everything would fail here.
func TestTheValidatorCatchesDrift(t *testing.T) {
	v, err := contract.Served()
	require.NoError(t, err)
	json := http.Header{"Content-Type": {"application/json; charset=UTF-8"}}
	pdf := http.Header{"Content-Type": {"application/pdf"}}
	errorBody := `{"error":{"code":"not_found","message":"no such issuance"}}`
	tests := []struct {
		name                 string
		method, path, bearer string
		reqBody              string
		status               int
		header               http.Header
		body                 string
		wantErr              string // empty: the exchange keeps the document
	}{
		{"a documented answer", "GET", "/v1/support", "", "", 200, json,
			`{"phone":"+45 72 24 70 50","open_now":true,"hours_today":"08:30-20:00"}`, ""},
		{"a field of the wrong type", "GET", "/v1/support", "", "", 200, json,
			`{"phone":4572247050,"open_now":true,"hours_today":null}`, "doesn't match schema"},
		{"an undocumented status", "GET", "/v1/support", "", "", 418, json, errorBody, "status is not supported"},
		{"a 500", "GET", "/v1/support", "", "", 500, json, `{"error":{"code":"internal","message":"x"}}`, "status is not supported"},
		{"an error without its shape", "GET", "/v1/issuances/x", "Bearer t", "", 404, json, `{"message":"no"}`, "doesn't match schema"},
		{"the wrong content type", "POST", "/v1/issuances/x/handover", "Bearer t", "", 200, json, `{}`, "Content-Type"},
		{"a PDF where one is documented", "POST", "/v1/issuances/x/handover", "Bearer t", "", 200, pdf, "%PDF-1.3", ""},
		{"a route the document does not name, served", "GET", "/v1/secret", "", "", 200, json, `{}`, "not in openapi.json"},
		{"a route the document does not name, 404", "GET", "/v1/secret", "", "", 404, json, errorBody, ""},
		{"a request without its bearer, accepted", "GET", "/v1/issuances/x", "", "", 200, json, `{}`, "does not allow the request"},
		{"a malformed body, accepted", "POST", "/v1/activations", "", `{"user_id":12}`, 201, json,
			`{"activation_id":"a","card_number":"1","key":"0001"}`, "does not allow the request"},
		{"a body where none is documented, accepted", "POST", "/v1/letters/x/dispatched", "Bearer t", `{"x":1}`, 200, json,
			`{}`, "does not allow the request"},
		{"a GET's body is ignored, as the server does", "GET", "/v1/support", "", `{"x":1}`, 200, json,
			`{"phone":"+45","open_now":true,"hours_today":null}`, ""},
		{"a malformed body, refused", "POST", "/v1/activations", "", `{"user_id":12}`, 400, json,
			`{"error":{"code":"malformed","message":"x"}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.reqBody))
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.bearer != "" {
				req.Header.Set("Authorization", tc.bearer)
			}
			err := v.Check(contract.Exchange{Request: req, RequestBody: []byte(tc.reqBody), Status: tc.status,
				Header: tc.header, Body: []byte(tc.body)})
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

// TestTheHandlerReportsWhatItServes puts the validator in front of a server
// that drifts and one that does not: only the first is reported.
func TestTheHandlerReportsWhatItServes(t *testing.T) {
	v, err := contract.Served()
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		status  int
		reports int
	}{{"documented", http.StatusOK, 0}, {"undocumented status", http.StatusTeapot, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			var reports []string
			var pending sync.WaitGroup
			h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"phone":"+45","open_now":false,"hours_today":null}`))
			}), func(msg string) { reports = append(reports, msg) }, &pending)
			srv := httptest.NewServer(h)
			defer srv.Close()
			res, err := http.Get(srv.URL + "/v1/support")
			require.NoError(t, err)
			res.Body.Close()
			pending.Wait()
			require.Equal(t, tc.status, res.StatusCode, "the answer passes through unchanged")
			require.Len(t, reports, tc.reports, "%v", reports)

			// The client side reports the same.
			reports = nil
			client := &http.Client{Transport: v.Transport(http.DefaultTransport, func(msg string) { reports = append(reports, msg) })}
			plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"phone":"+45","open_now":false,"hours_today":null}`))
			}))
			defer plain.Close()
			res, err = client.Get(plain.URL + "/v1/support")
			require.NoError(t, err)
			res.Body.Close()
			require.Len(t, reports, tc.reports, "%v", reports)
		})
	}
}
