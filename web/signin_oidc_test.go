package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
	"github.com/porticoapi/portico/web"
)

// oidcEnv is the portal on a real store and a real devidp, both on
// loopback; the portal's public URL is its own loopback address, so that
// redirect URIs lead back to it.
type oidcEnv struct {
	auth   *auth.Auth
	store  *sqlite.Store
	idp    *devidp.Provider
	portal *httptest.Server
	logs   *syncBuffer
	clock  *testClock
	web    *web.Server
}

type oidcOptions struct {
	entra bool // devidp in Entra mode
	// accountLimits bound the requests of auth.AccountLimits.
	accountLimits auth.AccountLimits
	// captchas turns CAPTCHA challenges on (the reset form needs them).
	captchas bool
	// mail sends the portal's mail; nil: the outbox in the store.
	mail mail.Sender
}

const oidcSecret = "devidp-client-secret"

func newOIDCEnv(t *testing.T, o oidcOptions) *oidcEnv {
	t.Helper()
	ctx := context.Background()
	idpSrv := httptest.NewUnstartedServer(nil)
	// One clock for the portal and the provider, so that a test moving
	// the portal's time on still gets tokens that are fresh to it.
	clock := &testClock{t: time.Now()}
	cfg := devidp.Config{Issuer: "http://" + idpSrv.Listener.Addr().String(), Now: clock.Now}
	if o.entra {
		cfg.EntraIssuerBase = portal.DefaultEntraAuthority
	}
	idp, err := devidp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	idpSrv.Config.Handler = idp
	idpSrv.Start()
	t.Cleanup(idpSrv.Close)

	keys, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "portico.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seed(t, store)

	portalSrv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + portalSrv.Listener.Addr().String()
	e := &oidcEnv{store: store, idp: idp, portal: portalSrv, logs: &syncBuffer{}, clock: clock}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := auth.New(auth.Config{Sessions: store, Users: store, Settings: store, Keys: keys, PublicURL: publicURL, Now: e.clock.Now, Logger: logger, Tokens: store, AccountLimits: o.accountLimits})
	if err != nil {
		t.Fatal(err)
	}
	if o.captchas {
		if a, err = auth.New(auth.Config{Sessions: store, Users: store, Settings: store, Keys: keys, PublicURL: publicURL, Now: e.clock.Now, Logger: logger, Tokens: store, AccountLimits: o.accountLimits, Captchas: store}); err != nil {
			t.Fatal(err)
		}
	}
	e.auth = a
	oc, err := auth.NewOIDC(auth.OIDCConfig{Auth: a, Store: store, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Store: store, Logger: logger, GatewayURL: "https://gateway.example.com", PublicURL: publicURL, Auth: a, OIDC: oc, Mail: o.mail})
	if err != nil {
		t.Fatal(err)
	}
	e.web = srv
	portalSrv.Config.Handler = srv.Handler()
	portalSrv.Start()
	t.Cleanup(portalSrv.Close)

	idp.AddClient("portal", oidcSecret, "portal")
	idp.SetRedirectURIs("portal", oc.RedirectURI("corp"))
	return e
}

