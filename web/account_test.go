package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
)

// visitor is a browser without JavaScript: it keeps the session cookie the
// portal sets, anonymous or signed in.
type visitor struct {
	e      *env
	cookie string       // a Cookie header, or ""
	client *http.Client // nil: the fixture's, from 127.0.0.1
}

func (e *env) visitor() *visitor { return &visitor{e: e} }

// keep remembers the session cookie r sets or deletes.
func (v *visitor) keep(r response) response {
	// As a browser does, the last of several Set-Cookie headers wins (a
	// stale cookie deleted, then a new session).
	for _, c := range r.cookies {
		if c.Name != auth.CookieName && c.Name != auth.SecureCookieName {
			continue
		}
		if c.MaxAge < 0 || c.Value == "" {
			v.cookie = ""
		} else {
			v.cookie = c.Name + "=" + c.Value
		}
	}
	return r
}

func (v *visitor) get(t *testing.T, path string) response {
	t.Helper()
	h := http.Header{}
	if v.cookie != "" {
		h.Set("Cookie", v.cookie)
	}
	return v.keep(v.e.sendVia(t, v.client, http.MethodGet, path, nil, h))
}

func (v *visitor) post(t *testing.T, path string, form url.Values) response {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if v.cookie != "" {
		h.Set("Cookie", v.cookie)
	}
	return v.keep(v.e.sendVia(t, v.client, http.MethodPost, path, strings.NewReader(form.Encode()), h))
}

var captchaIDField = regexp.MustCompile(`name="captcha_id" value="([^"]+)"`)

// captchaOf returns the id of the CAPTCHA on the page body and its digits,
// read from the store (never through the portal).
func (e *env) captchaOf(t *testing.T, body string) (id, digits string) {
	t.Helper()
	m := captchaIDField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CAPTCHA on the page:\n%s", body)
	}
	if !strings.Contains(body, `data-testid="captcha-image"`) || !strings.Contains(body, `href="/captcha/`+m[1]+`.wav"`) {
		t.Fatalf("the CAPTCHA has no picture or no audio link")
	}
	c, err := e.store.FindCaptcha(context.Background(), m[1], e.clock.Now())
	if err != nil {
		t.Fatalf("find CAPTCHA %s: %v", m[1], err)
	}
	return c.ID, c.Digits
}

// solved loads page and returns the form values of its solved CAPTCHA.
func (v *visitor) solved(t *testing.T, page string) url.Values {
	t.Helper()
	r := v.get(t, page)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s = %d\n%s", page, r.status, r.body)
	}
	id, digits := v.e.captchaOf(t, r.body)
	return url.Values{"captcha_id": {id}, "captcha": {digits}}
}

// signUpForm is a complete sign-up form for email.
func signUpForm(email, password string) url.Values {
	return url.Values{"email": {email}, "name": {"Sam Signup"}, "password": {password}, "password2": {password}}
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for _, v := range []url.Values{a, b} {
		for k, vs := range v {
			out[k] = vs
		}
	}
	return out
}

// changeSettings updates the stored settings with change.
func (e *env) changeSettings(t *testing.T, change func(s *portal.Settings)) {
	t.Helper()
	ctx := context.Background()
	s, err := e.store.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	change(s)
	if err := e.store.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
}

