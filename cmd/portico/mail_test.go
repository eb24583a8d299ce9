package main

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porticoapi/portico/internal/smtptest"
	_ "modernc.org/sqlite"
)

// TestMailOverSMTP: with --smtp-url and --mail-from, the real binary sends
// a password reset through a real SMTP server, with the link built from
// --public-url, and the link works.
func TestMailOverSMTP(t *testing.T) {
	dir := t.TempDir()
	if r := runPortico(t, dir, nil, "an old long password\n", "user", "add", "--email", "dee@example.com", "--name", "Dee", "--password-stdin"); r.code != 0 {
		t.Fatalf("user add = %d %s", r.code, r.stderr)
	}
	smtp := smtptest.New(t, smtptest.Options{})
	in := startPortico(t, dir, nil, "--smtp-url", "smtp://"+smtp.Addr, "--mail-from", "apis@contoso.example")

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(u string) string {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", u, res.StatusCode)
		}
		return string(b)
	}
	post := func(u string, form url.Values) string {
		t.Helper()
		res, err := client.PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s = %d\n%s", u, res.StatusCode, b)
		}
		return string(b)
	}

	page := get(in.portal + "/reset-password")
	m := regexp.MustCompile(`name="captcha_id" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CAPTCHA on the reset page")
	}
	// The answer, read from the store itself, never through the portal.
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "portico.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var digits string
	if err := db.QueryRow(`SELECT digits FROM captchas WHERE id = ?`, m[1]).Scan(&digits); err != nil {
		t.Fatal(err)
	}
	post(in.portal+"/reset-password", url.Values{"email": {"dee@example.com"}, "captcha_id": {m[1]}, "captcha": {digits}})

	msg := smtp.Wait(t, 1)[0]
	if msg.From != "apis@contoso.example" || len(msg.To) != 1 || msg.To[0] != "dee@example.com" {
		t.Fatalf("envelope from %q to %q", msg.From, msg.To)
	}
	link := regexp.MustCompile(`https?://\S+/confirm/password\?token=\S+`).FindString(msg.Text)
	if !strings.HasPrefix(link, in.portal+"/confirm/password?token=") {
		t.Fatalf("the link %q is not built from --public-url %s:\n%s", link, in.portal, msg.Text)
	}
	if !strings.Contains(get(link), `data-testid="choose-password-form"`) {
		t.Fatal("the mailed link does not lead to the new-password form")
	}
	token := strings.TrimPrefix(link, in.portal+"/confirm/password?token=")
	done := post(in.portal+"/confirm/password", url.Values{"token": {token}, "password": {"a brand new passphrase"}, "password2": {"a brand new passphrase"}})
	if !strings.Contains(done, `data-testid="password-reset-done"`) {
		t.Fatal("the new password was not accepted")
	}
}