// addProvider stores an identity provider named corp for the devidp.
func (e *oidcEnv) addProvider(t *testing.T, edit func(p *portal.IdentityProvider)) {
	t.Helper()
	p := &portal.IdentityProvider{Name: "corp", Type: portal.IdentityProviderOIDC, DisplayName: "Contoso staff",
		ClientID: "portal", ClientSecret: oidcSecret, Issuer: e.idp.Issuer(), SignUp: true}
	if edit != nil {
		edit(p)
	}
	if err := e.store.CreateIdentityProvider(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// browser is an HTTP client with its own cookies, like one browser.
type browser struct {
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// landing is where a browser ended up.
type landing struct {
	status   int
	url      *url.URL
	location string // the Location header of a redirect not followed
	body     string
}

func (b *browser) do(t *testing.T, req *http.Request, follow bool) landing {
	t.Helper()
	c := *b.c
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return landing{status: res.StatusCode, url: res.Request.URL, location: res.Header.Get("Location"), body: string(body)}
}

func (b *browser) get(t *testing.T, u string, follow bool) landing {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, req, follow)
}

func (b *browser) post(t *testing.T, u string, form url.Values, follow bool) landing {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req, follow)
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// submitLogin fills devidp's login landing p with the test user sub and
// submits it; follow says whether to follow the redirects after.
func (b *browser) submitLogin(t *testing.T, p landing, sub string, follow bool) landing {
	t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="devidp-login"`) {
		t.Fatalf("not devidp's login landing: %d %s\n%s", p.status, p.url, p.body)
	}
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form action in\n%s", p.body)
	}
	form := url.Values{"user": {sub}}
	for _, h := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return b.post(t, html.UnescapeString(m[1]), form, follow)
}

// signIn runs the whole flow through idp for the test user sub and
// returns the page the browser lands on.
func (e *oidcEnv) signIn(t *testing.T, b *browser, idp, sub, next string) landing {
	t.Helper()
	u := e.portal.URL + "/signin/" + idp
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	login := b.get(t, u, true)
	return b.submitLogin(t, login, sub, true)
}

// callbackURL runs the flow up to the provider's redirect and returns the
// callback URL, without visiting it.
func (e *oidcEnv) callbackURL(t *testing.T, b *browser, sub string) string {
	t.Helper()
	login := b.get(t, e.portal.URL+"/signin/corp", true)
	p := b.submitLogin(t, login, sub, false)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, e.portal.URL+"/signin/corp/callback?") {
		t.Fatalf("login answered %d, Location %q", p.status, p.location)
	}
	return p.location
}

// who returns the account name the portal shows the browser, "" when
// anonymous.
func (e *oidcEnv) who(t *testing.T, b *browser) string {
	t.Helper()
	p := b.get(t, e.portal.URL+"/apis", false)
	for _, name := range []string{"Ada Admin", "Dee Developer", "Olive Oidc", "Mallory"} {
		if strings.Contains(p.body, name) {
			return name
		}
	}
	return ""
}

// reasons counts the log lines of refused sign-ins with reason.
func (e *oidcEnv) reasons(reason string) int {
	return strings.Count(e.logs.String(), `"reason":"`+reason+`"`)
}

func (e *oidcEnv) identities(t *testing.T, email string) []*portal.Identity {
	t.Helper()
	ctx := context.Background()
	u, err := e.store.FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatalf("find %s: %v", email, err)
	}
	ids, err := e.store.FindUserIdentities(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestOIDCSignIn(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "Olive@Example.org", Name: "Olive Oidc"})

	b := newBrowser(t)
	// The sign-in page offers the provider, keeping the return path.
	p := b.get(t, e.portal.URL+"/signin?next=/apis/echo", false)
	if !strings.Contains(p.body, `data-testid="signin-idp-corp"`) || !strings.Contains(p.body, "Contoso staff") ||
		!strings.Contains(p.body, `href="/signin/corp?next=%2Fapis%2Fecho"`) {
		t.Fatalf("sign-in page lacks the provider button:\n%s", p.body)
	}

	// The authorization request carries PKCE S256, state, nonce and the
	// redirect URI built from the public URL.
	first := b.get(t, e.portal.URL+"/signin/corp?next=/apis/echo", false)
	if first.status != http.StatusSeeOther {
		t.Fatalf("GET /signin/corp = %d", first.status)
	}
	req, _ := http.NewRequest(http.MethodGet, e.portal.URL+"/signin/corp?next=/apis/echo", nil)
	req.Host = "evil.example.com"
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("redirect_uri") != e.portal.URL+"/signin/corp/callback" || q.Get("code_challenge_method") != "S256" ||
		len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 22 || len(q.Get("nonce")) < 22 ||
		q.Get("client_id") != "portal" || q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorization request %s", loc)
	}

	end := e.signIn(t, b, "corp", "olive-1", "/apis/echo")
	if end.status != http.StatusOK || end.url.Path != "/apis/echo" {
		t.Fatalf("landed on %d %s", end.status, end.url)
	}
	if got := e.who(t, b); got != "Olive Oidc" {
		t.Fatalf("signed in as %q", got)
	}
	u, err := e.store.FindUserByEmail(context.Background(), "olive@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != portal.RoleDeveloper || u.State != portal.UserActive || u.PasswordHash != "" {
		t.Fatalf("created user %+v", u)
	}
	ids := e.identities(t, "olive@example.org")
	if len(ids) != 1 || ids[0].Issuer != e.idp.Issuer() || ids[0].Subject != "olive-1" || ids[0].Provider != "corp" {
		t.Fatalf("identities %+v", ids)
	}

	// A second sign-in, in another browser, reaches the same account.
	b2 := newBrowser(t)
	end = e.signIn(t, b2, "corp", "olive-1", "")
	if end.status != http.StatusOK || end.url.Path != "/" || e.who(t, b2) != "Olive Oidc" {
		t.Fatalf("second sign-in landed on %d %s as %q", end.status, end.url, e.who(t, b2))
	}
	if ids := e.identities(t, "olive@example.org"); len(ids) != 1 {
		t.Fatalf("identities after second sign-in: %d", len(ids))
	}

	// An unknown provider is a 404; an open redirect in next is dropped.
	if p := b.get(t, e.portal.URL+"/signin/nope", false); p.status != http.StatusNotFound {
		t.Fatalf("unknown provider = %d", p.status)
	}
	end = e.signIn(t, newBrowser(t), "corp", "olive-1", "//evil.example.com/x")
	if end.url.Host != e.portal.Listener.Addr().String() || end.url.Path != "/" {
		t.Fatalf("next //evil led to %s", end.url)
	}
}

// TestOIDCRefusesBadIDTokens: every way devidp can get an ID token wrong
// is refused, with its reason in the log, no account and no session.
func TestOIDCRefusesBadIDTokens(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "mallory", Email: "mallory@example.org", Name: "Mallory"})
	for _, tc := range []struct {
		name   string
		m      devidp.Misbehaviour
		reason string
	}{
		{"wrong issuer", devidp.WrongIssuer, "id_token_issuer"},
		{"wrong audience", devidp.WrongAudience, "id_token_audience"},
		{"extra untrusted audience", devidp.ExtraAudience, "id_token_untrusted_audience"},
		{"wrong azp", devidp.WrongAuthorizedParty, "id_token_azp"},
		{"bad signature", devidp.BadSignature, "id_token_signature"},
		{"alg none", devidp.AlgNone, "id_token_alg_refused"},
		{"HMAC", devidp.HMACSigned, "id_token_alg_refused"},
		{"expired", devidp.Expired, "id_token_expired"},
		{"no sub", devidp.MissingSubject, "id_token_no_sub"},
		{"no iat", devidp.MissingIssuedAt, "id_token_no_iat"},
		{"no exp", devidp.MissingExpiry, "id_token_no_exp"},
		{"wrong nonce", devidp.WrongNonce, "id_token_nonce"},
		{"no nonce", devidp.MissingNonce, "id_token_nonce"},
		{"userinfo sub mismatch", devidp.UserInfoSubjectMismatch, "userinfo_sub_mismatch"},
		{"iat in the future", devidp.FutureIssuedAt, "id_token_iat_future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.idp.SetMisbehaviour(tc.m)
			defer e.idp.SetMisbehaviour(devidp.Behave)
			before := e.reasons(tc.reason)
			b := newBrowser(t)
			end := e.signIn(t, b, "corp", "mallory", "")
			if end.status != http.StatusForbidden || !strings.Contains(end.body, `data-testid="error-message"`) {
				t.Fatalf("callback = %d at %s\n%s", end.status, end.url, end.body)
			}
			if strings.Contains(end.body, "oidc:") || strings.Contains(end.body, tc.reason) {
				t.Fatalf("the error page shows internals:\n%s", end.body)
			}
			if got := e.reasons(tc.reason); got != before+1 {
				t.Fatalf("log has %d lines with reason %s, want %d\n%s", got, tc.reason, before+1, e.logs.String())
			}
			if e.who(t, b) != "" {
				t.Fatal("signed in after a refused token")
			}
			if _, err := e.store.FindUserByEmail(context.Background(), "mallory@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("an account was created: %v", err)
			}
		})
	}
	// And with the provider behaving again, the same user gets in.
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "mallory", ""); end.status != http.StatusOK || e.who(t, b) != "Mallory" {
		t.Fatalf("good sign-in = %d, as %q", end.status, e.who(t, b))
	}
}

// TestOIDCState: the state is single-use, bound to the browser that
// started the flow, and expires.
func TestOIDCState(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc"})

	t.Run("another browser", func(t *testing.T) {
		a, other := newBrowser(t), newBrowser(t)
		cb := e.callbackURL(t, a, "olive-1")
		before := e.reasons("state_mismatch")
		if p := other.get(t, cb, true); p.status != http.StatusBadRequest {
			t.Fatalf("callback in another browser = %d", p.status)
		}
		if e.reasons("state_mismatch") != before+1 || e.who(t, other) != "" {
			t.Fatal("another browser's callback was not refused as state_mismatch")
		}
		// The browser that started it still can.
		if p := a.get(t, cb, true); p.status != http.StatusOK || e.who(t, a) != "Olive Oidc" {
			t.Fatalf("own callback = %d", p.status)
		}
	})
	t.Run("reuse", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.callbackURL(t, b, "olive-1")
		if p := b.get(t, cb, true); p.status != http.StatusOK {
			t.Fatalf("first callback = %d", p.status)
		}
		before := e.reasons("state_mismatch")
		if p := b.get(t, cb, true); p.status != http.StatusBadRequest {
			t.Fatalf("second callback = %d", p.status)
		}
		if e.reasons("state_mismatch") != before+1 {
			t.Fatal("reuse not logged as state_mismatch")
		}
	})
	t.Run("tampered state", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.callbackURL(t, b, "olive-1")
		u, _ := url.Parse(cb)
		q := u.Query()
		state := q.Get("state")
		last := "A"
		if strings.HasSuffix(state, last) {
			last = "B" // a change, whatever the state ended with
		}
		q.Set("state", state[:len(state)-1]+last)
		u.RawQuery = q.Encode()
		if p := b.get(t, u.String(), true); p.status != http.StatusBadRequest || e.who(t, b) != "" {
			t.Fatalf("tampered state = %d", p.status)
		}
	})
	t.Run("expired", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.callbackURL(t, b, "olive-1")
		e.clock.Advance(auth.FlowTTL + time.Second)
		before := e.reasons("state_expired")
		if p := b.get(t, cb, true); p.status != http.StatusBadRequest || e.who(t, b) != "" {
			t.Fatalf("expired callback = %d", p.status)
		}
		if e.reasons("state_expired") != before+1 {
			t.Fatal("expiry not logged as state_expired")
		}
	})
	t.Run("provider error", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.callbackURL(t, b, "olive-1")
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		q.Set("error_description", "<script>alert(1)</script>")
		u.RawQuery = q.Encode()
		p := b.get(t, u.String(), true)
		if p.status != http.StatusForbidden || strings.Contains(p.body, "alert(1)") ||
			!strings.Contains(p.body, `data-testid="error-message">The identity provider did not sign you in. Please try again.</p>`) {
			t.Fatalf("provider error = %d\n%s", p.status, p.body)
		}
		if strings.Contains(p.body, "state=") || strings.Contains(p.body, "access_denied") {
			t.Fatalf("the error page repeats the callback's query:\n%s", p.body)
		}
		if !strings.Contains(e.logs.String(), `"reason":"provider_error"`) || !strings.Contains(e.logs.String(), "access_denied") {
			t.Fatal("the provider's error is not in the log")
		}
	})
}

// TestOIDCStartLimitedPerAddress: a sign-in started without a session
// stores a new session row, so an address may start only so many of them;
// a visitor who already has a session is not counted.
func TestOIDCStartLimitedPerAddress(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{accountLimits: auth.AccountLimits{ProviderFlowPerIP: auth.Limit{Failures: 2, Window: 10 * time.Minute}}})
	e.addProvider(t, nil)
	first := newBrowser(t)
	for i, b := range []*browser{first, newBrowser(t)} {
		if p := b.get(t, e.portal.URL+"/signin/corp", false); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, e.idp.Issuer()) {
			t.Fatalf("start %d = %d to %q", i+1, p.status, p.location)
		}
	}
	third := newBrowser(t)
	p := third.get(t, e.portal.URL+"/signin/corp", false)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("third start without a session = %d, want 429\n%s", p.status, p.body)
	}
	if u, _ := url.Parse(e.portal.URL); len(third.c.Jar.Cookies(u)) != 0 {
		t.Fatal("the refused start set a session cookie")
	}
	if p := first.get(t, e.portal.URL+"/signin/corp", false); p.status != http.StatusSeeOther {
		t.Fatalf("a start with a session = %d, want 303", p.status)
	}
	e.clock.Advance(10 * time.Minute)
	if p := newBrowser(t).get(t, e.portal.URL+"/signin/corp", false); p.status != http.StatusSeeOther {
		t.Fatalf("a start after the window = %d, want 303", p.status)
	}
}

// TestOIDCAccountKeyedBySubject: a provider user who claims the email of
// an existing account does not get into it, and signing up does not take
// the address over.
func TestOIDCAccountKeyedBySubject(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "impostor", Email: "DEV@example.com", Name: "Mallory"})
	b := newBrowser(t)
	before := e.reasons("email_taken_not_linked")
	end := e.signIn(t, b, "corp", "impostor", "")
	if end.status != http.StatusConflict || e.who(t, b) != "" {
		t.Fatalf("impostor = %d, signed in as %q", end.status, e.who(t, b))
	}
	if e.reasons("email_taken_not_linked") != before+1 {
		t.Fatal("not logged as email_taken_not_linked")
	}
	if ids := e.identities(t, developerEmail); len(ids) != 0 {
		t.Fatalf("the developer's account got identities %+v", ids)
	}
}

// TestOIDCLink: a developer signed in with their password links an
// identity, then signs in with it; the identity cannot be linked to a
// second account.
func TestOIDCLink(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, func(p *portal.IdentityProvider) { p.SignUp = false })
	e.idp.AddUser(devidp.User{Subject: "dee-at-corp", Email: "dee@corp.example", Name: "Dee at Corp"})

	b := newBrowser(t)
	// Not signed in: linking needs a user.
	if p := b.post(t, e.portal.URL+"/profile/identities/link/corp", nil, false); p.status == http.StatusSeeOther && strings.Contains(p.url.String(), "authorize") {
		t.Fatal("an anonymous visitor started a link")
	}
	if p := b.post(t, e.portal.URL+"/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}}, true); p.status != http.StatusOK {
		t.Fatalf("password sign-in = %d", p.status)
	}
	login := b.post(t, e.portal.URL+"/profile/identities/link/corp", url.Values{}, true)
	end := b.submitLogin(t, login, "dee-at-corp", false)
	if end.status != http.StatusFound {
		t.Fatalf("login = %d", end.status)
	}
	// The callback links and goes back to the profile.
	if p := b.get(t, end.location, false); p.status != http.StatusSeeOther || p.location != "/profile" {
		t.Fatalf("link callback = %d to %q", p.status, p.location)
	}
	if e.who(t, b) != "Dee Developer" {
		t.Fatal("linking changed who is signed in")
	}
	ids := e.identities(t, developerEmail)
	if len(ids) != 1 || ids[0].Subject != "dee-at-corp" {
		t.Fatalf("developer's identities after link: %+v", ids)
	}

	// Signing in with it (signup is off) reaches the developer's account.
	b2 := newBrowser(t)
	if end := e.signIn(t, b2, "corp", "dee-at-corp", ""); end.status != http.StatusOK || e.who(t, b2) != "Dee Developer" {
		t.Fatalf("sign-in with linked identity = %d as %q", end.status, e.who(t, b2))
	}

	// The admin cannot link the same identity to their account.
	a := newBrowser(t)
	a.post(t, e.portal.URL+"/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}, true)
	before := e.reasons("identity_linked_elsewhere")
	login = a.post(t, e.portal.URL+"/profile/identities/link/corp", url.Values{}, true)
	if p := a.submitLogin(t, login, "dee-at-corp", true); p.status != http.StatusConflict {
		t.Fatalf("second link = %d", p.status)
	}
	if e.reasons("identity_linked_elsewhere") != before+1 {
		t.Fatal("not logged as identity_linked_elsewhere")
	}
	if e.who(t, a) != "Ada Admin" {
		t.Fatal("the admin's session changed")
	}
}

// TestOIDCSignUpOff: the provider's own signup switch decides whether an
// unknown identity gets an account; the portal's password sign-up switch
// does not.
func TestOIDCSignUpOff(t *testing.T) {
	for _, tc := range []struct {
		name           string
		providerSignUp bool
		portalSignUp   bool
		created        bool
	}{
		{"provider signup false", false, true, false},
		{"provider signup false, portal off", false, false, false},
		{"portal password signup off", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOIDCEnv(t, oidcOptions{})
			e.addProvider(t, func(p *portal.IdentityProvider) { p.SignUp = tc.providerSignUp })
			ctx := context.Background()
			settings, _ := e.store.FindSettings(ctx)
			settings.BasicAuth.SignUp = tc.portalSignUp
			if err := e.store.UpdateSettings(ctx, settings); err != nil {
				t.Fatal(err)
			}
			e.idp.AddUser(devidp.User{Subject: "stranger", Email: "stranger@example.org", Name: "Olive Oidc"})
			b := newBrowser(t)
			end := e.signIn(t, b, "corp", "stranger", "")
			u, err := e.store.FindUserByEmail(ctx, "stranger@example.org")
			if tc.created {
				if end.status != http.StatusOK || err != nil || u.State != portal.UserActive || e.who(t, b) != "Olive Oidc" {
					t.Fatalf("sign-up = %d, user %+v, %v", end.status, u, err)
				}
				return
			}
			if end.status != http.StatusForbidden || e.who(t, b) != "" {
				t.Fatalf("unknown user = %d", end.status)
			}
			if e.reasons("signup_disabled") != 1 {
				t.Fatal("not logged as signup_disabled")
			}
			if portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("account created: %v", err)
			}
		})
	}
}

// TestOIDCSignUpAllowedDomains: with allowed email domains set, a provider
// sign-up is refused for an address elsewhere, and made for one inside.
func TestOIDCSignUpAllowedDomains(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	ctx := context.Background()
	settings, _ := e.store.FindSettings(ctx)
	settings.BasicAuth.AllowedEmailDomains = []string{"corp.example"}
	if err := e.store.UpdateSettings(ctx, settings); err != nil {
		t.Fatal(err)
	}
	e.idp.AddUser(devidp.User{Subject: "outsider", Email: "olive@elsewhere.example", Name: "Outsider"})
	e.idp.AddUser(devidp.User{Subject: "insider", Email: "Olive@Corp.example", Name: "Olive Oidc"})

	b := newBrowser(t)
	end := e.signIn(t, b, "corp", "outsider", "")
	if end.status != http.StatusForbidden || !strings.Contains(end.body, "Sign-up is open to addresses at corp.example only.") || e.who(t, b) != "" {
		t.Fatalf("outside the allowed domains = %d\n%s", end.status, end.body)
	}
	if e.reasons("email_domain_not_allowed") != 1 {
		t.Fatal("not logged as email_domain_not_allowed")
	}
	if _, err := e.store.FindUserByEmail(ctx, "olive@elsewhere.example"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("account created: %v", err)
	}
	b = newBrowser(t)
	if end := e.signIn(t, b, "corp", "insider", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
		t.Fatalf("inside the allowed domains = %d", end.status)
	}
}

// TestOIDCSignUpEmailVerification: an address the provider vouches for
// (email_verified, or Entra's xms_edov) makes an active account; one it
// does not makes a pending account with the identity linked, whose
// confirmation link is mailed; the identity signs in once it is used.
func TestOIDCSignUpEmailVerification(t *testing.T) {
	ctx := context.Background()
	t.Run("email_verified", func(t *testing.T) {
		e := newOIDCEnv(t, oidcOptions{})
		e.addProvider(t, nil)
		e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc"})
		b := newBrowser(t)
		if end := e.signIn(t, b, "corp", "olive-1", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
			t.Fatalf("verified sign-up = %d as %q", end.status, e.who(t, b))
		}
		if u, err := e.store.FindUserByEmail(ctx, "olive@example.org"); err != nil || u.State != portal.UserActive {
			t.Fatalf("user %+v, %v", u, err)
		}
	})
	t.Run("no email_verified", func(t *testing.T) {
		e := newOIDCEnv(t, oidcOptions{})
		e.addProvider(t, nil)
		e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc", EmailUnverified: true})
		b := newBrowser(t)
		end := e.signIn(t, b, "corp", "olive-1", "")
		if end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) || e.who(t, b) != "" {
			t.Fatalf("unverified sign-up = %d at %s\n%s", end.status, end.url, end.body)
		}
		u, err := e.store.FindUserByEmail(ctx, "olive@example.org")
		if err != nil || u.State != portal.UserPending || u.PasswordHash != "" {
			t.Fatalf("user %+v, %v", u, err)
		}
		if ids := e.identities(t, "olive@example.org"); len(ids) != 1 || ids[0].Subject != "olive-1" {
			t.Fatalf("identities %+v", ids)
		}
		// Signing in again at once sends nothing (whoever holds the
		// identity may not own the address): 429, with when a new
		// message may be asked for.
		again := newBrowser(t)
		if end := e.signIn(t, again, "corp", "olive-1", ""); end.status != http.StatusTooManyRequests || !strings.Contains(end.body, "less than an hour ago") || e.who(t, again) != "" {
			t.Fatalf("sign-in at once before confirming = %d\n%s", end.status, end.body)
		}
		if n := len(e.mails(t)); n != 1 {
			t.Fatalf("%d mails after signing in again at once, want 1", n)
		}
		// An hour later it sends a new message (the first may be lost)
		// and says so; both links work.
		e.clock.Advance(auth.ConfirmationResendInterval)
		if end := e.signIn(t, again, "corp", "olive-1", ""); end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) || e.who(t, again) != "" {
			t.Fatalf("sign-in an hour later before confirming = %d\n%s", end.status, end.body)
		}
		mails := e.mails(t)
		if len(mails) != 2 || mails[0].To[0] != "olive@example.org" || !strings.Contains(mails[0].Subject, "Confirm") || mails[1].To[0] != "olive@example.org" {
			t.Fatalf("outbox %+v", mails)
		}
		// The mail names the provider, so that the owner of an address
		// someone else claimed there knows not to open it.
		if !strings.Contains(mails[0].Text, "with Contoso staff") || !strings.Contains(mails[0].Text, "If it was not you") {
			t.Fatalf("the confirmation does not name the provider:\n%s", mails[0].Text)
		}
		m := regexp.MustCompile(regexp.QuoteMeta(e.portal.URL) + `/confirm/signup\?token=([A-Za-z0-9_\-]+)`).FindStringSubmatch(mails[0].Text)
		if m == nil {
			t.Fatalf("no confirmation link in\n%s", mails[0].Text)
		}
		if p := b.post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {m[1]}}, true); p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="signup-confirmed"`) {
			t.Fatalf("confirming = %d\n%s", p.status, p.body)
		}
		if u, _ := e.store.FindUserByEmail(ctx, "olive@example.org"); u.State != portal.UserActive {
			t.Fatalf("confirmed user %+v", u)
		}
		b2 := newBrowser(t)
		if end := e.signIn(t, b2, "corp", "olive-1", ""); end.status != http.StatusOK || e.who(t, b2) != "Olive Oidc" {
			t.Fatalf("sign-in after confirming = %d as %q", end.status, e.who(t, b2))
		}
	})
	for _, tc := range []struct {
		name           string
		domainVerified bool
		want           portal.UserState
	}{
		{"entra xms_edov", true, portal.UserActive},
		{"entra without xms_edov", false, portal.UserPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const tid = "11111111-1111-1111-1111-111111111111"
			e := newOIDCEnv(t, oidcOptions{entra: true})
			e.addProvider(t, func(p *portal.IdentityProvider) {
				p.Type, p.Issuer, p.Tenant, p.Authority = portal.IdentityProviderEntra, "", "organizations", e.idp.Issuer()
			})
			e.idp.AddUser(devidp.User{Subject: "pairwise", Email: "olive@a.example", Name: "Olive Oidc", TenantID: tid, ObjectID: "oid-a", DomainVerified: tc.domainVerified})
			b := newBrowser(t)
			end := e.signIn(t, b, "corp", "pairwise", "")
			u, err := e.store.FindUserByEmail(ctx, "olive@a.example")
			if end.status != http.StatusOK || err != nil || u.State != tc.want {
				t.Fatalf("sign-up = %d, user %+v, %v\n%s", end.status, u, err, e.logs.String())
			}
			if signedIn := e.who(t, b) == "Olive Oidc"; signedIn != (tc.want == portal.UserActive) {
				t.Fatalf("signed in: %v", signedIn)
			}
		})
	}
}

