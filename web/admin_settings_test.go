package web_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/portal"
)

// settingsValues is the settings form as the browser sends it for the
// fixture's settings; edit changes it before sending.
func settingsValues(edit func(v url.Values)) url.Values {
	v := url.Values{
		"title":                 {"Contoso APIs"},
		"anonymous_access":      {"allow"},
		"signin":                {"on"},
		"signup":                {"on"},
		"email_confirmation":    {"on"},
		"allowed_email_domains": {""},
		"min_password_length":   {""},
		"terms_of_use":          {""},
		"invitation_ttl":        {"48h"},
		"idle_timeout":          {"30m"},
		"absolute_timeout":      {"12h"},
	}
	if edit != nil {
		edit(v)
	}
	return v
}

func (e *env) settings(t *testing.T) *portal.Settings {
	t.Helper()
	s, err := e.store.FindSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAdminSettingsAccess(t *testing.T) {
	e := newEnv(t)
	if r := e.get(t, "/admin/settings"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Fatalf("anonymous GET = %d, Location %q", r.status, r.header.Get("Location"))
	}
	if r := e.getAs(t, "/admin/settings", "developer"); r.status != http.StatusForbidden {
		t.Fatalf("developer GET = %d", r.status)
	}
	if r := e.postForm(t, "/admin/settings", e.cookieOf(t, "developer"), settingsValues(func(v url.Values) { v.Set("title", "Mine now") })); r.status != http.StatusForbidden {
		t.Fatalf("developer POST = %d", r.status)
	}
	if got := e.settings(t).Title; got != "Contoso APIs" {
		t.Fatalf("a developer changed the title to %q", got)
	}
	// A cross-site form post is refused before it reaches the handler.
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {e.cookieOf(t, "admin")}, "Sec-Fetch-Site": {"cross-site"}}
	if r := e.send(t, http.MethodPost, "/admin/settings", strings.NewReader(settingsValues(func(v url.Values) { v.Set("title", "Evil") }).Encode()), h); r.status != http.StatusForbidden {
		t.Fatalf("cross-site POST = %d", r.status)
	}
	if got := e.settings(t).Title; got != "Contoso APIs" {
		t.Fatalf("a cross-site post changed the title to %q", got)
	}

	r := e.getAs(t, "/admin/settings", "admin")
	if r.status != http.StatusOK {
		t.Fatalf("admin GET = %d", r.status)
	}
	for _, want := range []string{
		`data-testid="settings-form"`, `action="/admin/settings"`, `value="Contoso APIs"`,
		`value="allow" checked`, `value="48h"`, `value="30m"`, `value="12h"`,
		`href="/admin/settings" aria-current="page"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("settings page lacks %s:\n%s", want, r.body)
		}
	}
}

func TestAdminSaveSettings(t *testing.T) {
	e := newEnv(t)
	admin := e.cookieOf(t, "admin")
	r := e.postForm(t, "/admin/settings", admin, settingsValues(func(v url.Values) {
		v.Set("title", "  Fabrikam developers ")
		v.Set("anonymous_access", "redirect")
		v.Del("signup")
		v.Del("email_confirmation")
		v.Set("allowed_email_domains", "Fabrikam.com\r\n\r\n@partner.example\r\n")
		v.Set("min_password_length", "6")
		v.Set("terms_of_use", "Be kind.\r\n\r\nNo scraping.")
		v.Set("invitation_ttl", "72h")
		v.Set("idle_timeout", "15m")
		v.Set("absolute_timeout", "8h")
	}))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/settings" {
		t.Fatalf("save = %d, Location %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	got := e.settings(t)
	want := &portal.Settings{
		Title:           "Fabrikam developers",
		AnonymousAccess: portal.AnonymousRedirect,
		BasicAuth: portal.BasicAuthSettings{
			SignIn: true, AllowedEmailDomains: []string{"fabrikam.com", "partner.example"}, MinPasswordLength: 6,
		},
		TermsOfUse:    "Be kind.\n\nNo scraping.",
		InvitationTTL: 72 * time.Hour,
		Session:       portal.SessionSettings{IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 8 * time.Hour},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored settings\n%+v\nwant\n%+v", got, want)
	}
	page := e.getAs(t, "/admin/settings", "admin")
	for _, s := range []string{`data-testid="notice"`, "Settings saved.", `value="Fabrikam developers"`, `value="redirect" checked`,
		"fabrikam.com\npartner.example</textarea>", `value="6"`, `value="72h"`, `value="15m"`, `value="8h"`} {
		if !strings.Contains(page.body, s) {
			t.Fatalf("settings page after saving lacks %q:\n%s", s, page.body)
		}
	}
	// The new title is the portal's at once, for everyone.
	if r := e.getAs(t, "/apis", "developer"); !strings.Contains(r.body, "Fabrikam developers") {
		t.Fatal("the new title is not shown")
	}
}

// TestAdminSettingsRefused: what the store refuses comes back with its
// message and the form as typed, and nothing changes.
func TestAdminSettingsRefused(t *testing.T) {
	e := newEnv(t)
	admin := e.cookieOf(t, "admin")
	for _, tc := range []struct {
		name    string
		edit    func(v url.Values)
		message string
		kept    string
	}{
		{"empty title", func(v url.Values) { v.Set("title", " ") }, "Portal title must be 1 to 100 characters.", `value="48h"`},
		{"anonymous access", func(v url.Values) { v.Set("anonymous_access", "sometimes") }, "Anonymous access &#34;sometimes&#34; must be allow or redirect.", `value="Contoso APIs"`},
		{"domain", func(v url.Values) { v.Set("allowed_email_domains", "good.example\nfoo;") }, "Allowed email domain &#34;foo;&#34; is not a domain name", "good.example\nfoo;</textarea>"},
		{"short passwords", func(v url.Values) { v.Set("min_password_length", "4") }, "Minimum password length must be between 6 and 128 characters.", `value="4"`},
		{"password length not a number", func(v url.Values) { v.Set("min_password_length", "six") }, "is not a whole number.", `value="six"`},
		{"invitation ttl", func(v url.Values) { v.Set("invitation_ttl", "1000h") }, "Invitation lifetime must be between 1m and 720h.", `value="1000h"`},
		{"not a duration", func(v url.Values) { v.Set("idle_timeout", "soon") }, "Session idle timeout &#34;soon&#34; is not a duration", `value="soon"`},
		{"idle above absolute", func(v url.Values) { v.Set("idle_timeout", "2h"); v.Set("absolute_timeout", "1h") }, "Session timeouts need idle", `value="2h"`},
		{"sign-in off without providers", func(v url.Values) { v.Del("signin"); v.Set("title", "Locked") }, "no identity provider", `value="Locked"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postForm(t, "/admin/settings", admin, settingsValues(tc.edit))
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400\n%s", r.status, r.body)
			}
			if !strings.Contains(r.body, `data-testid="error-message"`) || !strings.Contains(r.body, tc.message) {
				t.Fatalf("page lacks the message %q:\n%s", tc.message, r.body)
			}
			if !strings.Contains(r.body, tc.kept) {
				t.Fatalf("the form lost %q", tc.kept)
			}
			if got := e.settings(t); got.Title != "Contoso APIs" || !got.BasicAuth.SignIn || got.Session.IdleTimeout != 30*time.Minute {
				t.Fatalf("refused form changed the settings: %+v", got)
			}
		})
	}
}

