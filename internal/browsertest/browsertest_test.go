package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// TestPage drives a small sign-in form through Page: SignIn types into the
// data-testid fields and lands on the page the form leads to, Location is
// relative to the base URL, Text trims where RawText does not, Value reads
// an input, Notice checks the notice, and a failed step fails the test
// with its name.
func TestPage(t *testing.T) {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!DOCTYPE html><html><head><title>t</title><link rel=\"icon\" href=\"data:,\"></head><body>" + body + "</body></html>"))
	}
	mux.HandleFunc("GET /signin", func(w http.ResponseWriter, r *http.Request) {
		write(w, `<form method="post" action="/signin" data-testid="signin-form">
<input name="email" data-testid="signin-email"><input name="password" type="password" data-testid="signin-password">
<button data-testid="signin-submit">Sign in</button></form>`)
	})
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/home?who="+r.PostFormValue("email")+"&pw="+r.PostFormValue("password"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, r *http.Request) {
		write(w, `<p data-testid="notice">Signed in as `+r.FormValue("who")+`.</p><pre data-testid="pre">  spaced  </pre><input data-testid="kept" value=" typed ">`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	p := browsertest.NewPage(t, ctx, srv.URL)
	p.Step("open the sign-in page", chromedp.Navigate(srv.URL+"/signin"))
	p.SignIn("ada@example.org", "secret")
	if got := p.Location(); got != "/home?who=ada@example.org&pw=secret" {
		t.Fatalf("after sign-in at %q", got)
	}
	if got := p.Text(`[data-testid="pre"]`); got != "spaced" {
		t.Fatalf("Text = %q, want it trimmed", got)
	}
	if got := p.RawText(`[data-testid="pre"]`); got != "  spaced  " {
		t.Fatalf("RawText = %q, want it untrimmed", got)
	}
	if got := p.Value(`[data-testid="kept"]`); got != " typed " {
		t.Fatalf("Value = %q", got)
	}
	p.Notice("Signed in as ada@")

	// A failing method stops the test, naming what it was doing. The
	// closed port comes last: it leaves the tab on an error page.
	for _, c := range []struct {
		name string
		run  func(p *browsertest.Page)
		want string
	}{
		{"notice", func(p *browsertest.Page) { p.Notice("Signed out") }, `notice "Signed in as ada@example.org.", want "Signed out"`},
		{"step", func(p *browsertest.Page) { p.Step("open a closed port", chromedp.Navigate(closedURL())) }, "open a closed port: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fatal{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				c.run(browsertest.NewPage(f, ctx, srv.URL))
			}()
			<-done
			if !strings.HasPrefix(f.msg, c.want) {
				t.Fatalf("failed with %q, want it to begin %q", f.msg, c.want)
			}
		})
	}
}

// fatal records the message of Fatalf and stops its goroutine, as the
// testing package does, without failing the test it wraps.
type fatal struct {
	testing.TB
	msg string
}

func (f *fatal) Helper() {}

func (f *fatal) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// closedURL returns the address of a port nothing listens on.
func closedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u + "/"
}
