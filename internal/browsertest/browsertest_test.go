package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestConsole checks that the collector sees what it is for: a script
// error and a Content-Security-Policy violation, and nothing on a clean
// page.
func TestConsole(t *testing.T) {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; img-src data:")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><html><head><title>t</title><link rel=\"icon\" href=\"data:,\"></head><body>" + body + "</body></html>"))
		}
	}
	mux.HandleFunc("/clean", page("<p>hello</p>"))
	mux.HandleFunc("/inline", page("<p>hi</p><script>document.title = 'ran'</script>"))
	mux.HandleFunc("/throws", page(`<script src="/throw.js"></script>`))
	mux.HandleFunc("/throw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte("throw new Error('boom');"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/clean")); err != nil {
		t.Fatal(err)
	}
	console.AssertClean(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/inline")); err != nil {
		t.Fatal(err)
	}
	if !waitProblem(console, "Content Security Policy") {
		t.Fatalf("no CSP violation reported for an inline script; got %v", console.Messages())
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/throws")); err != nil {
		t.Fatal(err)
	}
	if !waitProblem(console, "boom") {
		t.Fatalf("no exception reported; got %v", console.Messages())
	}
}

func waitProblem(c *browsertest.Console, text string) bool {
	for range 50 {
		for _, m := range c.Problems() {
			if strings.Contains(m.Text, text) {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