// TestSignUpLink: the header offers sign-up only while both password
// sign-in and sign-up are on.
func TestSignUpLink(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		signin, signup bool
		want           bool
	}{
		{true, true, true},
		{true, false, false},
		{false, true, false},
	} {
		st := e.settings(t)
		st.BasicAuth.SignIn, st.BasicAuth.SignUp = tc.signin, tc.signup
		if err := e.store.UpdateSettings(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		r := e.get(t, "/apis")
		if got := strings.Contains(r.body, `data-testid="signup-link"`); got != tc.want {
			t.Fatalf("signin %v, signup %v: sign-up link shown %v", tc.signin, tc.signup, got)
		}
	}
}

// TestSettingsGovernSessions: timeouts changed on the settings page apply
// to sessions already open, shortened at their next request and
// lengthened from their next use.
func TestSettingsGovernSessions(t *testing.T) {
	e := newEnv(t)
	admin := e.cookieOf(t, "admin")
	save := func(t *testing.T, idle, absolute string) {
		t.Helper()
		r := e.postForm(t, "/admin/settings", admin, settingsValues(func(v url.Values) {
			v.Set("idle_timeout", idle)
			v.Set("absolute_timeout", absolute)
		}))
		if r.status != http.StatusSeeOther {
			t.Fatalf("save timeouts = %d\n%s", r.status, r.body)
		}
	}

	t.Run("shortened idle", func(t *testing.T) {
		// Both sessions open with a 30m idle timeout; one is used after
		// the change, the other not at all.
		used := e.signIn(t, developerEmail, developerPassword, "")
		idle := e.signIn(t, developerEmail, developerPassword, "")
		save(t, "5m", "12h")
		e.clock.Advance(4 * time.Minute)
		if got := e.whoIs(t, used); got != "Dee Developer" {
			t.Fatalf("after 4 idle minutes: %q", got)
		}
		e.clock.Advance(6 * time.Minute) // within the 30 minutes the sessions were opened with
		if got := e.whoIs(t, used); got != "" {
			t.Fatalf("after 6 idle minutes with a 5m idle timeout: still %q", got)
		}
		if got := e.whoIs(t, idle); got != "" {
			t.Fatalf("after 10 idle minutes with a 5m idle timeout: still %q", got)
		}
		admin = e.signIn(t, adminEmail, adminPassword, "")
	})

	t.Run("lengthened idle", func(t *testing.T) {
		dev := e.signIn(t, developerEmail, developerPassword, "")
		save(t, "2h", "12h")
		e.clock.Advance(2 * time.Minute)
		if got := e.whoIs(t, dev); got != "Dee Developer" {
			t.Fatalf("after 2 minutes: %q", got)
		}
		e.clock.Advance(90 * time.Minute) // past the 5m the session was opened with
		if got := e.whoIs(t, dev); got != "Dee Developer" {
			t.Fatalf("after 90 idle minutes with a 2h idle timeout: %q", got)
		}
	})

	t.Run("shortened absolute", func(t *testing.T) {
		dev := e.signIn(t, developerEmail, developerPassword, "")
		admin = e.signIn(t, adminEmail, adminPassword, "")
		save(t, "30m", "1h")
		for range 2 {
			e.clock.Advance(25 * time.Minute)
			if got := e.whoIs(t, dev); got != "Dee Developer" {
				t.Fatalf("within the hour: %q", got)
			}
		}
		e.clock.Advance(11 * time.Minute)
		if got := e.whoIs(t, dev); got != "" {
			t.Fatalf("61 minutes after sign-in with a 1h absolute timeout: still %q", got)
		}
	})
}