// mails returns the portal's outbox once mail in the background is sent.
func (e *oidcEnv) mails(t *testing.T) []*portal.Mail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.web.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	m, _, err := e.store.FindMails(context.Background(), portal.MailFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOIDCSignUpSubjectTooLong: a subject longer than an identity may be
// is refused with a message before anything is stored.
func TestOIDCSignUpSubjectTooLong(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: strings.Repeat("s", 501), Email: "olive@example.org", Name: "Olive Oidc"})
	b := newBrowser(t)
	end := e.signIn(t, b, "corp", strings.Repeat("s", 501), "")
	if end.status != http.StatusForbidden || !strings.Contains(end.body, "identifier longer than this portal can store") || e.who(t, b) != "" {
		t.Fatalf("long subject = %d\n%s", end.status, end.body)
	}
	if e.reasons("identity_key_too_long") != 1 {
		t.Fatal("not logged as identity_key_too_long")
	}
	if _, err := e.store.FindUserByEmail(context.Background(), "olive@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("a user was left behind: %v", err)
	}
}

// TestOIDCSignUpName: the provider's name loses its control characters
// and is cut to 200 characters, the limit of a user's name
// (portal.CleanName).
func TestOIDCSignUpName(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive\r\nOidc\t" + strings.Repeat("é", 300)})
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "olive-1", ""); end.status != http.StatusOK {
		t.Fatalf("sign-up = %d\n%s", end.status, end.body)
	}
	u, err := e.store.FindUserByEmail(context.Background(), "olive@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(u.Name) || utf8.RuneCountInString(u.Name) > 200 || strings.ContainsAny(u.Name, "\r\n\t") || !strings.HasPrefix(u.Name, "Olive Oidc éé") {
		t.Fatalf("name %q (%d characters)", u.Name, utf8.RuneCountInString(u.Name))
	}
	if want := "Olive Oidc " + strings.Repeat("é", 200-len("Olive Oidc ")); u.Name != want {
		t.Fatalf("name %q, want %q", u.Name, want)
	}
}

