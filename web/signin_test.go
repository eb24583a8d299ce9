package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

// sessionID is the stored id of the session whose Cookie header is cookie.
func sessionID(t *testing.T, cookie string) string {
	t.Helper()
	_, token, ok := strings.Cut(cookie, "=")
	if !ok {
		t.Fatalf("cookie %q has no value", cookie)
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// whoIs returns the name the account area shows for cookie, or "" for an
// anonymous visitor.
func (e *env) whoIs(t *testing.T, cookie string) string {
	t.Helper()
	r := e.send(t, http.MethodGet, "/apis", nil, http.Header{"Cookie": {cookie}})
	if r.status != http.StatusOK {
		t.Fatalf("GET /apis = %d", r.status)
	}
	switch {
	case strings.Contains(r.body, "Ada Admin"):
		return "Ada Admin"
	case strings.Contains(r.body, "Dee Developer"):
		return "Dee Developer"
	}
	return ""
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		name      string
		secure    bool
	}{
		{"https://portal.example.com", "__Host-portico", true},
		{"http://localhost:8080", "portico", false},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			e := newEnvWith(t, envOptions{publicURL: tc.publicURL})
			r := e.postForm(t, "/signin", "", url.Values{"email": {adminEmail}, "password": {adminPassword}})
			c := sessionCookie(r)
			if r.status != http.StatusSeeOther || c == nil {
				t.Fatalf("sign in = %d, cookie %v", r.status, c)
			}
			if c.Name != tc.name || c.Secure != tc.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("cookie = %+v", c)
			}
			// The cookie is 256 random bits and nothing else.
			if len(c.Value) != 43 || strings.ContainsAny(c.Value, "=.|") || strings.Contains(c.Value, "ada") {
				t.Fatalf("cookie value %q is not a bare base64url token", c.Value)
			}
			// The store keys the row by the token's hash, never the token.
			ctx := context.Background()
			if _, err := e.store.FindSession(ctx, c.Value, e.clock.Now()); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("a session is stored under the token itself: %v", err)
			}
			id := sessionID(t, c.Name+"="+c.Value)
			row, err := e.store.FindSession(ctx, id, e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if row.UserID != 1 {
				t.Fatalf("session user = %d, want 1", row.UserID)
			}
			for _, leak := range []string{c.Value, "user_id", adminEmail} {
				if strings.Contains(string(row.Data), leak) {
					t.Fatalf("stored session data holds %q in clear", leak)
				}
			}
			if got := e.whoIs(t, c.Name+"="+c.Value); got != "Ada Admin" {
				t.Fatalf("signed in as %q", got)
			}
		})
	}
}

// TestSessionExpiry: a session slides with use up to the idle timeout and
// ends at the absolute timeout, whatever the use.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	settings, err := e.store.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settings.Session = portal.SessionSettings{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour}
	if err := e.store.UpdateSettings(ctx, settings); err != nil {
		t.Fatal(err)
	}

	t.Run("idle", func(t *testing.T) {
		cookie := e.signIn(t, adminEmail, adminPassword, "")
		for i := range 3 {
			e.clock.Advance(29 * time.Minute)
			if got := e.whoIs(t, cookie); got != "Ada Admin" {
				t.Fatalf("after %d × 29 minutes of use: %q", i+1, got)
			}
		}
		e.clock.Advance(31 * time.Minute)
		r := e.send(t, http.MethodGet, "/admin/", nil, http.Header{"Cookie": {cookie}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
			t.Fatalf("after 31 idle minutes: /admin/ = %d, Location %q", r.status, r.header.Get("Location"))
		}
		if c := sessionCookie(r); c == nil || c.MaxAge >= 0 {
			t.Fatalf("the stale cookie is not deleted: %v", c)
		}
		// A visitor without a cookie is told nothing about one.
		if r := e.send(t, http.MethodGet, "/apis", nil, nil); len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("an anonymous page without a cookie sets %q", r.header.Values("Set-Cookie"))
		}
	})

	t.Run("absolute", func(t *testing.T) {
		cookie := e.signIn(t, adminEmail, adminPassword, "")
		for range 4 {
			e.clock.Advance(29 * time.Minute)
			if got := e.whoIs(t, cookie); got != "Ada Admin" {
				t.Fatalf("within 2 hours of use: %q", got)
			}
		}
		e.clock.Advance(5 * time.Minute) // 2h01m after sign-in, 5 minutes after the last use
		if got := e.whoIs(t, cookie); got != "" {
			t.Fatalf("past the absolute timeout: still %q", got)
		}
	})

	t.Run("cleanup", func(t *testing.T) {
		cookie := e.signIn(t, adminEmail, adminPassword, "")
		e.clock.Advance(3 * time.Hour)
		e.auth.Cleanup(ctx)
		if _, err := e.store.FindSession(ctx, sessionID(t, cookie), time.Time{}); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("expired session still stored after cleanup: %v", err)
		}
	})
}

