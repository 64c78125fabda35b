package contract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Handler checks every exchange next serves and hands each violation to
// report. It sees every caller — Go clients, the browser of the console
// tests, raw fuzzed requests — and the status exactly as written. The check
// runs after the answer is complete, beside the next request, so it adds
// no latency to what timing tests measure; pending counts the checks still
// running (wait for it before the test ends).
func (v *Validator) Handler(next http.Handler, report func(string), pending *sync.WaitGroup) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			report(fmt.Sprintf("%s %s: reading the request body: %v", r.Method, r.URL.RequestURI(), err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.Context().Err() != nil {
			return // the client went away: nobody reads this answer (499)
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		x := Exchange{Request: r.Clone(context.Background()), RequestBody: body, Status: rec.status,
			Header: w.Header().Clone(), Body: rec.body.Bytes()}
		pending.Go(func() {
			if err := v.Check(x); err != nil {
				report(fmt.Sprintf("openapi.json drift: %s: %v", Describe(x), err))
			}
		})
	})
}

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Transport checks every exchange of a client whose server is not wrapped
// in Handler (a `nemid api` process of its own).
func (v *Validator) Transport(base http.RoundTripper, report func(string)) http.RoundTripper {
	return roundTripper{v: v, base: base, report: report}
}

type roundTripper struct {
	v      *Validator
	base   http.RoundTripper
	report func(string)
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := rt.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	answer, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	res.Body = io.NopCloser(bytes.NewReader(answer))
	x := Exchange{Request: req, RequestBody: body, Status: res.StatusCode, Header: res.Header, Body: answer}
	if err := rt.v.Check(x); err != nil {
		rt.report(fmt.Sprintf("openapi.json drift: %s: %v", Describe(x), err))
	}
	return res, nil
}
