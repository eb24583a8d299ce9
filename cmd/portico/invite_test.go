package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porticoapi/portico/internal/smtptest"
)

// TestUserInvite: `portico user invite` prints the link, built from
// --public-url, and mails the same link over SMTP; the running portal
// accepts it with a new password and signs the invitee in; the link works
// once; an address with an account is refused. Without --smtp-url the mail
// goes to the outbox.
func TestUserInvite(t *testing.T) {
	dir := t.TempDir()
	smtp := smtptest.New(t, smtptest.Options{})
	in := startPortico(t, dir, nil)

	r := runPortico(t, dir, nil, "", "user", "invite", "--email", "Ivy@Example.com", "--name", "Ivy Invitee", "--admin",
		"--public-url", in.portal, "--smtp-url", "smtp://"+smtp.Addr, "--mail-from", "apis@contoso.example")
	if r.code != 0 {
		t.Fatalf("user invite = %d %q %q", r.code, r.stdout, r.stderr)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(in.portal) + `/confirm/invitation\?token=[A-Za-z0-9_\-]{43}`).FindString(r.stdout)
	if link == "" || !strings.Contains(r.stdout, "Invited admin Ivy Invitee <ivy@example.com>") || !strings.Contains(r.stdout, "48 hours") ||
		!strings.Contains(r.stdout, "over SMTP") {
		t.Fatalf("user invite printed %q", r.stdout)
	}
	msgs := smtp.Wait(t, 1)
	if msgs[0].To[0] != "ivy@example.com" || !strings.Contains(msgs[0].Text, link) || !strings.Contains(msgs[0].HTML, link) {
		t.Fatalf("mail to %v:\n%s", msgs[0].To, msgs[0].Text)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	fetch := func(res *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, page := fetch(client.Get(link))
	if status != http.StatusOK || !strings.Contains(page, "Ivy Invitee") || !strings.Contains(page, `data-testid="accept-invitation-form"`) {
		t.Fatalf("GET link = %d\n%s", status, page)
	}
	token := strings.SplitN(link, "token=", 2)[1]
	const password = "an invitation from the shell"
	status, page = fetch(client.PostForm(in.portal+"/confirm/invitation", url.Values{"token": {token}, "password": {password}, "password2": {password}}))
	if status != http.StatusOK || !strings.Contains(page, `data-testid="invitation-accepted"`) {
		t.Fatalf("accept = %d\n%s", status, page)
	}
	if status, _ := fetch(client.Get(in.portal + "/admin/")); status != http.StatusOK {
		t.Fatalf("the invited administrator gets /admin/ = %d", status)
	}
	if status, _ := fetch(http.Get(link)); status != http.StatusNotFound {
		t.Fatalf("the used link = %d", status)
	}

	r = runPortico(t, dir, nil, "", "user", "invite", "--email", "ivy@example.com", "--public-url", in.portal)
	if r.code != 1 || !strings.Contains(r.stderr, "already has an account") {
		t.Fatalf("inviting an account = %d %q", r.code, r.stderr)
	}
	r = runPortico(t, dir, nil, "", "user", "invite", "--email", "not-an-address")
	if r.code != 2 || !strings.Contains(r.stderr, "not a valid address") {
		t.Fatalf("inviting a bad address = %d %q", r.code, r.stderr)
	}
	r = runPortico(t, dir, nil, "", "user", "invite", "--email", "dev@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "Invited developer dev <dev@example.com>") ||
		!strings.Contains(r.stdout, "http://localhost:8080/confirm/invitation?token=") || !strings.Contains(r.stdout, "outbox") {
		t.Fatalf("invite without SMTP = %d %q %q", r.code, r.stdout, r.stderr)
	}
	if len(smtp.Messages()) != 1 {
		t.Fatalf("SMTP got %d messages; the second invitation went there too", len(smtp.Messages()))
	}
}

// TestApplyInvites: a config file's `invite: true` user is created
// pending by `portico apply`, which prints the invitation's link and keeps
// its mail in the outbox; applying again invites nobody.
func TestApplyInvites(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "portico.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n  - email: zoe@example.com\n    name: Zoe\n    invite: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runPortico(t, dir, nil, "", "apply", "-f", cfg, "--public-url", "https://portal.example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "+ user zoe@example.com (invited)") ||
		!regexp.MustCompile(`Invited developer Zoe <zoe@example.com>; the link works once, for 48 hours:\nhttps://portal\.example\.com/confirm/invitation\?token=[A-Za-z0-9_\-]{43}\n`).MatchString(r.stdout) {
		t.Fatalf("apply = %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runPortico(t, dir, nil, "", "apply", "-f", cfg)
	if r.code != 0 || strings.Contains(r.stdout, "Invited") || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("second apply = %d %q %q", r.code, r.stdout, r.stderr)
	}
}
