package auth_test

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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/portal"
)

// flowEnv is OIDC over a real store, served by a minimal handler (start
// and callback), against a devidp on loopback.
type flowEnv struct {
	oidc  *auth.OIDC
	store portal.Store
	idp   *devidp.Provider
	app   *httptest.Server
	logs  *lockedBuffer
	now   time.Time
	mu    sync.Mutex
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (e *flowEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *flowEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newFlowEnv(t *testing.T, client *http.Client) *flowEnv {
	t.Helper()
	st, keys := newStore(t)
	idpSrv := httptest.NewUnstartedServer(nil)
	idp, err := devidp.New(devidp.Config{Issuer: "http://" + idpSrv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	idpSrv.Config.Handler = idp
	idpSrv.Start()
	t.Cleanup(idpSrv.Close)
	idp.AddClient("portal", "secret", "portal")
	idp.AddUser(devidp.User{Subject: "olive", Email: "olive@example.org", Name: "Olive"})

	e := &flowEnv{store: st, idp: idp, logs: &lockedBuffer{}, now: time.Now()}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	app := httptest.NewUnstartedServer(nil)
	public := "http://" + app.Listener.Addr().String()
	a, err := auth.New(auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys, PublicURL: public, Now: e.clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.oidc, err = auth.NewOIDC(auth.OIDCConfig{Auth: a, Store: st, PublicURL: public, Client: client, KeyRefetchInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /signin/{idp}", func(w http.ResponseWriter, r *http.Request) {
		to, err := e.oidc.Start(w, r, r.PathValue("idp"), auth.StartOptions{Next: "/done", Invitation: r.URL.Query().Get("invite")})
		if err != nil {
			http.Error(w, portal.ErrorMessage(err), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	// A link flow for the user of the path, whoever the session is
	// signed in as: the callback must find that user signed in.
	mux.HandleFunc("GET /link/{uid}", func(w http.ResponseWriter, r *http.Request) {
		uid, _ := strconv.ParseInt(r.PathValue("uid"), 10, 64)
		to, err := e.oidc.Start(w, r, "corp", auth.StartOptions{Next: "/done", LinkUserID: uid})
		if err != nil {
			http.Error(w, portal.ErrorMessage(err), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /signin/{idp}/callback", func(w http.ResponseWriter, r *http.Request) {
		res, err := e.oidc.Finish(w, r, r.PathValue("idp"))
		if err != nil {
			http.Error(w, auth.RefusalReason(err), http.StatusForbidden)
			return
		}
		if res.Invitation != "" {
			// As an invitation page would: the invited account, made
			// active, gets the identity.
			u := &portal.User{Email: "invitee@example.org", Name: "Invitee", Role: portal.RoleDeveloper, State: portal.UserActive}
			if err := e.store.CreateUser(r.Context(), u); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			i := *res.Identity
			i.UserID = u.ID
			if err := e.store.CreateIdentity(r.Context(), &i); err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			if err := e.oidc.CompleteInvitation(r.Context(), w, r, res, u.ID); err != nil {
				http.Error(w, auth.RefusalReason(err), http.StatusForbidden)
				return
			}
			io.WriteString(w, "invitation "+res.Invitation+" accepted by "+res.Identity.Email)
			return
		}
		io.WriteString(w, "signed in as "+res.User.Email)
	})
	app.Config.Handler = mux
	app.Start()
	t.Cleanup(app.Close)
	e.app = app
	if err := st.CreateIdentityProvider(context.Background(), &portal.IdentityProvider{Name: "corp", Type: portal.IdentityProviderOIDC,
		ClientID: "portal", ClientSecret: "secret", Issuer: idp.Issuer(), SignUp: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	actionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// signIn runs the flow for devidp's user olive in a new browser and
// returns the final status and body (the callback's answer).
func (e *flowEnv) signIn(t *testing.T) (int, string) {
	t.Helper()
	return e.signInAt(t, "/signin/corp")
}

func (e *flowEnv) signInAt(t *testing.T, path string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := c.Get(e.app.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := actionRe.FindStringSubmatch(string(body))
	if m == nil {
		return res.StatusCode, string(body)
	}
	form := url.Values{"user": {"olive"}}
	for _, h := range hiddenRe.FindAllStringSubmatch(string(body), -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	res, err = c.PostForm(html.UnescapeString(m[1]), form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ = io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(body))
}

// TestOIDCKeyRefetchLimited: a token the cached keys do not verify, under
// an unknown kid or a known one, makes the key set refetch at most once
// per interval, and a rotation is picked up once the interval has passed.
func TestOIDCKeyRefetchLimited(t *testing.T) {
	e := newFlowEnv(t, nil)
	if status, body := e.signIn(t); status != 200 || body != "signed in as olive@example.org" {
		t.Fatalf("first sign-in = %d %s", status, body)
	}
	if n := e.idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	// The provider rotates soon after the first fetch: the first token
	// with the new kid is followed by one refetch.
	if err := e.idp.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if status, body := e.signIn(t); status != 200 {
		t.Fatalf("sign-in after the first rotation = %d %s", status, body)
	}
	if n := e.idp.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
	// Within the interval of that refetch another new kid is not
	// fetched: refused, and the provider is not asked again however
	// often it is tried.
	if err := e.idp.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if status, body := e.signIn(t); status != http.StatusForbidden || body != "id_token_signature" {
			t.Fatalf("sign-in after the second rotation = %d %s", status, body)
		}
	}
	if n := e.idp.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times within the interval, want 2", n)
	}
	e.advance(time.Minute + time.Second)
	if status, body := e.signIn(t); status != 200 {
		t.Fatalf("sign-in after the interval = %d %s", status, body)
	}
	if n := e.idp.JWKSFetches(); n != 3 {
		t.Fatalf("JWKS fetched %d times, want 3", n)
	}
	// A signature that does not verify under a kid the set holds is
	// refetched too (the provider may have replaced the key under the same
	// kid), once the interval has passed, and opens the window again.
	e.advance(time.Minute + time.Second)
	e.idp.SetMisbehaviour(devidp.BadSignature)
	for range 3 {
		if status, body := e.signIn(t); status != http.StatusForbidden || body != "id_token_signature" {
			t.Fatalf("sign-in with a bad signature under the known kid = %d %s", status, body)
		}
	}
	if n := e.idp.JWKSFetches(); n != 4 {
		t.Fatalf("JWKS fetched %d times after bad signatures under a known kid, want 4 (one refetch)", n)
	}
	e.idp.SetMisbehaviour(devidp.Behave)
	if status, body := e.signIn(t); status != 200 {
		t.Fatalf("sign-in after the bad signatures = %d %s", status, body)
	}
	if err := e.idp.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if status, body := e.signIn(t); status != http.StatusForbidden || body != "id_token_signature" {
		t.Fatalf("sign-in after a rotation within the window the bad signature opened = %d %s", status, body)
	}
	if n := e.idp.JWKSFetches(); n != 4 {
		t.Fatalf("JWKS fetched %d times, want 4", n)
	}
}

// TestOIDCProviderLimits: oversized documents, a wrong discovery issuer, a
// provider that is down and one that hangs all fail the flow cleanly.
func TestOIDCProviderLimits(t *testing.T) {
	t.Run("oversized JWKS", func(t *testing.T) {
		e := newFlowEnv(t, nil)
		e.idp.SetOversizedJWKS(true)
		if status, body := e.signIn(t); status != http.StatusForbidden || body != "id_token_signature" {
			t.Fatalf("sign-in = %d %s", status, body)
		}
		if !strings.Contains(e.logs.String(), "too large") {
			t.Fatalf("log does not say the keys were too large:\n%s", e.logs.String())
		}
	})
	t.Run("discovery issuer mismatch", func(t *testing.T) {
		e := newFlowEnv(t, nil)
		e.idp.SetDiscoveryIssuer("https://elsewhere.example")
		if status, _ := e.signIn(t); status != http.StatusBadGateway {
			t.Fatalf("start = %d", status)
		}
		if !strings.Contains(e.logs.String(), `"reason":"discovery_failed"`) || !strings.Contains(e.logs.String(), "elsewhere.example") {
			t.Fatalf("log:\n%s", e.logs.String())
		}
	})
	t.Run("provider down", func(t *testing.T) {
		e := newFlowEnv(t, nil)
		e.idp.SetDown(true)
		if status, _ := e.signIn(t); status != http.StatusBadGateway {
			t.Fatalf("start = %d", status)
		}
	})
	t.Run("provider hangs", func(t *testing.T) {
		release := make(chan struct{})
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer hang.Close()
		defer close(release)
		e := newFlowEnv(t, auth.NewProviderClient(200*time.Millisecond))
		if _, err := e.store.UpdateIdentityProvider(context.Background(), "corp", &portal.IdentityProvider{Name: "corp", Type: portal.IdentityProviderOIDC,
			ClientID: "portal", Issuer: hang.URL, SignUp: true}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if status, _ := e.signIn(t); status != http.StatusBadGateway {
			t.Fatalf("start = %d", status)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("a hanging provider held the flow for %v", d)
		}
	})
}

func TestDiscoveryURL(t *testing.T) {
	for _, tc := range []struct {
		p    portal.IdentityProvider
		want string
	}{
		{portal.IdentityProvider{Type: portal.IdentityProviderOIDC, Issuer: "https://idp.example.com/realms/x"}, "https://idp.example.com/realms/x/.well-known/openid-configuration"},
		{portal.IdentityProvider{Type: portal.IdentityProviderEntra, Tenant: "contoso.onmicrosoft.com"}, "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
		{portal.IdentityProvider{Type: portal.IdentityProviderEntra, Tenant: "organizations", Authority: "https://login.microsoftonline.us"}, "https://login.microsoftonline.us/organizations/v2.0/.well-known/openid-configuration"},
		{portal.IdentityProvider{Type: portal.IdentityProviderExternalID, Tenant: "contosoext.onmicrosoft.com"}, "https://contosoext.ciamlogin.com/contosoext.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
		{portal.IdentityProvider{Type: portal.IdentityProviderExternalID, Authority: "https://login.contoso.com/tid/v2.0"}, "https://login.contoso.com/tid/v2.0/.well-known/openid-configuration"},
	} {
		got, err := auth.DiscoveryURL(&tc.p)
		if err != nil || got != tc.want {
			t.Errorf("DiscoveryURL(%+v) = %q, %v; want %q", tc.p, got, err, tc.want)
		}
	}
}

// TestOIDCInvitation: an invitation flow verifies the identity without
// touching accounts; once the caller has linked it to the invited user
// (the store's AcceptInvitation, here CreateIdentity), CompleteInvitation
// signs them in, and the identity signs in to that account from then on.
func TestOIDCInvitation(t *testing.T) {
	e := newFlowEnv(t, nil)
	if status, body := e.signInAt(t, "/signin/corp?invite=tok-1"); status != 200 || body != "invitation tok-1 accepted by olive@example.org" {
		t.Fatalf("invitation flow = %d %s", status, body)
	}
	if _, err := e.store.FindUserByEmail(context.Background(), "olive@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the invitation flow created an account of its own: %v", err)
	}
	if status, body := e.signIn(t); status != 200 || body != "signed in as invitee@example.org" {
		t.Fatalf("sign-in after the invitation = %d %s", status, body)
	}
}

// TestOIDCDiscoveryFailureRemembered: while a provider is down, sign-ins
// started at once and one after the other make one discovery request
// between them; another only once the failure is older than 30 s.
func TestOIDCDiscoveryFailureRemembered(t *testing.T) {
	var requests atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	e := newFlowEnv(t, nil)
	if _, err := e.store.UpdateIdentityProvider(context.Background(), "corp", &portal.IdentityProvider{Name: "corp", Type: portal.IdentityProviderOIDC,
		ClientID: "portal", Issuer: down.URL, SignUp: true}); err != nil {
		t.Fatal(err)
	}
	start := func() int {
		res, err := http.Get(e.app.URL + "/signin/corp")
		if err != nil {
			t.Error(err)
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if status := start(); status != http.StatusBadGateway {
				t.Errorf("start while down = %d", status)
			}
		})
	}
	wg.Wait()
	for range 3 {
		start()
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("11 starts made %d discovery requests, want 1", n)
	}
	e.advance(29 * time.Second)
	start()
	if n := requests.Load(); n != 1 {
		t.Fatalf("a start 29 s after the failure made %d requests in all, want 1", n)
	}
	e.advance(2 * time.Second)
	start()
	if n := requests.Load(); n != 2 {
		t.Fatalf("a start 31 s after the failure made %d requests in all, want 2", n)
	}
}

// TestOIDCKeyFetchFailureRetried: a failed key set fetch is retried after
// a few seconds, not after the whole refetch interval.
func TestOIDCKeyFetchFailureRetried(t *testing.T) {
	e := newFlowEnv(t, nil)
	e.idp.SetOversizedJWKS(true)
	if status, body := e.signIn(t); status != http.StatusForbidden || body != "id_token_signature" {
		t.Fatalf("sign-in with a failing key set = %d %s", status, body)
	}
	e.idp.SetOversizedJWKS(false)
	// Right after the failure: not asked again.
	if status, _ := e.signIn(t); status != http.StatusForbidden {
		t.Fatalf("sign-in right after the failure = %d", status)
	}
	if n := e.idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times right after a failure, want 1", n)
	}
	e.advance(6 * time.Second)
	if status, body := e.signIn(t); status != http.StatusOK {
		t.Fatalf("sign-in 6 s after the failure = %d %s", status, body)
	}
	if n := e.idp.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

// TestOIDCFlowTTLBound: a flow's state, nonce and verifier live at most
// ten minutes, as the spec asks.
func TestOIDCFlowTTLBound(t *testing.T) {
	if auth.FlowTTL > 10*time.Minute || auth.FlowTTL <= 0 {
		t.Fatalf("FlowTTL = %v, want at most 10m", auth.FlowTTL)
	}
}

// TestOIDCLinkNeedsSameUser: a link flow whose callback comes in a session
// not signed in as the flow's user links nothing.
func TestOIDCLinkNeedsSameUser(t *testing.T) {
	e := newFlowEnv(t, nil)
	ctx := context.Background()
	u := &portal.User{Email: "dee@example.org", Name: "Dee", Role: portal.RoleDeveloper, State: portal.UserActive}
	if err := e.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if status, body := e.signInAt(t, "/link/"+strconv.FormatInt(u.ID, 10)); status != http.StatusForbidden || body != "link_session_changed" {
		t.Fatalf("link in another session = %d %s", status, body)
	}
	if ids, err := e.store.FindUserIdentities(ctx, u.ID); err != nil || len(ids) != 0 {
		t.Fatalf("identities %+v, %v", ids, err)
	}
}

// TestOIDCCheckIgnoresSymmetricKeys: a symmetric (oct) key in a provider's
// JWKS is not counted as a signing key.
func TestOIDCCheckIgnoresSymmetricKeys(t *testing.T) {
	e := newFlowEnv(t, nil)
	p := &portal.IdentityProvider{Name: "corp", Type: portal.IdentityProviderOIDC, ClientID: "portal", Issuer: e.idp.Issuer()}
	if c := e.oidc.CheckProvider(context.Background(), p); !c.OK() || c.SigningKeys != 3 {
		t.Fatalf("check = %+v", c)
	}
	e.idp.SetMisbehaviour(devidp.HMACPublishedKey)
	if c := e.oidc.CheckProvider(context.Background(), p); !c.OK() || c.SigningKeys != 3 {
		t.Fatalf("check with an oct key = %+v", c)
	}
}
