package observe_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/porticoapi/portico/observe"
	"github.com/prometheus/client_golang/prometheus"
)

func TestEndpoints(t *testing.T) {
	var readyErr error
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	mux := http.NewServeMux()
	observe.Endpoints{
		Ready:    func(context.Context) error { return readyErr },
		Gatherer: reg,
		Logger:   slog.New(slog.DiscardHandler),
	}.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz = %d while ready", code)
	}
	readyErr = errors.New("store down")
	if code, body := get("/readyz"); code != 503 || strings.Contains(body, "store down") {
		t.Fatalf("/readyz = %d %q while not ready; want 503 without the error text", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "portico_test_total 3") {
		t.Fatalf("/metrics = %d %q", code, body)
	}
}

func TestRequestID(t *testing.T) {
	for _, tc := range []struct {
		header string
		keep   bool
	}{
		{"abc-123", true},
		{"4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{strings.Repeat("a", 129), false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("X-Request-Id", tc.header)
		}
		got := observe.RequestID(r)
		if tc.keep && got != tc.header {
			t.Errorf("RequestID(%q) = %q, want it kept", tc.header, got)
		}
		if !tc.keep && (got == tc.header || len(got) != 32) {
			t.Errorf("RequestID(%q) = %q, want a new 32-character id", tc.header, got)
		}
	}
	if observe.NewRequestID() == observe.NewRequestID() {
		t.Fatal("two new request ids are equal")
	}
}