// TestAdminSettingsSignInOff: password sign-in is turned off only by an
// administrator who can still sign in with a linked identity; then the
// header drops sign-up and passwords no longer sign in.
func TestAdminSettingsSignInOff(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "ada-at-corp", Email: "ada@corp.example", Name: "Ada at Corp"})
	b := newBrowser(t)
	b.post(t, e.portal.URL+"/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}, true)
	off := settingsValues(func(v url.Values) { v.Del("signin"); v.Del("signup") })

	r := b.post(t, e.portal.URL+"/admin/settings", off, false)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "before you link an identity to your account") {
		t.Fatalf("sign-in off without a linked identity = %d\n%s", r.status, r.body)
	}
	e.linkIdentity(t, b, "corp", "ada-at-corp")
	// Self sign-up makes password accounts: left on, it would do nothing.
	r = b.post(t, e.portal.URL+"/admin/settings", settingsValues(func(v url.Values) { v.Del("signin"); v.Set("title", "Typed") }), false)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `data-testid="error-message">Self sign-up needs sign-in with email and password`) ||
		!strings.Contains(r.body, `value="Typed"`) || strings.Contains(r.body, `name="signin" value="on" checked`) || !strings.Contains(r.body, `name="signup" value="on" checked`) {
		t.Fatalf("sign-in off with sign-up on = %d\n%s", r.status, r.body)
	}
	if st, err := e.store.FindSettings(context.Background()); err != nil || !st.BasicAuth.SignIn || st.Title == "Typed" {
		t.Fatalf("refused form changed the settings: %+v, %v", st, err)
	}
	if r := b.post(t, e.portal.URL+"/admin/settings", off, false); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in off with a linked identity = %d\n%s", r.status, r.body)
	}
	anon := newBrowser(t)
	if p := anon.get(t, e.portal.URL+"/apis", false); strings.Contains(p.body, `data-testid="signup-link"`) {
		t.Fatal("sign-up is offered while password sign-in is off")
	}
	if p := anon.post(t, e.portal.URL+"/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}}, false); p.status != http.StatusForbidden {
		t.Fatalf("password sign-in while off = %d", p.status)
	}
	// The administrator gets back in with the identity.
	if end := e.signIn(t, newBrowser(t), "corp", "ada-at-corp", ""); end.status != http.StatusOK {
		t.Fatalf("sign-in with the linked identity = %d", end.status)
	}
}