// TestOIDCProviderDownPage: a provider that cannot be reached is named on
// the error page, with 503, not hidden behind the generic message.
func TestOIDCProviderDownPage(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.SetDown(true)
	p := newBrowser(t).get(t, e.portal.URL+"/signin/corp", false)
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "The identity provider could not be reached.") {
		t.Fatalf("provider down = %d\n%s", p.status, p.body)
	}
}

// TestOIDCEntraMultiTenant: with tenant organizations, the issuer is the
// template filled with the token's own tid, and tid must be allowed.
func TestOIDCEntraMultiTenant(t *testing.T) {
	const tidA, tidB = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	e := newOIDCEnv(t, oidcOptions{entra: true})
	e.addProvider(t, func(p *portal.IdentityProvider) {
		p.Type, p.Issuer, p.Tenant, p.Authority = portal.IdentityProviderEntra, "", "organizations", e.idp.Issuer()
		p.AllowedTenants = []string{tidA}
	})
	e.idp.AddUser(devidp.User{Subject: "pairwise-a", Email: "olive@a.example", Name: "Olive Oidc", TenantID: tidA, ObjectID: "oid-a", DomainVerified: true})
	e.idp.AddUser(devidp.User{Subject: "pairwise-b", Email: "mallory@b.example", Name: "Mallory", TenantID: tidB, ObjectID: "oid-b", DomainVerified: true})

	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "pairwise-a", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
		t.Fatalf("allowed tenant = %d\n%s", end.status, e.logs.String())
	}
	ids := e.identities(t, "olive@a.example")
	if len(ids) != 1 || ids[0].Issuer != portal.EntraIssuerKey(tidA) || ids[0].Subject != "oid-a" {
		t.Fatalf("Entra identity keyed as %+v", ids)
	}

	b = newBrowser(t)
	if end := e.signIn(t, b, "corp", "pairwise-b", ""); end.status != http.StatusForbidden || e.who(t, b) != "" {
		t.Fatalf("other tenant = %d", end.status)
	}
	if e.reasons("tenant_not_allowed") != 1 {
		t.Fatal("not logged as tenant_not_allowed")
	}

	// The issuer names tenant A, the tid claim another: refused.
	e.idp.SetMisbehaviour(devidp.TenantMismatch)
	b = newBrowser(t)
	if end := e.signIn(t, b, "corp", "pairwise-a", ""); end.status != http.StatusForbidden || e.who(t, b) != "" {
		t.Fatalf("issuer/tid mismatch = %d", end.status)
	}
	if e.reasons("id_token_issuer") != 1 {
		t.Fatalf("not logged as id_token_issuer\n%s", e.logs.String())
	}
}

