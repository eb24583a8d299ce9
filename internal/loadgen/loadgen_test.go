package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/internal/loadgen"
)

// TestRun checks the generator against net/http's server in the three body
// framings it must parse, and that a wrong status counts as an error.
func TestRun(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/fixed":
			w.Write([]byte("hello"))
		case "/chunked":
			w.(http.Flusher).Flush() // forces chunked encoding
			fmt.Fprint(w, strings.Repeat("x", 10000))
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		path     string
		wantErrs bool
	}{
		{"/fixed", false},
		{"/chunked", false},
		{"/teapot", true},
	} {
		before := hits.Load()
		r, err := loadgen.Run(context.Background(), loadgen.Target{
			Addr:     host,
			Requests: [][]byte{loadgen.Request("GET", host, tc.path)},
		}, 2, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if r.Requests < 10 {
			t.Fatalf("%s: only %d requests in 200ms", tc.path, r.Requests)
		}
		if served := hits.Load() - before; served < r.Requests {
			t.Fatalf("%s: generator counted %d requests, server saw %d", tc.path, r.Requests, served)
		}
		if (r.Errors > 0) != tc.wantErrs {
			t.Fatalf("%s: %d errors, want errors=%v", tc.path, r.Errors, tc.wantErrs)
		}
		if r.P50 <= 0 || r.P99 < r.P50 {
			t.Fatalf("%s: p50 %v p99 %v", tc.path, r.P50, r.P99)
		}
	}
}