// TestAdminSettingsEmailDomains: the domains field takes one domain per
// line or a list separated by commas and spaces, normalized; anything
// that is not a host name is refused with the value named, and the form
// keeps what was typed.
func TestAdminSettingsEmailDomains(t *testing.T) {
	e := newEnv(t)
	admin := e.cookieOf(t, "admin")
	r := e.postForm(t, "/admin/settings", admin, settingsValues(func(v url.Values) {
		v.Set("allowed_email_domains", "Contoso.com,fabrikam.com\r\n @Partner.example  fabrikam.com\r\nxn--mnchen-3ya.de")
	}))
	if r.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", r.status, r.body)
	}
	if got, want := e.settings(t).BasicAuth.AllowedEmailDomains, []string{"contoso.com", "fabrikam.com", "partner.example", "xn--mnchen-3ya.de"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stored domains %q, want %q", got, want)
	}
	for _, tc := range []struct {
		typed, named string
	}{
		{"foo;", "foo;"},
		{"contoso.com\ncontoso", "contoso"},
		{"*.contoso.com", "*.contoso.com"},
		{"-contoso.com", "-contoso.com"},
		{"contoso..com", "contoso..com"},
		{"münchen.de", "münchen.de"},
		{"contoso.com/", "contoso.com/"},
		{"a@contoso.com", "a@contoso.com"},
		{strings.Repeat("a", 64) + ".com", strings.Repeat("a", 64) + ".com"},
		{strings.Repeat("abcdefghi.", 26) + "com", strings.Repeat("abcdefghi.", 26) + "com"},
	} {
		t.Run(tc.named[:min(len(tc.named), 20)], func(t *testing.T) {
			r := e.postForm(t, "/admin/settings", admin, settingsValues(func(v url.Values) { v.Set("allowed_email_domains", tc.typed) }))
			want := "Allowed email domain &#34;" + tc.named + "&#34; is not a domain name: "
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, want) {
				t.Fatalf("domains %q = %d, want the message %q\n%s", tc.typed, r.status, want, r.body)
			}
			if !strings.Contains(r.body, ">"+tc.typed+"</textarea>") {
				t.Fatalf("the form lost %q", tc.typed)
			}
			if got := e.settings(t).BasicAuth.AllowedEmailDomains; len(got) != 4 {
				t.Fatalf("a refused form changed the domains to %q", got)
			}
		})
	}
}

// TestAdminSettingsUnreadableForm: a form too large to read is refused
// with the settings in force shown, not empty fields that a second save
// would write.
func TestAdminSettingsUnreadableForm(t *testing.T) {
	e := newEnv(t)
	admin := e.cookieOf(t, "admin")
	if r := e.postForm(t, "/admin/settings", admin, settingsValues(func(v url.Values) {
		v.Set("title", "Fabrikam developers")
		v.Set("idle_timeout", "15m")
	})); r.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", r.status, r.body)
	}
	r := e.postForm(t, "/admin/settings", admin, settingsValues(func(v url.Values) { v.Set("terms_of_use", strings.Repeat("x", 300<<10)) }))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "The form could not be read") {
		t.Fatalf("oversized form = %d\n%.2000s", r.status, r.body)
	}
	for _, want := range []string{`value="Fabrikam developers"`, `value="15m"`, `value="12h"`, `name="signin" value="on" checked`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("the page after an unreadable form lacks the stored %s:\n%s", want, r.body)
		}
	}
	if got := e.settings(t); got.Title != "Fabrikam developers" || got.Session.IdleTimeout != 15*time.Minute {
		t.Fatalf("an unreadable form changed the settings: %+v", got)
	}
}