// TestOIDCEntraSingleTenant: with a tenant id, only that tenant's issuer
// passes.
func TestOIDCEntraSingleTenant(t *testing.T) {
	const tidA, tidB = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	e := newOIDCEnv(t, oidcOptions{entra: true})
	e.addProvider(t, func(p *portal.IdentityProvider) {
		p.Type, p.Issuer, p.Tenant, p.Authority = portal.IdentityProviderEntra, "", tidA, e.idp.Issuer()
	})
	e.idp.AddUser(devidp.User{Subject: "pairwise-a", Email: "olive@a.example", Name: "Olive Oidc", TenantID: tidA, ObjectID: "oid-a", DomainVerified: true})
	e.idp.AddUser(devidp.User{Subject: "pairwise-b", Email: "mallory@b.example", Name: "Mallory", TenantID: tidB, ObjectID: "oid-b", DomainVerified: true})
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "pairwise-a", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
		t.Fatalf("own tenant = %d", end.status)
	}
	b = newBrowser(t)
	if end := e.signIn(t, b, "corp", "pairwise-b", ""); end.status != http.StatusForbidden || e.who(t, b) != "" {
		t.Fatalf("other tenant = %d", end.status)
	}
	if e.reasons("id_token_issuer") != 1 {
		t.Fatal("not logged as id_token_issuer")
	}
}