// outbox returns the mail kept in the store, newest first, once the mail
// being sent in the background has gone.
func (e *env) outbox(t *testing.T) []*portal.Mail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.web.Idle(ctx); err != nil {
		t.Fatalf("mail still being sent: %v", err)
	}
	m, _, err := e.store.FindMails(context.Background(), portal.MailFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// linkIn returns the portal path of the link to prefix in a mail's text.
func linkIn(t *testing.T, text, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(`https://portal\.example\.com(` + regexp.QuoteMeta(prefix) + `[A-Za-z0-9_\-]+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no link to %s in the mail:\n%s", prefix, text)
	}
	return m[1]
}

func (e *env) userByEmail(t *testing.T, email string) *portal.User {
	t.Helper()
	u, err := e.store.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("find user %s: %v", email, err)
	}
	return u
}

func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s = %d, want %d\n%s", what, r.status, status, r.body)
	}
}

// TestSignUpWithConfirmation: the form with its CAPTCHA, the pending
// account, the emailed link that works once, and the owner signed in.
func TestSignUpWithConfirmation(t *testing.T) {
	e := newEnv(t)
	v := e.visitor()
	r := v.get(t, "/signup")
	wantStatus(t, "GET /signup", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="signup-form"`) || !strings.Contains(r.body, `data-testid="captcha-new"`) {
		t.Fatalf("sign-up page lacks the form or the new-challenge link")
	}
	if v.cookie == "" {
		t.Fatalf("GET /signup started no session for the CAPTCHA")
	}
	id, digits := e.captchaOf(t, r.body)
	if len(digits) != auth.CaptchaDigits || strings.Trim(digits, "0123456789") != "" {
		t.Fatalf("CAPTCHA digits %q", digits)
	}

	img := v.get(t, "/captcha/"+id+".png")
	if img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(img.body, "\x89PNG") {
		t.Fatalf("picture = %d %s", img.status, img.header.Get("Content-Type"))
	}
	wav := v.get(t, "/captcha/"+id+".wav")
	if wav.status != http.StatusOK || wav.header.Get("Content-Type") != "audio/wav" || !strings.HasPrefix(wav.body, "RIFF") ||
		!strings.Contains(wav.header.Get("Content-Security-Policy"), "media-src 'self'") {
		t.Fatalf("sound = %d %s, CSP %q", wav.status, wav.header.Get("Content-Type"), wav.header.Get("Content-Security-Policy"))
	}

	const email, password = "sam@example.org", "a quiet evening by the lake"
	r = v.post(t, "/signup", merge(signUpForm(" Sam@Example.org ", password), url.Values{"captcha_id": {id}, "captcha": {digits}}))
	wantStatus(t, "POST /signup", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="check-email"`) {
		t.Fatalf("sign-up did not say to check the mail")
	}
	u := e.userByEmail(t, email)
	if u.State != portal.UserPending || u.Role != portal.RoleDeveloper || u.Name != "Sam Signup" || !auth.VerifyPassword(u.PasswordHash, password) {
		t.Fatalf("new user = %+v", u)
	}
	// Not active yet: signing in is refused once the password matched.
	if r := e.postForm(t, "/signin", "", url.Values{"email": {email}, "password": {password}}); r.status != http.StatusForbidden {
		t.Fatalf("sign in before confirming = %d, want 403", r.status)
	}

	mails := e.outbox(t)
	if len(mails) != 1 || mails[0].To[0] != email || !strings.Contains(mails[0].Subject, "Confirm") {
		t.Fatalf("outbox = %+v", mails)
	}
	link := linkIn(t, mails[0].Text, "/confirm/signup?token=")
	token := strings.TrimPrefix(link, "/confirm/signup?token=")

	// Opening the link (as a mail scanner would) does not use it up.
	for range 2 {
		r = e.get(t, link)
		wantStatus(t, "GET confirmation link", r, http.StatusOK)
	}
	if !strings.Contains(r.body, `data-testid="confirm-signup-form"`) {
		t.Fatalf("confirmation page has no button")
	}
	browser := e.visitor()
	r = browser.post(t, "/confirm/signup", url.Values{"token": {token}})
	wantStatus(t, "POST /confirm/signup", r, http.StatusOK)
	if browser.cookie == "" {
		t.Fatalf("confirming set no session cookie")
	}
	if got := e.send(t, http.MethodGet, "/apis", nil, http.Header{"Cookie": {browser.cookie}}).body; !strings.Contains(got, "Sam Signup") {
		t.Fatalf("after confirming, the header does not show the user")
	}
	if u := e.userByEmail(t, email); u.State != portal.UserActive {
		t.Fatalf("state after confirming = %s", u.State)
	}
	// The link works once.
	wantStatus(t, "GET used link", e.get(t, link), http.StatusNotFound)
	wantStatus(t, "POST used link", e.postForm(t, "/confirm/signup", "", url.Values{"token": {token}}), http.StatusNotFound)
	// The token is not stored in clear.
	if _, err := e.store.FindAccountToken(context.Background(), token, portal.TokenConfirmSignup, e.clock.Now()); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("a token is stored as is: %v", err)
	}
	e.signIn(t, email, password, "")
}

// TestSignUpWithoutConfirmation: the account is active and signed in at
// once, and no mail is sent.
func TestSignUpWithoutConfirmation(t *testing.T) {
	e := newEnv(t)
	e.changeSettings(t, func(s *portal.Settings) { s.BasicAuth.EmailConfirmation = false })
	v := e.visitor()
	form := v.solved(t, "/signup")
	anonymous := v.cookie
	r := v.post(t, "/signup", merge(signUpForm("quick@example.org", "no confirmation needed"), form))
	wantStatus(t, "POST /signup", r, http.StatusSeeOther)
	if v.cookie == "" || v.cookie == anonymous {
		t.Fatalf("the session was not rotated on sign-up")
	}
	if got := e.send(t, http.MethodGet, "/apis", nil, http.Header{"Cookie": {v.cookie}}).body; !strings.Contains(got, "Sam Signup") {
		t.Fatalf("not signed in after sign-up")
	}
	if u := e.userByEmail(t, "quick@example.org"); u.State != portal.UserActive {
		t.Fatalf("state = %s", u.State)
	}
	if n := len(e.outbox(t)); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
}

// TestSignUpRefusals: every refusal re-renders the form with one message
// and what was typed (never the passwords), and creates no account.
func TestSignUpRefusals(t *testing.T) {
	e := newEnv(t)
	e.changeSettings(t, func(s *portal.Settings) {
		s.BasicAuth.AllowedEmailDomains = []string{"example.org"}
		s.TermsOfUse = "Be kind to the APIs."
	})
	good := func() url.Values {
		f := signUpForm("new@example.org", "correct battery horse staple")
		f.Set("terms", "on")
		return f
	}
	for _, tc := range []struct {
		name    string
		change  func(f, captcha url.Values)
		message string
	}{
		{"wrong digits", func(f, c url.Values) { c.Set("captcha", wrongDigits(c.Get("captcha"))) }, "did not match"},
		{"no CAPTCHA", func(f, c url.Values) { c.Del("captcha_id"); c.Del("captcha") }, "did not match"},
		{"domain not allowed", func(f, c url.Values) { f.Set("email", "new@elsewhere.com") }, "addresses at example.org only"},
		{"common password", func(f, c url.Values) { f.Set("password", "Password123"); f.Set("password2", "Password123") }, "most commonly used"},
		{"short password", func(f, c url.Values) { f.Set("password", "k3#Lm9q"); f.Set("password2", "k3#Lm9q") }, "at least 8 characters"},
		{"passwords differ", func(f, c url.Values) { f.Set("password2", "correct battery horse stapler") }, "not the same"},
		{"password is the email", func(f, c url.Values) { f.Set("password", "new@example.org"); f.Set("password2", "new@example.org") }, "email address"},
		{"terms not accepted", func(f, c url.Values) { f.Del("terms") }, "terms of use"},
		{"bad email", func(f, c url.Values) { f.Set("email", "not an address") }, "not a valid address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := e.visitor()
			f, c := good(), v.solved(t, "/signup")
			tc.change(f, c)
			r := v.post(t, "/signup", merge(f, c))
			wantStatus(t, "POST /signup", r, http.StatusBadRequest)
			if got := html.UnescapeString(messageOf(r.body)); !strings.Contains(got, tc.message) {
				t.Fatalf("message = %q, want it to mention %q", got, tc.message)
			}
			if !strings.Contains(r.body, `value="Sam Signup"`) || passwordShown.MatchString(r.body) {
				t.Fatalf("the form does not keep the name, or shows the password")
			}
			if _, err := e.store.FindUserByEmail(context.Background(), f.Get("email")); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("an account was created: %v", err)
			}
			// The re-rendered form has a fresh CAPTCHA that works.
			if id, _ := e.captchaOf(t, r.body); id == c.Get("captcha_id") {
				t.Fatalf("the CAPTCHA was not renewed")
			}
		})
	}

	t.Run("an administrator allows 6 characters", func(t *testing.T) {
		e.changeSettings(t, func(s *portal.Settings) { s.BasicAuth.MinPasswordLength = 6 })
		defer e.changeSettings(t, func(s *portal.Settings) { s.BasicAuth.MinPasswordLength = 0 })
		v := e.visitor()
		f := good()
		f.Set("password", "k3#Lm9")
		f.Set("password2", "k3#Lm9")
		r := v.post(t, "/signup", merge(f, v.solved(t, "/signup")))
		wantStatus(t, "POST /signup with 6 characters", r, http.StatusOK)
	})
}

// passwordShown matches a password field with a value.
var passwordShown = regexp.MustCompile(`<input[^>]*type="password"[^>]*value=`)

func wrongDigits(d string) string {
	b := []byte(d)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestSignUpCaptchaRules: a challenge answers once, expires, and works only
// for the session that fetched it, and its picture is shown only there.
func TestSignUpCaptchaRules(t *testing.T) {
	e := newEnv(t)
	form := signUpForm("cap@example.org", "a long and unusual passphrase")

	t.Run("used once", func(t *testing.T) {
		v := e.visitor()
		c := v.solved(t, "/signup")
		bad := merge(form, c)
		bad.Set("password2", "something else entirely")
		wantStatus(t, "first answer", v.post(t, "/signup", bad), http.StatusBadRequest)
		r := v.post(t, "/signup", merge(form, c))
		wantStatus(t, "the same answer again", r, http.StatusBadRequest)
		if !strings.Contains(messageOf(r.body), "did not match") {
			t.Fatalf("message = %q", messageOf(r.body))
		}
	})
	t.Run("expired", func(t *testing.T) {
		v := e.visitor()
		c := v.solved(t, "/signup")
		e.clock.Advance(auth.CaptchaTTL + time.Second)
		r := v.post(t, "/signup", merge(form, c))
		wantStatus(t, "an expired answer", r, http.StatusBadRequest)
		if !strings.Contains(messageOf(r.body), "did not match") {
			t.Fatalf("message = %q", messageOf(r.body))
		}
	})
	t.Run("another session", func(t *testing.T) {
		owner, other := e.visitor(), e.visitor()
		c := owner.solved(t, "/signup")
		other.get(t, "/signup") // a session of its own
		wantStatus(t, "the picture for another session", other.get(t, "/captcha/"+c.Get("captcha_id")+".png"), http.StatusNotFound)
		wantStatus(t, "the picture without a session", e.get(t, "/captcha/"+c.Get("captcha_id")+".png"), http.StatusNotFound)
		wantStatus(t, "another session's answer", other.post(t, "/signup", merge(form, c)), http.StatusBadRequest)
		// Taken by the failed attempt: not even its owner can use it now.
		wantStatus(t, "the owner after that", owner.post(t, "/signup", merge(form, c)), http.StatusBadRequest)
	})
	t.Run("unknown picture", func(t *testing.T) {
		v := e.visitor()
		v.get(t, "/signup")
		for _, p := range []string{"/captcha/AAAAAAAAAAAAAAAAAAAAAA.png", "/captcha/nope.png", "/captcha/x.gif"} {
			wantStatus(t, "GET "+p, v.get(t, p), http.StatusNotFound)
		}
	})
	if _, err := e.store.FindUserByEmail(context.Background(), "cap@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("an account was created: %v", err)
	}
}

// TestSignUpSameAnswerForKnownEmail: signing up with an address that has an
// account answers exactly as for a new one; the owner gets a mail that
// points to the password reset, and their account is unchanged.
func TestSignUpSameAnswerForKnownEmail(t *testing.T) {
	e := newEnv(t)
	var bodies []string
	for _, email := range []string{developerEmail, "fresh@example.org"} {
		v := e.visitor()
		r := v.post(t, "/signup", merge(signUpForm(email, "an entirely new passphrase"), v.solved(t, "/signup")))
		wantStatus(t, "POST /signup "+email, r, http.StatusOK)
		if c := sessionCookie(r); c != nil {
			t.Fatalf("sign-up for %s set a cookie", email)
		}
		bodies = append(bodies, r.body)
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("the answers differ:\n%s\n---\n%s", bodies[0], bodies[1])
	}
	mails := e.outbox(t)
	if len(mails) != 2 {
		t.Fatalf("%d mails, want 2", len(mails))
	}
	known, fresh := mails[1], mails[0]
	if known.To[0] != developerEmail || !strings.Contains(known.Subject, "already have") || !strings.Contains(known.Text, "https://portal.example.com/reset-password\n") {
		t.Fatalf("mail to the known address = %q\n%s", known.Subject, known.Text)
	}
	if fresh.To[0] != "fresh@example.org" || !strings.Contains(fresh.Subject, "Confirm") {
		t.Fatalf("mail to the new address = %q", fresh.Subject)
	}
	u := e.userByEmail(t, developerEmail)
	if u.State != portal.UserActive || u.Name != "Dee Developer" || !auth.VerifyPassword(u.PasswordHash, developerPassword) {
		t.Fatalf("the existing account changed: %+v", u)
	}
}

// TestSignUpOff: with self-registration off the pages do not exist.
func TestSignUpOff(t *testing.T) {
	e := newEnv(t)
	e.changeSettings(t, func(s *portal.Settings) { s.BasicAuth.SignUp = false })
	wantStatus(t, "GET /signup", e.get(t, "/signup"), http.StatusNotFound)
	wantStatus(t, "POST /signup", e.postForm(t, "/signup", "", signUpForm("x@example.org", "whatever it is here")), http.StatusNotFound)
	if r := e.get(t, "/signin"); strings.Contains(r.body, `href="/signup"`) {
		t.Fatalf("the sign-in page links to sign-up")
	}
	// Without password sign-in there is neither password sign-up nor
	// reset.
	e.changeSettings(t, func(s *portal.Settings) { s.BasicAuth.SignUp, s.BasicAuth.SignIn = true, false })
	for _, path := range []string{"/signup", "/reset-password"} {
		wantStatus(t, "GET "+path+" without password sign-in", e.get(t, path), http.StatusNotFound)
	}
}

// TestConfirmationLinkExpires: a day later the link no longer works and
// the account stays pending.
func TestConfirmationLinkExpires(t *testing.T) {
	e := newEnv(t)
	v := e.visitor()
	wantStatus(t, "POST /signup", v.post(t, "/signup", merge(signUpForm("late@example.org", "slow to read my mail"), v.solved(t, "/signup"))), http.StatusOK)
	link := linkIn(t, e.outbox(t)[0].Text, "/confirm/signup?token=")
	e.clock.Advance(auth.ConfirmSignupTTL)
	wantStatus(t, "GET expired link", e.get(t, link), http.StatusNotFound)
	wantStatus(t, "POST expired link", e.postForm(t, "/confirm/signup", "", url.Values{"token": {strings.TrimPrefix(link, "/confirm/signup?token=")}}), http.StatusNotFound)
	if u := e.userByEmail(t, "late@example.org"); u.State != portal.UserPending {
		t.Fatalf("state = %s", u.State)
	}
	for _, bad := range []string{"/confirm/signup", "/confirm/signup?token=", "/confirm/signup?token=abc", "/confirm/password?token=" + strings.Repeat("A", 43)} {
		wantStatus(t, "GET "+bad, e.get(t, bad), http.StatusNotFound)
	}
}

// TestAccountPagesOpenToAnonymous: with anonymous_access redirect, the
// pages needed to get an account stay open.
func TestAccountPagesOpenToAnonymous(t *testing.T) {
	e := newEnv(t)
	e.changeSettings(t, func(s *portal.Settings) { s.AnonymousAccess = portal.AnonymousRedirect })
	for path, status := range map[string]int{
		"/signup":                             http.StatusOK,
		"/reset-password":                     http.StatusOK,
		"/confirm/signup?token=x":             http.StatusNotFound,
		"/confirm/password?token=x":           http.StatusNotFound,
		"/captcha/AAAAAAAAAAAAAAAAAAAAAA.png": http.StatusNotFound,
	} {
		wantStatus(t, "GET "+path, e.get(t, path), status)
	}
	for _, path := range []string{"/profile/password", "/profile/close"} {
		if r := e.get(t, path); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin?next=") {
			t.Fatalf("GET %s anonymously = %d %q, want a redirect to sign-in", path, r.status, r.header.Get("Location"))
		}
	}
}

// TestAccountRateLimits: sign-up, reset and the CAPTCHA pictures answer 429
// with Retry-After past their budgets, per address and per account.
func TestAccountRateLimits(t *testing.T) {
	t.Run("sign-up per address", func(t *testing.T) {
		e := newEnvWith(t, envOptions{accountLimits: auth.AccountLimits{SignUpPerIP: auth.Limit{Failures: 2, Window: time.Hour}}})
		v := e.visitor()
		for i := range 2 {
			wantStatus(t, "sign-up "+strconv.Itoa(i+1), v.post(t, "/signup", merge(signUpForm("rate"+strconv.Itoa(i)+"@example.org", "a long and unusual passphrase"), v.solved(t, "/signup"))), http.StatusOK)
		}
		r := v.post(t, "/signup", merge(signUpForm("rate9@example.org", "a long and unusual passphrase"), v.solved(t, "/signup")))
		wantTooMany(t, r, time.Hour)
		e.clock.Advance(time.Hour)
		wantStatus(t, "sign-up an hour later", v.post(t, "/signup", merge(signUpForm("rate9@example.org", "a long and unusual passphrase"), v.solved(t, "/signup"))), http.StatusOK)
	})
	t.Run("reset per account", func(t *testing.T) {
		e := newEnvWith(t, envOptions{accountLimits: auth.AccountLimits{ResetPerEmail: auth.Limit{Failures: 1, Window: time.Hour}}})
		v := e.visitor()
		wantStatus(t, "first reset", v.post(t, "/reset-password", merge(url.Values{"email": {developerEmail}}, v.solved(t, "/reset-password"))), http.StatusOK)
		wantTooMany(t, v.post(t, "/reset-password", merge(url.Values{"email": {developerEmail}}, v.solved(t, "/reset-password"))), time.Hour)
		// Another address is not held back, and the budget of an email is
		// spent only by requests with a solved CAPTCHA.
		wantStatus(t, "reset of another address", v.post(t, "/reset-password", merge(url.Values{"email": {adminEmail}}, v.solved(t, "/reset-password"))), http.StatusOK)
	})
	t.Run("reset per address", func(t *testing.T) {
		e := newEnvWith(t, envOptions{accountLimits: auth.AccountLimits{ResetPerIP: auth.Limit{Failures: 1, Window: time.Hour}}})
		v := e.visitor()
		wantStatus(t, "first reset", v.post(t, "/reset-password", merge(url.Values{"email": {developerEmail}}, v.solved(t, "/reset-password"))), http.StatusOK)
		wantTooMany(t, v.post(t, "/reset-password", merge(url.Values{"email": {adminEmail}}, v.solved(t, "/reset-password"))), time.Hour)
	})
	t.Run("captcha per address", func(t *testing.T) {
		e := newEnvWith(t, envOptions{accountLimits: auth.AccountLimits{CaptchaPerIP: auth.Limit{Failures: 3, Window: 10 * time.Minute}}})
		v := e.visitor()
		r := v.get(t, "/signup") // 1: the challenge
		id, _ := e.captchaOf(t, r.body)
		wantStatus(t, "picture", v.get(t, "/captcha/"+id+".png"), http.StatusOK) // 2
		wantStatus(t, "sound", v.get(t, "/captcha/"+id+".wav"), http.StatusOK)   // 3
		wantTooMany(t, v.get(t, "/captcha/"+id+".png"), 10*time.Minute)
		wantTooMany(t, v.get(t, "/signup"), 10*time.Minute)
	})
}

func wantTooMany(t *testing.T, r response, window time.Duration) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429\n%s", r.status, r.body)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > int(window.Seconds()) {
		t.Fatalf("Retry-After = %q, want 1..%d seconds", r.header.Get("Retry-After"), int(window.Seconds()))
	}
}

// TestSignInAsksForCaptchaAfterFailures: after three wrong passwords the
// form shows a CAPTCHA and the right password alone is not enough; with
// the CAPTCHA solved the real user gets in.
func TestSignInAsksForCaptchaAfterFailures(t *testing.T) {
	e := newEnvWith(t, envOptions{limits: auth.SignInLimits{CaptchaAfter: 3, CaptchaAfterPerIP: 4}})
	v := e.visitor()
	r := v.get(t, "/signin")
	if strings.Contains(r.body, "captcha_id") || !strings.Contains(r.body, `href="/reset-password"`) {
		t.Fatalf("a first sign-in page shows a CAPTCHA, or no reset link")
	}
	for i := range 3 {
		r = v.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {"guess " + strconv.Itoa(i)}})
		wantStatus(t, "wrong password", r, http.StatusUnauthorized)
	}
	id, digits := e.captchaOf(t, r.body)
	r = v.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}})
	wantStatus(t, "right password without the CAPTCHA", r, http.StatusBadRequest)
	if !strings.Contains(messageOf(r.body), "Type the digits in the picture") {
		t.Fatalf("message = %q", messageOf(r.body))
	}
	// A CAPTCHA answered wrong is told apart from one not answered.
	wrongID, wrong := e.captchaOf(t, r.body)
	r = v.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}, "captcha_id": {wrongID}, "captcha": {wrongDigits(wrong)}})
	wantStatus(t, "right password with wrong digits", r, http.StatusBadRequest)
	if !strings.Contains(messageOf(r.body), "did not match") {
		t.Fatalf("message = %q", messageOf(r.body))
	}
	// Three failures for one email do not yet make the address suspect;
	// a fourth, for another email, does.
	if r := e.visitor().get(t, "/signin"); strings.Contains(r.body, `data-testid="captcha-image"`) {
		t.Fatalf("the address is asked for a CAPTCHA after 3 failures")
	}
	wantStatus(t, "another wrong password", e.postForm(t, "/signin", "", url.Values{"email": {adminEmail}, "password": {"guess"}}), http.StatusUnauthorized)
	if r := e.visitor().get(t, "/signin"); !strings.Contains(r.body, `data-testid="captcha-image"`) {
		t.Fatalf("the sign-in page does not ask this address for a CAPTCHA after 4 failures")
	}
	// The first challenge was never answered, and is still good.
	r = v.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}, "captcha_id": {id}, "captcha": {digits}})
	wantStatus(t, "right password with the CAPTCHA", r, http.StatusSeeOther)
}

// TestChangePassword: the current password is required, the new one must
// pass the rules, and every other session ends.
func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	here := e.signIn(t, developerEmail, developerPassword, "")
	there := e.signIn(t, developerEmail, developerPassword, "")
	r := e.send(t, http.MethodGet, "/profile/password", nil, http.Header{"Cookie": {here}})
	wantStatus(t, "GET /profile/password", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="change-password-form"`) || !strings.Contains(r.body, `href="/profile/close"`) {
		t.Fatalf("password page lacks the form or the close link")
	}
	const newPassword = "пароль из многих слов" // non-ASCII, 21 characters
	for _, tc := range []struct {
		name    string
		form    url.Values
		status  int
		message string
	}{
		{"wrong current", url.Values{"current": {"nope"}, "password": {newPassword}, "password2": {newPassword}}, http.StatusUnauthorized, "not correct"},
		{"common", url.Values{"current": {developerPassword}, "password": {"iloveyou"}, "password2": {"iloveyou"}}, http.StatusBadRequest, "commonly"},
		{"same", url.Values{"current": {developerPassword}, "password": {developerPassword}, "password2": {developerPassword}}, http.StatusBadRequest, "same as the current"},
	} {
		r := e.postForm(t, "/profile/password", here, tc.form)
		wantStatus(t, tc.name, r, tc.status)
		if !strings.Contains(html.UnescapeString(messageOf(r.body)), tc.message) {
			t.Fatalf("%s: message %q", tc.name, messageOf(r.body))
		}
	}
	r = e.postForm(t, "/profile/password", here, url.Values{"current": {developerPassword}, "password": {newPassword}, "password2": {newPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile/password" {
		t.Fatalf("change = %d %q", r.status, r.header.Get("Location"))
	}
	if got := e.whoIs(t, here); got != "Dee Developer" {
		t.Fatalf("this session after the change: %q", got)
	}
	if got := e.whoIs(t, there); got != "" {
		t.Fatalf("the other session survived the change: %q", got)
	}
	if r := e.postForm(t, "/signin", "", url.Values{"email": {developerEmail}, "password": {developerPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("the old password still signs in: %d", r.status)
	}
	e.signIn(t, developerEmail, newPassword, "")
}

// TestCloseAccount: closing needs the box and the password, deletes the
// account with its subscriptions and ends its sessions; the only
// administrator cannot close theirs.
func TestCloseAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cookie := e.signIn(t, developerEmail, developerPassword, "")
	other := e.signIn(t, developerEmail, developerPassword, "")
	r := e.send(t, http.MethodGet, "/profile/close", nil, http.Header{"Cookie": {cookie}})
	wantStatus(t, "GET /profile/close", r, http.StatusOK)
	wantStatus(t, "without the box", e.postForm(t, "/profile/close", cookie, url.Values{"password": {developerPassword}}), http.StatusBadRequest)
	wantStatus(t, "wrong password", e.postForm(t, "/profile/close", cookie, url.Values{"password": {"nope"}, "confirm": {"on"}}), http.StatusUnauthorized)
	r = e.postForm(t, "/profile/close", cookie, url.Values{"password": {developerPassword}, "confirm": {"on"}})
	wantStatus(t, "close", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="account-closed"`) || strings.Contains(r.body, "Dee Developer") {
		t.Fatalf("closed page wrong")
	}
	if c := sessionCookie(r); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the session cookie was not deleted")
	}
	if _, err := e.store.FindUserByEmail(ctx, developerEmail); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("user still there: %v", err)
	}
	if subs, _, err := e.store.FindSubscriptions(ctx, portal.SubscriptionFilter{}); err != nil || len(subs) != 0 {
		t.Fatalf("subscriptions after closing = %d, %v", len(subs), err)
	}
	if e.whoIs(t, other) != "" {
		t.Fatalf("another session of the closed account still works")
	}

	admin := e.signIn(t, adminEmail, adminPassword, "")
	r = e.postForm(t, "/profile/close", admin, url.Values{"password": {adminPassword}, "confirm": {"on"}})
	wantStatus(t, "the only administrator closes", r, http.StatusConflict)
	if e.whoIs(t, admin) != "Ada Admin" {
		t.Fatalf("the administrator was signed out")
	}
}

// TestSignUpNameOnOneLine: a name with a line break, a tab or another
// control character is refused with the form, so that nobody can sign up
// with another person's address and write paragraphs and links of their
// own into the confirmation mail. The length is counted in characters.
func TestSignUpNameOnOneLine(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{
		"Mallory\r\nYour account is at risk: https://evil.example/login",
		"Mallory\nhttps://evil.example/",
		"Mallory\tTab",
		"Mallory\u0085Next line",
		"Mallory\x00",
	} {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			v := e.visitor()
			f := signUpForm("victim@example.org", "a long and unusual passphrase")
			f.Set("name", name)
			r := v.post(t, "/signup", merge(f, v.solved(t, "/signup")))
			wantStatus(t, "POST /signup", r, http.StatusBadRequest)
			if got := html.UnescapeString(messageOf(r.body)); !strings.Contains(got, "Name must be on one line") {
				t.Fatalf("message = %q", got)
			}
			if _, err := e.store.FindUserByEmail(context.Background(), "victim@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("an account was created: %v", err)
			}
		})
	}
	if n := len(e.outbox(t)); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
	t.Run("200 characters of two bytes each", func(t *testing.T) {
		for n, status := range map[int]int{200: http.StatusOK, 201: http.StatusBadRequest} {
			v := e.visitor()
			f := signUpForm("long"+strconv.Itoa(n)+"@example.org", "a long and unusual passphrase")
			f.Set("name", strings.Repeat("é", n))
			wantStatus(t, strconv.Itoa(n)+" characters", v.post(t, "/signup", merge(f, v.solved(t, "/signup"))), status)
		}
	})
}

// failingSender is a mail server that is down.
type failingSender struct{}

func (failingSender) Send(context.Context, *mail.Message) error {
	return errors.New("connection refused")
}

// TestSignUpSameAnswerWhenMailFails: with the mail server down, a new
// address and a known one get the same check-your-email page (the mail is
// sent after the answer, its failure logged); the new, unconfirmable
// account is removed.
func TestSignUpSameAnswerWhenMailFails(t *testing.T) {
	e := newEnvWith(t, envOptions{mail: failingSender{}})
	var bodies []string
	for _, email := range []string{developerEmail, "fresh@example.org"} {
		v := e.visitor()
		r := v.post(t, "/signup", merge(signUpForm(email, "an entirely new passphrase"), v.solved(t, "/signup")))
		wantStatus(t, "POST /signup "+email, r, http.StatusOK)
		bodies = append(bodies, r.body)
	}
	if bodies[0] != bodies[1] || !strings.Contains(bodies[1], `data-testid="check-email"`) {
		t.Fatalf("the answers differ:\n%s\n---\n%s", bodies[0], bodies[1])
	}
	e.outbox(t) // the mail is sent, and fails, after the answer
	if _, err := e.store.FindUserByEmail(context.Background(), "fresh@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the unconfirmable account was kept: %v", err)
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Fatalf("the mail failure was not logged")
	}
}

// TestSignUpPerEmailLimit: sign-ups for one address are bounded per
// hour, whoever asks, with 429 and Retry-After.
func TestSignUpPerEmailLimit(t *testing.T) {
	e := newEnvWith(t, envOptions{accountLimits: auth.AccountLimits{SignUpPerEmail: auth.Limit{Failures: 2, Window: time.Hour}}})
	for i := range 2 {
		v := e.visitor()
		wantStatus(t, "sign-up "+strconv.Itoa(i+1), v.post(t, "/signup", merge(signUpForm("same@example.org", "a long and unusual passphrase"), v.solved(t, "/signup"))), http.StatusOK)
	}
	v := e.visitor()
	wantTooMany(t, v.post(t, "/signup", merge(signUpForm("same@example.org", "a long and unusual passphrase"), v.solved(t, "/signup"))), time.Hour)
	wantStatus(t, "another address", v.post(t, "/signup", merge(signUpForm("other@example.org", "a long and unusual passphrase"), v.solved(t, "/signup"))), http.StatusOK)
}
