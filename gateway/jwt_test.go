package gateway_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

// startJWTProvider serves a devidp provider on loopback until the test
// ends.
func startJWTProvider(t testing.TB) *devidp.Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := devidp.New(devidp.Config{Issuer: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// jwtPolicy is a validate_jwt against idp for the audience api://echo,
// with the decoders' defaults.
func jwtPolicy(idp *devidp.Provider, edit func(*portal.ValidateJWT)) *portal.ValidateJWT {
	p := &portal.ValidateJWT{
		Header:                "Authorization",
		RequireScheme:         "Bearer",
		OpenIDConfig:          []string{idp.DiscoveryURL()},
		Audiences:             []string{"api://echo"},
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
	}
	if edit != nil {
		edit(p)
	}
	p.Normalize()
	return p
}

// openJWTStore returns a migrated SQLite store in a temporary directory.
func openJWTStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	keys, err := keyring.New(bytes.Repeat([]byte{9}, keyring.MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "portico.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

const (
	msgJWTMissing   = "JWT not present."
	msgJWTSignature = "JWT signature validation failed."
	msgJWTExpired   = "JWT expired."
	msgJWTNotYet    = "JWT not yet valid."
	msgJWTAudience  = "Audience validation failed."
	msgJWTIssuer    = "Issuer validation failed."
	msgJWTKey       = "Signing key not found."
	msgJWTClaim     = "Claim not present."
	msgJWTValue     = "Claim value not allowed."
	msgJWTUnsigned  = "JWT is not signed."
	msgJWTNoKeys    = "Signing keys unavailable."
	challengeToken  = `Bearer error="invalid_token"`
)

// TestValidateJWT runs validate_jwt in the real gateway over a real
// SQLite store, with a real OpenID provider and backend on loopback: each
// failure's status, body and challenge, and that the backend is reached
// exactly when the token passes.
func TestValidateJWT(t *testing.T) {
	ctx := context.Background()
	idp := startJWTProvider(t)
	down := startJWTProvider(t)
	down.SetDown(true)
	store := openJWTStore(t)
	rec := newRecorder(t)

	roles := func(p *portal.ValidateJWT) {
		p.RequiredClaims = []portal.RequiredClaim{{Name: "roles", Match: portal.ClaimMatchAny, Values: []string{"reader", "writer"}}}
	}
	apis := []*portal.API{
		{Name: "jwt", Path: "jwt", Backend: portal.Backend{URL: rec.URL + "/jwt"},
			Policies: portal.Policies{ValidateJWT: jwtPolicy(idp, roles)}},
		{Name: "jwtquery", Path: "jwtquery", Backend: portal.Backend{URL: rec.URL + "/jwtquery"},
			Policies: portal.Policies{ValidateJWT: jwtPolicy(idp, func(p *portal.ValidateJWT) {
				p.Header, p.RequireScheme, p.Query = "", "", "access_token"
				p.FailedStatus, p.FailedMessage = 403, "Token rejected."
			})}},
		{Name: "keyjwt", Path: "keyjwt", SubscriptionRequired: true, Backend: portal.Backend{URL: rec.URL + "/keyjwt"},
			Policies: portal.Policies{ValidateJWT: jwtPolicy(idp, nil)}},
		{Name: "jwtdown", Path: "jwtdown", Backend: portal.Backend{URL: rec.URL + "/jwtdown"},
			Policies: portal.Policies{ValidateJWT: jwtPolicy(down, nil)}},
	}
	for _, a := range apis {
		if err := store.CreateAPI(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CreateProduct(ctx, &portal.Product{Name: "starter", State: portal.ProductPublished, SubscriptionRequired: true, APIs: []string{"keyjwt"}}); err != nil {
		t.Fatal(err)
	}
	sub := &portal.Subscription{Name: "ci", Scope: portal.Scope{Kind: portal.ScopeProduct, Name: "starter"}, State: portal.SubscriptionActive}
	if err := store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	h := start(t, store, nil)

	now := time.Now().Unix()
	good := map[string]any{"aud": "api://echo", "roles": []string{"reader"}}
	claims := func(extra map[string]any) map[string]any {
		m := map[string]any{"aud": "api://echo", "roles": []string{"reader"}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	valid := idp.Mint(good)
	withKey := func(hd http.Header, k string) http.Header {
		hd = hd.Clone()
		if hd == nil {
			hd = http.Header{}
		}
		hd.Set(keyHeader, k)
		return hd
	}

	tests := []struct {
		name      string
		target    string
		header    http.Header
		status    int
		message   string // for refusals
		challenge string // for JWT refusals
	}{
		{"valid token", "/jwt/x", bearer(valid), 200, "", ""},
		{"scheme without case", "/jwt/x", http.Header{"Authorization": {"bearer " + valid}}, 200, "", ""},
		{"no header", "/jwt/x", nil, 401, msgJWTMissing, "Bearer"},
		{"empty header", "/jwt/x", http.Header{"Authorization": {""}}, 401, msgJWTMissing, "Bearer"},
		{"other scheme", "/jwt/x", http.Header{"Authorization": {"Basic " + valid}}, 401, msgJWTMissing, "Bearer"},
		{"no scheme", "/jwt/x", http.Header{"Authorization": {valid}}, 401, msgJWTMissing, "Bearer"},
		{"scheme only", "/jwt/x", http.Header{"Authorization": {"Bearer"}}, 401, msgJWTMissing, "Bearer"},
		{"malformed", "/jwt/x", bearer("not-a-jwt"), 401, "JWT is malformed.", challengeToken},
		{"forged signature", "/jwt/x", bearer(idp.Mint(good, devidp.WithUnpublishedKey())), 401, msgJWTSignature, challengeToken},
		{"unknown kid", "/jwt/x", bearer(idp.Mint(good, devidp.WithKeyID("gone"))), 401, msgJWTKey, challengeToken},
		{"expired", "/jwt/x", bearer(idp.Mint(claims(map[string]any{"exp": now - 60}))), 401, msgJWTExpired, challengeToken},
		{"not yet valid", "/jwt/x", bearer(idp.Mint(claims(map[string]any{"nbf": now + 600}))), 401, msgJWTNotYet, challengeToken},
		{"wrong audience", "/jwt/x", bearer(idp.Mint(claims(map[string]any{"aud": "api://orders"}))), 401, msgJWTAudience, challengeToken},
		{"wrong issuer", "/jwt/x", bearer(idp.Mint(claims(map[string]any{"iss": "https://evil.example"}))), 401, msgJWTIssuer, challengeToken},
		{"claim missing", "/jwt/x", bearer(idp.Mint(claims(map[string]any{"roles": nil}))), 401, msgJWTClaim, challengeToken},
		{"claim value not allowed", "/jwt/x", bearer(idp.Mint(claims(map[string]any{"roles": []string{"admin"}}))), 401, msgJWTValue, challengeToken},
		{"alg none", "/jwt/x", bearer(idp.Mint(good, devidp.WithAlgNone("None"))), 401, msgJWTUnsigned, challengeToken},
		{"HS256 with the public key", "/jwt/x", bearer(idp.Mint(good, devidp.WithHMAC("HS256", []byte(idp.PublicKeyPEM(devidp.RS256))))), 401, "JWT signing algorithm not allowed.", challengeToken},
		{"provider down: fail closed", "/jwtdown/x", bearer(down.Mint(good)), 401, msgJWTNoKeys, challengeToken},

		{"query token", "/jwtquery/x?a=1&access_token=" + valid, nil, 200, "", ""},
		{"query token missing", "/jwtquery/x?a=1", nil, 403, "Token rejected.", "Bearer"},
		{"query token in the header does not count", "/jwtquery/x", bearer(valid), 403, "Token rejected.", "Bearer"},
		{"query token expired", "/jwtquery/x?access_token=" + idp.Mint(claims(map[string]any{"exp": now - 60})), nil, 403, "Token rejected.", challengeToken},

		{"key and token", "/keyjwt/x", withKey(bearer(valid), sub.PrimaryKey), 200, "", ""},
		{"key, no token", "/keyjwt/x", withKey(nil, sub.PrimaryKey), 401, msgJWTMissing, "Bearer"},
		{"key, bad token", "/keyjwt/x", withKey(bearer(idp.Mint(claims(map[string]any{"aud": "x"}))), sub.PrimaryKey), 401, msgJWTAudience, challengeToken},
		{"token, no key: the key is checked first", "/keyjwt/x", bearer(valid), 401, msgMissingKey, ""},
		{"token, bad key", "/keyjwt/x", withKey(bearer(valid), "not-a-key-0000000000000"), 401, msgInvalidKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _, _ := rec.state()
			res := do(t, "GET", h.srv.URL+tc.target, tc.header, "")
			after, last, _ := rec.state()
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if tc.status == 200 {
				if after != before+1 {
					t.Fatalf("backend hits %d -> %d, want one more", before, after)
				}
				if tc.header.Get("Authorization") != "" && last.Header.Get("Authorization") != tc.header.Get("Authorization") {
					t.Fatal("the caller's Authorization header was not forwarded")
				}
				return
			}
			if after != before {
				t.Fatal("the backend was called for a refused request")
			}
			if want := errorBody(tc.status, tc.message); res.body != want {
				t.Fatalf("body %s, want %s", res.body, want)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			if got := res.header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
		})
	}

	metrics := do(t, "GET", h.srv.URL+"/metrics", nil, "").body
	for _, want := range []string{
		`portico_gateway_denials_total{reason="jwt_expired"} 2`,
		`portico_gateway_denials_total{reason="jwt_missing"} 5`,
		`portico_gateway_denials_total{reason="jwt_scheme"} 3`,
		`portico_gateway_denials_total{reason="jwt_provider_unavailable"} 1`,
		`portico_gateway_denials_total{reason="jwt_signature"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestValidateJWTAcrossReloads: a catalog change rebuilds the routes but
// keeps the validators, so keys are not fetched again; keys rotated at the
// provider are accepted after one refetch.
func TestValidateJWTAcrossReloads(t *testing.T) {
	ctx := context.Background()
	idp := startJWTProvider(t)
	store := openJWTStore(t)
	rec := newRecorder(t)
	if err := store.CreateAPI(ctx, &portal.API{Name: "jwt", Path: "jwt", Backend: portal.Backend{URL: rec.URL},
		Policies: portal.Policies{ValidateJWT: jwtPolicy(idp, nil)}}); err != nil {
		t.Fatal(err)
	}
	h := start(t, store, nil)
	target := h.srv.URL + "/jwt/x"
	if res := do(t, "GET", target, bearer(idp.Mint(map[string]any{"aud": "api://echo"})), ""); res.status != 200 {
		t.Fatalf("before: %d %s", res.status, res.body)
	}
	if n := idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", n)
	}

	// Another API, and a change of this API's failed_message only: both
	// rebuild the routes, neither changes what the validator accepts.
	if err := store.CreateAPI(ctx, &portal.API{Name: "other", Path: "other", Backend: portal.Backend{URL: rec.URL}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new API served", func() bool { return do(t, "GET", h.srv.URL+"/other/x", nil, "").status == 200 })
	api, err := store.FindAPIByName(ctx, "jwt")
	if err != nil {
		t.Fatal(err)
	}
	api.Policies.ValidateJWT.FailedMessage = "Nope."
	if _, err := store.UpdateAPI(ctx, "jwt", api); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new failed_message", func() bool { return strings.Contains(do(t, "GET", target, nil, "").body, "Nope.") })
	if res := do(t, "GET", target, bearer(idp.Mint(map[string]any{"aud": "api://echo", "n": 2})), ""); res.status != 200 {
		t.Fatalf("after reload: %d %s", res.status, res.body)
	}
	if n := idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetches after reloads = %d, want 1 (validator kept)", n)
	}

	if err := idp.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if res := do(t, "GET", target, bearer(idp.Mint(map[string]any{"aud": "api://echo", "n": 10 + i})), ""); res.status != 200 {
			t.Fatalf("rotated key, request %d: %d %s", i, res.status, res.body)
		}
	}
	if n := idp.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetches after rotation = %d, want 2", n)
	}
}

// TestValidateJWTLogsDetail: a refusal is logged with its reason and safe
// detail, never with the token.
func TestValidateJWTLogsDetail(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	idp := startJWTProvider(t)
	store := openJWTStore(t)
	rec := newRecorder(t)
	if err := store.CreateAPI(ctx, &portal.API{Name: "jwt", Path: "jwt", Backend: portal.Backend{URL: rec.URL},
		Policies: portal.Policies{ValidateJWT: jwtPolicy(idp, nil)}}); err != nil {
		t.Fatal(err)
	}
	h := start(t, store, func(c *gateway.Config) { c.Logger = logger })
	tok := idp.Mint(map[string]any{"aud": "api://orders"})
	if res := do(t, "GET", h.srv.URL+"/jwt/x", bearer(tok), ""); res.status != 401 {
		t.Fatalf("status %d", res.status)
	}
	out := logs.String()
	if want := `reason=jwt_audience detail="aud [\"api://orders\"] not in [api://echo]"`; !strings.Contains(out, want) {
		t.Fatalf("the log lacks %s:\n%s", want, out)
	}
	if strings.Contains(out, tok) || strings.Contains(out, strings.Split(tok, ".")[2]) {
		t.Fatalf("the log holds the token:\n%s", out)
	}
}