// TestOIDCExternalID: an External ID provider with an explicit authority
// discovers at {authority}/.well-known/openid-configuration and keys
// accounts by issuer and subject.
func TestOIDCExternalID(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, func(p *portal.IdentityProvider) {
		p.Type, p.Issuer, p.Authority = portal.IdentityProviderExternalID, "", e.idp.Issuer()
	})
	e.idp.AddUser(devidp.User{Subject: "ciam-1", Email: "olive@customers.example", Name: "Olive Oidc"})
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "ciam-1", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
		t.Fatalf("External ID sign-in = %d\n%s", end.status, e.logs.String())
	}
	ids := e.identities(t, "olive@customers.example")
	if len(ids) != 1 || ids[0].Issuer != e.idp.Issuer() || ids[0].Subject != "ciam-1" {
		t.Fatalf("identities %+v", ids)
	}
}

// TestOIDCRefusesSymmetricTokens: a provider whose discovery advertises
// HS256 and none and that signs with HS256 (keyed with the client secret,
// or with an oct key it publishes in its JWKS) is refused.
func TestOIDCRefusesSymmetricTokens(t *testing.T) {
	for _, m := range []devidp.Misbehaviour{devidp.HMACClientSecret, devidp.HMACPublishedKey} {
		e := newOIDCEnv(t, oidcOptions{})
		e.addProvider(t, nil)
		e.idp.AddUser(devidp.User{Subject: "mallory", Email: "mallory@example.org", Name: "Mallory"})
		e.idp.SetMisbehaviour(m) // before the first discovery, which then advertises HS256
		b := newBrowser(t)
		end := e.signIn(t, b, "corp", "mallory", "")
		if end.status != http.StatusForbidden || e.who(t, b) != "" || e.idp.DiscoveryFetches() != 1 {
			t.Fatalf("misbehaviour %d: %d, %d discoveries", m, end.status, e.idp.DiscoveryFetches())
		}
		if e.reasons("id_token_alg_refused") != 1 {
			t.Fatalf("misbehaviour %d: not logged as id_token_alg_refused\n%s", m, e.logs.String())
		}
	}
}

