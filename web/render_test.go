package web

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/porticoapi/portico/portal"
)

// settingsOnly is a Store that knows only the settings; the tests here do
// not reach the catalogue.
type settingsOnly struct{ Store }

func (settingsOnly) FindSettings(context.Context) (*portal.Settings, error) {
	s := portal.DefaultSettings()
	return &s, nil
}

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{Store: settingsOnly{}, GatewayURL: "http://localhost:8081"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRenderErrorSendsNoPartialPage: a page that fails half-way through
// answers with the 500 error page and none of what it had written.
func TestRenderErrorSendsNoPartialPage(t *testing.T) {
	s := newTestServer(t)
	failing := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		io.WriteString(w, "<!DOCTYPE html><html><body><h1>half a page")
		return errors.New("database on fire")
	})
	srv := httptest.NewServer(s.requestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, failing)
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	body := string(b)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", res.StatusCode)
	}
	if strings.Contains(body, "half a page") {
		t.Fatalf("the partial page was sent")
	}
	if !strings.Contains(body, `data-testid="error-message"`) || !strings.Contains(body, html.EscapeString(internalErrorMessage)) {
		t.Fatalf("no error page")
	}
	if strings.Contains(body, "database on fire") {
		t.Fatalf("the internal error reached the visitor")
	}
}

func TestErrorMapping(t *testing.T) {
	s := newTestServer(t)
	for _, tc := range []struct {
		err    error
		method string
		status int
		shown  string
	}{
		{portal.Errorf(portal.ENOTFOUND, "No such thing."), "GET", 404, "No such thing."},
		{portal.Errorf(portal.EINVALID, "Bad input."), "GET", 400, "Bad input."},
		{portal.Errorf(portal.EFORBIDDEN, "Not yours."), "GET", 403, "Not yours."},
		{portal.Errorf(portal.ECONFLICT, "Taken."), "POST", 409, "Taken."},
		{portal.Errorf(portal.EUNAUTHORIZED, "Sign in first."), "POST", 401, "Sign in first."},
		{portal.Errorf(portal.EINTERNAL, "secret detail"), "GET", 500, html.EscapeString(internalErrorMessage)},
		{errors.New("wrapped: secret detail"), "GET", 500, html.EscapeString(internalErrorMessage)},
	} {
		w := httptest.NewRecorder()
		s.error(w, httptest.NewRequest(tc.method, "/somewhere", nil), tc.err)
		if w.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, w.Code, tc.status)
		}
		body := w.Body.String()
		if !strings.Contains(body, tc.shown) || strings.Contains(body, "secret detail") {
			t.Errorf("%v: page shows the wrong message", tc.err)
		}
	}

	// A page that needs a signed-in user sends an anonymous visitor to
	// sign in, and back afterwards.
	w := httptest.NewRecorder()
	s.error(w, httptest.NewRequest("GET", "/profile?tab=keys", nil), portal.Errorf(portal.EUNAUTHORIZED, "Please sign in."))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?next=%2Fprofile%3Ftab%3Dkeys" {
		t.Errorf("unauthorized page = %d to %q", w.Code, w.Header().Get("Location"))
	}
}

// TestRecoverPanics: a panic becomes the 500 page with the security
// headers, and is logged.
func TestRecoverPanics(t *testing.T) {
	s := newTestServer(t)
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		s.requestID, s.securityHeaders, s.recoverPanics)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `data-testid="error-message"`) || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("panic answered %d %q", w.Code, w.Body.String())
	}
	if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Request-Id") == "" {
		t.Fatalf("panic page lacks headers")
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, c := range []Config{
		{GatewayURL: "http://localhost:8081"},                                 // no store
		{Store: settingsOnly{}},                                               // no gateway URL
		{Store: settingsOnly{}, GatewayURL: "localhost:8081"},                 // not absolute
		{Store: settingsOnly{}, GatewayURL: "http://x", PublicURL: "ftp://x"}, // bad public URL
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}
