package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/internal/smtptest"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
)

// TestPasswordResetAnswersBeforeTheMail: the answer to a reset request for
// a known address does not wait for the mail server, so that it takes no
// longer than the answer for an unknown address, which sends nothing.
func TestPasswordResetAnswersBeforeTheMail(t *testing.T) {
	hold := make(chan struct{})
	smtp := smtptest.New(t, smtptest.Options{Hold: hold})
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://" + smtp.Addr, From: "portal@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{mail: sender})
	v := e.visitor()
	r := v.post(t, "/reset-password", merge(url.Values{"email": {developerEmail}}, v.solved(t, "/reset-password")))
	wantStatus(t, "POST /reset-password", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="check-email"`) {
		t.Fatalf("answer:\n%s", r.body)
	}
	// The mail server holds the message: the answer came before it.
	smtp.Holding(t)
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d messages delivered before the hold ended", n)
	}
	close(hold)
	if m := smtp.Wait(t, 1); m[0].To[0] != developerEmail {
		t.Fatalf("mail to %v", m[0].To)
	}
}

// TestPasswordResetEndToEnd: the reset request answers the same for known
// and unknown addresses, the mail goes out over SMTP, the link leads to a
// form, and the new password ends every session and signs in a new one.
func TestPasswordResetEndToEnd(t *testing.T) {
	smtp := smtptest.New(t, smtptest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://" + smtp.Addr, From: "portal@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{mail: sender})
	first := e.signIn(t, developerEmail, developerPassword, "")
	second := e.signIn(t, developerEmail, developerPassword, "")

	v := e.visitor()
	r := v.get(t, "/reset-password")
	wantStatus(t, "GET /reset-password", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="reset-form"`) || !strings.Contains(r.body, `data-testid="captcha-image"`) {
		t.Fatalf("reset page lacks the form or the CAPTCHA")
	}
	wantStatus(t, "without the CAPTCHA", v.post(t, "/reset-password", url.Values{"email": {developerEmail}}), http.StatusBadRequest)

	var bodies []string
	for _, email := range []string{"nobody@example.com", " DEV@example.com "} {
		r := v.post(t, "/reset-password", merge(url.Values{"email": {email}}, v.solved(t, "/reset-password")))
		wantStatus(t, "POST /reset-password "+email, r, http.StatusOK)
		bodies = append(bodies, r.body)
	}
	if bodies[0] != bodies[1] || !strings.Contains(bodies[0], `data-testid="check-email"`) {
		t.Fatalf("the answers for an unknown and a known address differ:\n%s\n---\n%s", bodies[0], bodies[1])
	}
	msgs := smtp.Wait(t, 1)
	if len(smtp.Messages()) != 1 || msgs[0].To[0] != developerEmail || !strings.Contains(msgs[0].Subject, "Reset") {
		t.Fatalf("mail = %d messages, first to %v %q", len(smtp.Messages()), msgs[0].To, msgs[0].Subject)
	}
	link := linkIn(t, msgs[0].Text, "/confirm/password?token=")
	token := strings.TrimPrefix(link, "/confirm/password?token=")
	if !strings.Contains(msgs[0].HTML, "https://portal.example.com"+link) {
		t.Fatalf("the HTML part lacks the link")
	}

	browser := e.visitor()
	r = browser.get(t, link)
	wantStatus(t, "GET reset link", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="choose-password-form"`) {
		t.Fatalf("the link does not lead to the form")
	}
	// A mistake keeps the link usable.
	r = browser.post(t, "/confirm/password", url.Values{"token": {token}, "password": {"qwertyuiop"}, "password2": {"qwertyuiop"}})
	wantStatus(t, "a common password", r, http.StatusBadRequest)
	if !strings.Contains(r.body, `name="token" value="`+token+`"`) {
		t.Fatalf("the form lost the token")
	}
	const newPassword = "Ünïcödé and a very long passphrase that goes on well past any limit a user would type"
	r = browser.post(t, "/confirm/password", url.Values{"token": {token}, "password": {newPassword}, "password2": {newPassword}})
	wantStatus(t, "POST new password", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="password-reset-done"`) || browser.cookie == "" {
		t.Fatalf("no confirmation or no new session")
	}
	if got := e.whoIs(t, browser.cookie); got != "Dee Developer" {
		t.Fatalf("after the reset the browser is %q", got)
	}
	for _, old := range []string{first, second} {
		if got := e.whoIs(t, old); got != "" {
			t.Fatalf("a session from before the reset still signs in %q", got)
		}
	}
	if r := e.postForm(t, "/signin", "", url.Values{"email": {developerEmail}, "password": {developerPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("the old password = %d", r.status)
	}
	e.signIn(t, developerEmail, newPassword, "")
	// The link works once.
	wantStatus(t, "GET used link", e.get(t, link), http.StatusNotFound)
	wantStatus(t, "POST used link", e.postForm(t, "/confirm/password", "", url.Values{"token": {token}, "password": {"yet another long one"}, "password2": {"yet another long one"}}), http.StatusNotFound)
}

// TestPasswordResetLinks: a reset link expires after an hour; a newer
// password voids older links; a pending account's reset activates it; a
// blocked account gets no mail.
func TestPasswordResetLinks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	request := func(email string) string {
		t.Helper()
		before := len(e.outbox(t))
		v := e.visitor()
		wantStatus(t, "POST /reset-password", v.post(t, "/reset-password", merge(url.Values{"email": {email}}, v.solved(t, "/reset-password"))), http.StatusOK)
		mails := e.outbox(t)
		if len(mails) == before {
			return ""
		}
		return linkIn(t, mails[0].Text, "/confirm/password?token=")
	}

	link := request(developerEmail)
	e.clock.Advance(auth.ResetPasswordTTL)
	wantStatus(t, "GET expired link", e.get(t, link), http.StatusNotFound)

	older, newer := request(developerEmail), request(developerEmail)
	const pw = "the newest password of all"
	wantStatus(t, "use the newer link", e.postForm(t, "/confirm/password", "", url.Values{"token": {strings.TrimPrefix(newer, "/confirm/password?token=")}, "password": {pw}, "password2": {pw}}), http.StatusOK)
	wantStatus(t, "GET the older link", e.get(t, older), http.StatusNotFound)

	pending := &portal.User{Email: "waiting@example.com", Name: "Wai Ting", Role: portal.RoleDeveloper, State: portal.UserPending}
	blocked := &portal.User{Email: "blocked@example.com", Name: "Bea Blocked", Role: portal.RoleDeveloper, State: portal.UserBlocked}
	for _, u := range []*portal.User{pending, blocked} {
		if err := e.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if l := request("blocked@example.com"); l != "" {
		t.Fatalf("a blocked account was sent a reset link")
	}
	l := request("waiting@example.com")
	wantStatus(t, "reset a pending account", e.postForm(t, "/confirm/password", "", url.Values{"token": {strings.TrimPrefix(l, "/confirm/password?token=")}, "password": {pw}, "password2": {pw}}), http.StatusOK)
	if u := e.userByEmail(t, "waiting@example.com"); u.State != portal.UserActive {
		t.Fatalf("state after the reset = %s", u.State)
	}
}