// TestOIDCEntraTokenNeedsTenantAndObject: an Entra ID token without tid
// or without oid is refused.
func TestOIDCEntraTokenNeedsTenantAndObject(t *testing.T) {
	const tid = "11111111-1111-1111-1111-111111111111"
	e := newOIDCEnv(t, oidcOptions{entra: true})
	e.addProvider(t, func(p *portal.IdentityProvider) {
		p.Type, p.Issuer, p.Tenant, p.Authority = portal.IdentityProviderEntra, "", tid, e.idp.Issuer()
	})
	e.idp.AddUser(devidp.User{Subject: "pairwise", Email: "olive@a.example", Name: "Olive Oidc", TenantID: tid, ObjectID: "oid-a", DomainVerified: true})
	for i, m := range []devidp.Misbehaviour{devidp.MissingTenantID, devidp.MissingObjectID} {
		e.idp.SetMisbehaviour(m)
		b := newBrowser(t)
		if end := e.signIn(t, b, "corp", "pairwise", ""); end.status != http.StatusForbidden || e.who(t, b) != "" {
			t.Fatalf("misbehaviour %d = %d", m, end.status)
		}
		if e.reasons("id_token_no_tid_oid") != i+1 {
			t.Fatalf("misbehaviour %d not logged as id_token_no_tid_oid", m)
		}
	}
	if _, err := e.store.FindUserByEmail(context.Background(), "olive@a.example"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("account created: %v", err)
	}
}

// TestOIDCEntraCommon: with tenant common any tenant signs in, each under
// the issuer of its own tid; an issuer naming another tenant is refused.
func TestOIDCEntraCommon(t *testing.T) {
	const tidA, tidB = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	e := newOIDCEnv(t, oidcOptions{entra: true})
	e.addProvider(t, func(p *portal.IdentityProvider) {
		p.Type, p.Issuer, p.Tenant, p.Authority = portal.IdentityProviderEntra, "", "common", e.idp.Issuer()
	})
	e.idp.AddUser(devidp.User{Subject: "pairwise-a", Email: "olive@a.example", Name: "Olive Oidc", TenantID: tidA, ObjectID: "oid-a", DomainVerified: true})
	e.idp.AddUser(devidp.User{Subject: "pairwise-b", Email: "mallory@b.example", Name: "Mallory", TenantID: tidB, ObjectID: "oid-b", DomainVerified: true})
	for _, tc := range []struct{ sub, who string }{{"pairwise-a", "Olive Oidc"}, {"pairwise-b", "Mallory"}} {
		b := newBrowser(t)
		if end := e.signIn(t, b, "corp", tc.sub, ""); end.status != http.StatusOK || e.who(t, b) != tc.who {
			t.Fatalf("%s = %d\n%s", tc.sub, end.status, e.logs.String())
		}
	}
	e.idp.SetMisbehaviour(devidp.TenantMismatch)
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "pairwise-a", ""); end.status != http.StatusForbidden || e.who(t, b) != "" {
		t.Fatalf("issuer/tid mismatch = %d", end.status)
	}
	if e.reasons("id_token_issuer") != 1 {
		t.Fatal("not logged as id_token_issuer")
	}
}

// TestOIDCEntraConsumers: the consumers tenant's discovery names the fixed
// issuer of personal accounts' tenant, as Entra's does, and its tokens
// sign in.
func TestOIDCEntraConsumers(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{entra: true})
	e.addProvider(t, func(p *portal.IdentityProvider) {
		p.Type, p.Issuer, p.Tenant, p.Authority = portal.IdentityProviderEntra, "", "consumers", e.idp.Issuer()
	})
	e.idp.AddUser(devidp.User{Subject: "msa", Email: "olive@outlook.example", Name: "Olive Oidc", TenantID: devidp.ConsumersTenantID, ObjectID: "oid-msa", DomainVerified: true})
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "msa", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
		t.Fatalf("consumers sign-in = %d\n%s", end.status, e.logs.String())
	}
}

// TestOIDCSignInAccountState: an identity linked to a blocked or pending
// account does not sign in, and the page says why.
func TestOIDCSignInAccountState(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	for _, tc := range []struct {
		state   portal.UserState
		sub     string
		reason  string
		message string
	}{
		{portal.UserBlocked, "blocked-1", "account_blocked", "This account is blocked."},
		{portal.UserPending, "pending-1", "account_pending", "confirm your email address"},
	} {
		u := &portal.User{Email: tc.sub + "@example.org", Name: "Mallory", Role: portal.RoleDeveloper, State: tc.state}
		if err := e.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateIdentity(ctx, &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: e.idp.Issuer(), Subject: tc.sub}); err != nil {
			t.Fatal(err)
		}
		e.idp.AddUser(devidp.User{Subject: tc.sub, Email: u.Email, Name: "Mallory"})
		b := newBrowser(t)
		end := e.signIn(t, b, "corp", tc.sub, "")
		if end.status != http.StatusForbidden || !strings.Contains(end.body, tc.message) || e.who(t, b) != "" {
			t.Fatalf("%s account = %d\n%s", tc.state, end.status, end.body)
		}
		if e.reasons(tc.reason) != 1 {
			t.Fatalf("not logged as %s", tc.reason)
		}
	}
}

// linkOf returns the token of the newest mail in the outbox to to whose
// text links to path (a path with "?token=").
func (e *oidcEnv) linkOf(t *testing.T, to, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(e.portal.URL+path) + `([A-Za-z0-9_\-]+)`)
	for _, m := range e.mails(t) {
		if len(m.To) > 0 && m.To[0] == to {
			if got := re.FindStringSubmatch(m.Text); got != nil {
				return got[1]
			}
		}
	}
	t.Fatalf("no mail to %s links to %s", to, path)
	return ""
}

// signedIn reports whether b is signed in (its /profile answers).
func (e *oidcEnv) signedIn(t *testing.T, b *browser) bool {
	t.Helper()
	return b.get(t, e.portal.URL+"/profile", false).status == http.StatusOK
}