// TestSessionRotation: signing in replaces the session the browser had,
// so a cookie planted or captured before sign-in is worth nothing after.
func TestSessionRotation(t *testing.T) {
	e := newEnv(t)
	before := e.signIn(t, developerEmail, developerPassword, "")
	after := e.signIn(t, adminEmail, adminPassword, before)
	if before == after {
		t.Fatal("sign-in kept the session token")
	}
	if _, err := e.store.FindSession(context.Background(), sessionID(t, before), e.clock.Now()); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the pre-sign-in session row survives: %v", err)
	}
	if got := e.whoIs(t, before); got != "" {
		t.Fatalf("the pre-sign-in cookie still signs in %q", got)
	}
	if got := e.whoIs(t, after); got != "Ada Admin" {
		t.Fatalf("new session is %q", got)
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t)
	cookie := e.signIn(t, adminEmail, adminPassword, "")
	r := e.postForm(t, "/signout", cookie, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("sign out = %d, Location %q", r.status, r.header.Get("Location"))
	}
	if c := sessionCookie(r); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("sign out does not delete the cookie: %v", c)
	}
	if _, err := e.store.FindSession(context.Background(), sessionID(t, cookie), e.clock.Now()); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("session row survives sign-out: %v", err)
	}
	if got := e.whoIs(t, cookie); got != "" {
		t.Fatalf("the old cookie still signs in %q", got)
	}
	// Signing out without a session is harmless.
	if r := e.postForm(t, "/signout", "", nil); r.status != http.StatusSeeOther {
		t.Fatalf("anonymous sign out = %d", r.status)
	}
}

// TestBlockedUser: blocking a signed-in user ends their session on their
// next request; they cannot sign in again, and only a correct password
// learns that the account is blocked.
func TestBlockedUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cookie := e.signIn(t, developerEmail, developerPassword, "")
	blocked := portal.UserBlocked
	if _, err := e.store.UpdateUser(ctx, 2, portal.UserUpdate{State: &blocked}); err != nil {
		t.Fatal(err)
	}
	if got := e.whoIs(t, cookie); got != "" {
		t.Fatalf("blocked user still signed in as %q", got)
	}
	if _, err := e.store.FindSession(ctx, sessionID(t, cookie), e.clock.Now()); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("blocked user's session survives: %v", err)
	}
	r := e.postForm(t, "/signin", "", url.Values{"email": {developerEmail}, "password": {developerPassword}})
	if r.status != http.StatusForbidden || !strings.Contains(unescape(messageOf(r.body)), "blocked") || sessionCookie(r) != nil {
		t.Fatalf("blocked sign-in = %d, %q", r.status, messageOf(r.body))
	}
	r = e.postForm(t, "/signin", "", url.Values{"email": {developerEmail}, "password": {"wrong password"}})
	if r.status != http.StatusUnauthorized || unescape(messageOf(r.body)) != "Email or password is incorrect." {
		t.Fatalf("blocked user, wrong password = %d, %q", r.status, messageOf(r.body))
	}
}

// TestForgedSessionRow: the stored data is bound to its row, so neither
// pointing a row at another user nor copying another row's data into it
// signs anyone in as that user.
func TestForgedSessionRow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.signIn(t, adminEmail, adminPassword, "")
	dev := e.signIn(t, developerEmail, developerPassword, "")
	adminRow, err := e.store.FindSession(ctx, sessionID(t, admin), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	devRow, err := e.store.FindSession(ctx, sessionID(t, dev), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"user id changed", devRow.Data},
		{"data copied from the admin's row", adminRow.Data},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forged := *devRow
			forged.UserID, forged.Data = adminRow.UserID, tc.data
			if err := e.store.SaveSession(ctx, &forged); err != nil {
				t.Fatal(err)
			}
			if got := e.whoIs(t, dev); got != "" {
				t.Fatalf("forged row signs in %q", got)
			}
			if r := e.send(t, http.MethodGet, "/admin/", nil, http.Header{"Cookie": {dev}}); r.status != http.StatusSeeOther {
				t.Fatalf("forged row reaches /admin/: %d", r.status)
			}
		})
	}
	for _, junk := range []string{"x", strings.Repeat("A", 43), "../../etc/passwd"} {
		r := e.send(t, http.MethodGet, "/apis", nil, http.Header{"Cookie": {auth.SecureCookieName + "=" + junk}})
		if r.status != http.StatusOK || strings.Contains(r.body, `data-testid="account-name"`) {
			t.Fatalf("junk cookie %q: %d", junk, r.status)
		}
	}
}

