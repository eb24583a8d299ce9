package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestPoolOrder: a pool of requests (say one per pre-minted token) is sent
// across all connections without repeating one before the pool is used up.
func TestPoolOrder(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	const pool = 100000 // more than a short run can send
	t0 := loadgen.Target{Addr: host}
	for i := range pool {
		t0.Requests = append(t0.Requests, loadgen.Request("GET", host, fmt.Sprintf("/t/%d", i)))
	}
	r, err := loadgen.Run(context.Background(), t0, 8, 300*time.Millisecond)
	if err != nil || r.Requests == 0 || r.Requests >= pool {
		t.Fatalf("Run = %+v, %v", r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for path, n := range seen {
		if n != 1 {
			t.Fatalf("%s was sent %d times before the pool was used up", path, n)
		}
	}
}