// TestOIDCPendingSignUpTakeover: someone signs up through a provider with
// another person's address, which the provider does not vouch for: the
// account is pending with their identity linked. When the owner of the
// address takes the account up another way (an administrator's
// invitation accepted with a password or an identity of their own, or a
// password reset), that identity is removed, and signing in with it
// afterwards lands nowhere.
func TestOIDCPendingSignUpTakeover(t *testing.T) {
	ctx := context.Background()
	const victim = "vic@example.org"
	const password = "a long passphrase of the real owner"
	setup := func(t *testing.T) *oidcEnv {
		e := newOIDCEnv(t, oidcOptions{captchas: true})
		e.addProvider(t, nil)
		e.idp.AddUser(devidp.User{Subject: "mallory-1", Email: victim, Name: "Mallory", EmailUnverified: true})
		e.idp.AddUser(devidp.User{Subject: "vic-1", Email: victim, Name: "Vic at the IdP"})
		end := e.signIn(t, newBrowser(t), "corp", "mallory-1", "")
		if end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
			t.Fatalf("the attacker's sign-up = %d\n%s", end.status, end.body)
		}
		if ids := e.identities(t, victim); len(ids) != 1 || ids[0].Subject != "mallory-1" {
			t.Fatalf("identities of the pending account %+v", ids)
		}
		return e
	}
	// attackerLocked fails unless the attacker's identity is gone and
	// signing in with it leaves the browser anonymous, while the owner's
	// account is active.
	attackerLocked := func(t *testing.T, e *oidcEnv) {
		t.Helper()
		if _, err := e.store.FindIdentity(ctx, e.idp.Issuer(), "mallory-1"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("the attacker's identity is still linked: %v", err)
		}
		b := newBrowser(t)
		end := e.signIn(t, b, "corp", "mallory-1", "")
		if end.status == http.StatusOK || e.signedIn(t, b) {
			t.Fatalf("the attacker's sign-in = %d at %s, signed in: %v\n%s", end.status, end.url, e.signedIn(t, b), end.body)
		}
		if u, err := e.store.FindUserByEmail(ctx, victim); err != nil || u.State != portal.UserActive {
			t.Fatalf("the owner's account %+v, %v", u, err)
		}
		if _, err := e.store.FindIdentity(ctx, e.idp.Issuer(), "mallory-1"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("the attacker's sign-in linked the identity again: %v", err)
		}
	}
	// invite has the administrator invite the address as an
	// administrator, over HTTP; the sign-up's confirmation link stops
	// working, and the invitation's token is returned.
	invite := func(t *testing.T, e *oidcEnv) string {
		t.Helper()
		confirm := e.linkOf(t, victim, "/confirm/signup?token=")
		admin := newBrowser(t)
		admin.post(t, e.portal.URL+"/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}, true)
		if e.who(t, admin) != "Ada Admin" {
			t.Fatal("the administrator is not signed in")
		}
		if r := admin.post(t, e.portal.URL+"/admin/invitations", url.Values{"email": {victim}, "name": {"Vic Victim"}, "role": {"admin"}}, false); r.status != http.StatusSeeOther {
			t.Fatalf("invite = %d\n%s", r.status, r.body)
		}
		// The pending sign-up's confirmation link would keep the
		// attacker's identity on an account now invited as an
		// administrator.
		if p := newBrowser(t).post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {confirm}}, true); p.status != http.StatusNotFound {
			t.Fatalf("the sign-up's confirmation link after the invitation = %d\n%s", p.status, p.body)
		}
		if u, _ := e.store.FindUserByEmail(ctx, victim); u.State != portal.UserPending || u.Role != portal.RoleAdmin {
			t.Fatalf("invited account %+v", u)
		}
		// Nor does the attacker's identity stay until the invitation is
		// accepted: signing in with it again would mail the invitee a
		// new confirmation, which they might open.
		if ids := e.identities(t, victim); len(ids) != 0 {
			t.Fatalf("identities of the invited account %+v", ids)
		}
		before := len(e.mails(t))
		if b := newBrowser(t); e.signIn(t, b, "corp", "mallory-1", "").status == http.StatusOK && e.signedIn(t, b) {
			t.Fatal("the attacker signed in to the invited account")
		}
		if n := len(e.mails(t)); n != before {
			t.Fatalf("the attacker's sign-in after the invitation sent %d mails", n-before)
		}
		return e.linkOf(t, victim, "/confirm/invitation?token=")
	}

	t.Run("invitation accepted with a password", func(t *testing.T) {
		e := setup(t)
		token := invite(t, e)
		b := newBrowser(t)
		p := b.post(t, e.portal.URL+"/confirm/invitation", url.Values{"token": {token}, "password": {password}, "password2": {password}}, true)
		if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="invitation-accepted"`) {
			t.Fatalf("accepting = %d\n%s", p.status, p.body)
		}
		if ids := e.identities(t, victim); len(ids) != 0 {
			t.Fatalf("identities after accepting with a password %+v", ids)
		}
		attackerLocked(t, e)
	})
	t.Run("invitation accepted with a provider", func(t *testing.T) {
		e := setup(t)
		token := invite(t, e)
		b := newBrowser(t)
		login := b.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {token}}, true)
		if end := b.submitLogin(t, login, "vic-1", true); end.status != http.StatusOK || end.url.Path != "/profile" {
			t.Fatalf("accepting = %d %s\n%s", end.status, end.url, end.body)
		}
		if ids := e.identities(t, victim); len(ids) != 1 || ids[0].Subject != "vic-1" {
			t.Fatalf("identities after accepting with a provider %+v", ids)
		}
		attackerLocked(t, e)
		// The owner's own identity signs in.
		b2 := newBrowser(t)
		if end := e.signIn(t, b2, "corp", "vic-1", ""); end.status != http.StatusOK || !e.signedIn(t, b2) {
			t.Fatalf("the owner's sign-in = %d %s", end.status, end.url)
		}
	})
	t.Run("password reset", func(t *testing.T) {
		e := setup(t)
		b := newBrowser(t)
		page := b.get(t, e.portal.URL+"/reset-password", false)
		m := regexp.MustCompile(`name="captcha_id" value="([^"]+)"`).FindStringSubmatch(page.body)
		if page.status != http.StatusOK || m == nil {
			t.Fatalf("reset page = %d\n%s", page.status, page.body)
		}
		c, err := e.store.FindCaptcha(ctx, m[1], e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if p := b.post(t, e.portal.URL+"/reset-password", url.Values{"email": {victim}, "captcha_id": {c.ID}, "captcha": {c.Digits}}, true); p.status != http.StatusOK {
			t.Fatalf("asking for a reset = %d\n%s", p.status, p.body)
		}
		token := e.linkOf(t, victim, "/confirm/password?token=")
		p := b.post(t, e.portal.URL+"/confirm/password", url.Values{"token": {token}, "password": {password}, "password2": {password}}, true)
		if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="password-reset-done"`) {
			t.Fatalf("resetting = %d\n%s", p.status, p.body)
		}
		attackerLocked(t, e)
	})
}