func TestSignInForm(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "/signin?next=%2Fadmin%2Fapis")
	if r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="signin-form"`) || !strings.Contains(r.body, `name="next" value="/admin/apis"`) {
		t.Fatalf("GET /signin = %d\n%s", r.status, r.body)
	}
	// The same answer for every way of getting it wrong, email kept.
	ctx := context.Background()
	if err := e.store.CreateUser(ctx, &portal.User{Email: "nopass@example.com", Name: "No Password", Role: portal.RoleDeveloper, State: portal.UserActive}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", adminEmail, "not the password"},
		{"unknown email", "nobody@example.com", adminPassword},
		{"no password set", "nopass@example.com", "anything at all"},
		{"email typed differently", " ADA@example.com ", "not the password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postForm(t, "/signin", "", url.Values{"email": {tc.email}, "password": {tc.password}, "next": {"/admin/"}})
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.status)
			}
			if got := unescape(messageOf(r.body)); got != "Email or password is incorrect." {
				t.Fatalf("message %q", got)
			}
			if !strings.Contains(r.body, `value="`+strings.TrimSpace(tc.email)+`"`) || !strings.Contains(r.body, `name="next" value="/admin/"`) {
				t.Fatalf("the form lost the email or the next page")
			}
			if strings.Contains(r.body, tc.password) {
				t.Fatalf("the password is echoed back")
			}
			if sessionCookie(r) != nil {
				t.Fatalf("a failed sign-in set a cookie")
			}
		})
	}
	if r := e.postForm(t, "/signin", "", url.Values{"email": {adminEmail}}); r.status != http.StatusBadRequest || messageOf(r.body) == "" {
		t.Fatalf("no password = %d", r.status)
	}
	// Signed in, the sign-in page moves on.
	cookie := e.signIn(t, adminEmail, adminPassword, "")
	if r := e.send(t, http.MethodGet, "/signin?next=/admin/", nil, http.Header{"Cookie": {cookie}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Fatalf("GET /signin signed in = %d, %q", r.status, r.header.Get("Location"))
	}
}

// TestSignInNext: after sign-in the visitor goes back where they were, and
// never to another site.
func TestSignInNext(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ next, want string }{
		{"", "/"},
		{"/admin/apis?x=1", "/admin/apis?x=1"},
		{"/apis/echo", "/apis/echo"},
		{"//evil.com", "/"},
		{"//evil.com/admin", "/"},
		{"/\\evil.com", "/"},
		{"\\\\evil.com", "/"},
		{"https://evil.com", "/"},
		{"https://evil.com/admin/", "/"},
		{"http:evil.com", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.com", "/"},
		{" //evil.com", "/"},
		{"evil.com", "/"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			r := e.postForm(t, "/signin", "", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {tc.next}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
				t.Fatalf("next %q: %d to %q, want %q", tc.next, r.status, r.header.Get("Location"), tc.want)
			}
			page := e.get(t, "/signin?next="+url.QueryEscape(tc.next))
			if !strings.Contains(page.body, `name="next" value="`+strings.ReplaceAll(tc.want, "&", "&amp;")+`"`) {
				t.Fatalf("GET /signin?next=%q does not carry %q", tc.next, tc.want)
			}
		})
	}
}

func TestSignInRateLimit(t *testing.T) {
	e := newEnvWith(t, envOptions{limits: auth.SignInLimits{
		PerEmail: auth.Limit{Failures: 3, Window: 15 * time.Minute},
		PerIP:    auth.Limit{Failures: 8, Window: 15 * time.Minute},
	}})
	attempt := func(email, password string) response {
		t.Helper()
		return e.postForm(t, "/signin", "", url.Values{"email": {email}, "password": {password}})
	}
	limited := func(r response) bool {
		t.Helper()
		if r.status != http.StatusTooManyRequests {
			return false
		}
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 15*60 {
			t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
		}
		if !strings.Contains(messageOf(r.body), "Too many failed sign-in attempts") || !strings.Contains(r.body, `data-testid="signin-form"`) {
			t.Fatalf("429 without the form and its message")
		}
		return true
	}

	// A success clears the email's failures.
	for range 2 {
		attempt(adminEmail, "wrong")
	}
	if r := attempt(adminEmail, adminPassword); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in after 2 failures = %d", r.status)
	}
	for range 2 {
		attempt(adminEmail, "wrong")
	}
	if r := attempt(adminEmail, adminPassword); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in after a success and 2 more failures = %d", r.status)
	}

	// Three failures in a row: the email is locked, even with the right
	// password; other emails are not (yet).
	for range 3 {
		if r := attempt(developerEmail, "wrong"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure = %d", r.status)
		}
	}
	// Without a CAPTCHA answer the right password is refused with 429;
	// the form shows a CAPTCHA, which gets past the email's limit (see
	// TestSignInCaptchaGetsPastEmailLimit). The anonymous session the
	// CAPTCHA needs signs no one in.
	if r := attempt(developerEmail, developerPassword); !limited(r) || !strings.Contains(r.body, `data-testid="captcha-image"`) ||
		sessionCookie(r) != nil && e.whoIs(t, sessionCookie(r).Name+"="+sessionCookie(r).Value) != "" {
		t.Fatalf("4th attempt = %d, want 429 with a CAPTCHA and no signed-in session", r.status)
	}
	// 4 failures for ada + 3 for dee so far: one more from this address
	// reaches its budget of 8.
	if r := attempt("nobody@example.com", "wrong"); r.status != http.StatusUnauthorized {
		t.Fatalf("other email = %d", r.status)
	}
	if r := attempt("someone@example.com", "wrong"); !limited(r) {
		t.Fatalf("after 8 failures from one address = %d, want 429", r.status)
	}

	// The window passes.
	e.clock.Advance(16 * time.Minute)
	if r := attempt(developerEmail, developerPassword); r.status != http.StatusSeeOther {
		t.Fatalf("after the window = %d", r.status)
	}
}
