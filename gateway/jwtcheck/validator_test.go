package jwtcheck

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/portal"
)

// clock is a settable clock shared by the provider and the validator.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock() *clock {
	c := &clock{}
	c.set(time.Unix(1_900_000_000, 0))
	return c
}
func (c *clock) now() time.Time          { return *c.t.Load() }
func (c *clock) set(t time.Time)         { c.t.Store(&t) }
func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// startIDP serves a devidp provider on loopback until the test ends.
func startIDP(t testing.TB, clk *clock) *devidp.Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var now func() time.Time
	if clk != nil {
		now = clk.now
	}
	p, err := devidp.New(devidp.Config{Issuer: "http://" + ln.Addr().String(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

func policy(idp *devidp.Provider) portal.ValidateJWT {
	p := portal.ValidateJWT{
		OpenIDConfig:          []string{idp.DiscoveryURL()},
		Audiences:             []string{"api://echo"},
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
	}
	p.Normalize()
	return p
}

func newValidator(t testing.TB, p portal.ValidateJWT, clk *clock, edit func(*Config)) *Validator {
	t.Helper()
	c := Config{Now: clk.now}
	if edit != nil {
		edit(&c)
	}
	v, err := New(p, c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reasonOf(f *Failure) string {
	if f == nil {
		return ""
	}
	return f.Reason
}

// secret is a configured symmetric key (base64 of 32 bytes).
var secret = []byte("0123456789abcdef0123456789abcdef")

func TestValidate(t *testing.T) {
	clk := newClock()
	idp := startIDP(t, clk)
	now := clk.now().Unix()
	aud := map[string]any{"aud": "api://echo", "sub": "alice"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{"aud": "api://echo", "sub": "alice"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	b64 := base64.StdEncoding.EncodeToString

	tests := []struct {
		name   string
		policy func(p *portal.ValidateJWT)
		token  func() string
		want   string // reason, "" to pass
		detail string // a part of the detail, when set
	}{
		{"RS256", nil, func() string { return idp.Mint(aud) }, "", ""},
		{"RS384", nil, func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.RS384)) }, "", ""},
		{"RS512", nil, func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.RS512)) }, "", ""},
		{"PS256", nil, func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.PS256)) }, "", ""},
		{"PS512", nil, func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.PS512)) }, "", ""},
		{"ES256", nil, func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.ES256)) }, "", ""},
		{"EdDSA", nil, func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.EdDSA)) }, "", ""},
		{"no kid: every key is tried", nil, func() string { return idp.Mint(aud, devidp.WithKeyID("")) }, "", ""},

		{"empty", nil, func() string { return "" }, ReasonMissing, ""},
		{"one part", nil, func() string { return "abc" }, ReasonMalformed, ""},
		{"two parts", nil, func() string { return "abc.def" }, ReasonMalformed, ""},
		{"five parts (JWE)", nil, func() string { return "a.b.c.d.e" }, ReasonMalformed, "encrypted"},
		{"padded base64", nil, func() string {
			h, rest, _ := strings.Cut(idp.Mint(aud), ".")
			return h + "=." + rest
		}, ReasonMalformed, ""},
		{"header not JSON", nil, func() string { return "bm90IGpzb24.e30.c2ln" }, ReasonMalformed, "header"},
		{"payload not an object", nil, func() string {
			h, _, _ := strings.Cut(idp.Mint(aud), ".")
			return h + ".WzFd.c2ln"
		}, ReasonMalformed, "payload"},
		{"too large", nil, func() string { return idp.Mint(with(map[string]any{"pad": strings.Repeat("x", 20<<10)})) }, ReasonTooLarge, ""},

		{"signed by an unpublished key", nil, func() string { return idp.Mint(aud, devidp.WithUnpublishedKey()) }, ReasonSignature, "kid"},
		{"payload changed", nil, func() string {
			parts := strings.Split(idp.Mint(aud), ".")
			other := strings.Split(idp.Mint(with(map[string]any{"sub": "mallory"})), ".")
			return parts[0] + "." + other[1] + "." + parts[2]
		}, ReasonSignature, ""},
		{"empty signature", nil, func() string {
			tok := idp.Mint(aud)
			return tok[:strings.LastIndexByte(tok, '.')+1]
		}, ReasonSignature, ""},
		{"ES256 signature under the RSA kid", nil, func() string {
			return idp.Mint(aud, devidp.WithAlgorithm(devidp.ES256), devidp.WithKeyID(idp.KeyID(devidp.RS256)))
		}, ReasonKeyNotFound, ""},
		{"unknown kid", nil, func() string { return idp.Mint(aud, devidp.WithKeyID("no-such-kid")) }, ReasonKeyNotFound, "no-such-kid"},

		{"alg none", nil, func() string { return idp.Mint(aud, devidp.WithAlgNone("none")) }, ReasonUnsigned, ""},
		{"alg None", nil, func() string { return idp.Mint(aud, devidp.WithAlgNone("None")) }, ReasonUnsigned, ""},
		{"alg NONE", nil, func() string { return idp.Mint(aud, devidp.WithAlgNone("NONE")) }, ReasonUnsigned, ""},
		{"alg nOnE with a kid", nil, func() string {
			return idp.Mint(aud, devidp.WithAlgNone("nOnE"), devidp.WithKeyID(idp.KeyID(devidp.RS256)))
		}, ReasonUnsigned, ""},
		{"alg none, require_signed_tokens off", func(p *portal.ValidateJWT) { p.RequireSignedTokens = false },
			func() string { return idp.Mint(aud, devidp.WithAlgNone("none")) }, ReasonUnsigned, ""},
		{"unknown alg", nil, func() string { return idp.Mint(aud, devidp.WithHeader("alg", "RS1")) }, ReasonAlgorithm, ""},
		{"alg is case-sensitive", nil, func() string { return idp.Mint(aud, devidp.WithHeader("alg", "rs256")) }, ReasonAlgorithm, ""},
		{"HS256 with the public key PEM as secret", nil, func() string {
			return idp.Mint(aud, devidp.WithHMAC("HS256", []byte(idp.PublicKeyPEM(devidp.RS256))), devidp.WithKeyID(idp.KeyID(devidp.RS256)))
		}, ReasonAlgorithm, "symmetric"},
		{"HS256 with the public key PEM, a symmetric key configured", func(p *portal.ValidateJWT) { p.SigningKeys = []string{b64(secret)} },
			func() string {
				return idp.Mint(aud, devidp.WithHMAC("HS256", []byte(idp.PublicKeyPEM(devidp.RS256))), devidp.WithKeyID(idp.KeyID(devidp.RS256)))
			}, ReasonSignature, ""},
		{"HS256 with the configured symmetric key", func(p *portal.ValidateJWT) { p.SigningKeys = []string{b64(secret)} },
			func() string { return idp.Mint(aud, devidp.WithHMAC("HS256", secret)) }, "", ""},
		{"HS512 with a key shorter than the hash", func(p *portal.ValidateJWT) { p.SigningKeys = []string{b64(secret)} },
			func() string { return idp.Mint(aud, devidp.WithHMAC("HS512", append(secret, secret...))) }, ReasonKeyNotFound, ""},
		{"crit header", nil, func() string {
			return idp.Mint(aud, devidp.WithHeader("crit", []string{"exp"}), devidp.WithHeader("exp", 1))
		}, ReasonHeader, "crit"},
		{"jku is not followed", nil, func() string {
			return idp.Mint(aud, devidp.WithUnpublishedKey(), devidp.WithHeader("jku", idp.Issuer()+"/jwks"), devidp.WithHeader("x5u", idp.Issuer()+"/x5u"))
		}, ReasonSignature, ""},
		{"embedded jwk is not trusted", nil, func() string {
			return idp.Mint(aud, devidp.WithUnpublishedKey(), devidp.WithKeyID(""), devidp.WithHeader("jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}))
		}, ReasonSignature, ""},

		{"wrong issuer", nil, func() string { return idp.Mint(with(map[string]any{"iss": "https://other.example"})) }, ReasonIssuer, "https://other.example"},
		{"no issuer", nil, func() string { return idp.Mint(with(map[string]any{"iss": nil})) }, ReasonIssuer, ""},
		{"issuer listed explicitly", func(p *portal.ValidateJWT) { p.Issuers = []string{idp.Issuer()} }, func() string { return idp.Mint(aud) }, "", ""},
		{"issuer not in the explicit list", func(p *portal.ValidateJWT) { p.Issuers = []string{"https://a.example"} }, func() string { return idp.Mint(aud) }, ReasonIssuer, ""},
		{"issuer not a string", nil, func() string { return idp.Mint(with(map[string]any{"iss": 7})) }, ReasonMalformed, ""},

		{"wrong audience", nil, func() string { return idp.Mint(with(map[string]any{"aud": "api://orders"})) }, ReasonAudience, `aud ["api://orders"] not in [api://echo]`},
		{"no audience", nil, func() string { return idp.Mint(with(map[string]any{"aud": nil})) }, ReasonAudience, ""},
		{"audience array, one matches", nil, func() string { return idp.Mint(with(map[string]any{"aud": []string{"x", "api://echo"}})) }, "", ""},
		{"audience is case-sensitive", nil, func() string { return idp.Mint(with(map[string]any{"aud": "API://echo"})) }, ReasonAudience, ""},
		{"any of several audiences", func(p *portal.ValidateJWT) { p.Audiences = []string{"a", "api://echo"} }, func() string { return idp.Mint(aud) }, "", ""},
		{"no audiences configured", func(p *portal.ValidateJWT) { p.Audiences = nil }, func() string { return idp.Mint(with(map[string]any{"aud": "x"})) }, "", ""},

		{"expired", nil, func() string { return idp.Mint(with(map[string]any{"exp": now - 1})) }, ReasonExpired, ""},
		{"expires now", nil, func() string { return idp.Mint(with(map[string]any{"exp": now})) }, ReasonExpired, ""},
		{"expired within the clock skew", func(p *portal.ValidateJWT) { p.ClockSkew = time.Minute }, func() string { return idp.Mint(with(map[string]any{"exp": now - 30})) }, "", ""},
		{"expired beyond the clock skew", func(p *portal.ValidateJWT) { p.ClockSkew = time.Minute }, func() string { return idp.Mint(with(map[string]any{"exp": now - 61})) }, ReasonExpired, ""},
		{"exp not a number", nil, func() string { return idp.Mint(with(map[string]any{"exp": "tomorrow"})) }, ReasonMalformed, ""},
		{"no exp", nil, func() string { return idp.Mint(with(map[string]any{"exp": nil})) }, ReasonNoExpiration, ""},
		{"no exp, not required", func(p *portal.ValidateJWT) { p.RequireExpirationTime = false }, func() string { return idp.Mint(with(map[string]any{"exp": nil})) }, "", ""},
		{"nbf in the future", nil, func() string { return idp.Mint(with(map[string]any{"nbf": now + 10})) }, ReasonNotYetValid, ""},
		{"nbf now", nil, func() string { return idp.Mint(with(map[string]any{"nbf": now})) }, "", ""},
		{"nbf within the clock skew", func(p *portal.ValidateJWT) { p.ClockSkew = time.Minute }, func() string { return idp.Mint(with(map[string]any{"nbf": now + 30})) }, "", ""},

		{"required claim present", func(p *portal.ValidateJWT) { p.RequiredClaims = []portal.RequiredClaim{{Name: "tid", Match: "all"}} },
			func() string { return idp.Mint(with(map[string]any{"tid": "t1"})) }, "", ""},
		{"required claim missing", func(p *portal.ValidateJWT) { p.RequiredClaims = []portal.RequiredClaim{{Name: "tid", Match: "all"}} },
			func() string { return idp.Mint(aud) }, ReasonClaimMissing, `"tid"`},
		{"all values, array claim", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "roles", Match: "all", Values: []string{"reader", "writer"}}}
		}, func() string { return idp.Mint(with(map[string]any{"roles": []string{"writer", "admin", "reader"}})) }, "", ""},
		{"all values, one lacking", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "roles", Match: "all", Values: []string{"reader", "writer"}}}
		}, func() string { return idp.Mint(with(map[string]any{"roles": []string{"reader"}})) }, ReasonClaimValue, `lack "writer"`},
		{"any value, separated string", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "scp", Match: "any", Separator: " ", Values: []string{"orders.write", "orders.read"}}}
		}, func() string { return idp.Mint(with(map[string]any{"scp": "profile orders.read"})) }, "", ""},
		{"any value, none", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "scp", Match: "any", Separator: " ", Values: []string{"orders.write"}}}
		}, func() string { return idp.Mint(with(map[string]any{"scp": "profile orders.read"})) }, ReasonClaimValue, ""},
		{"values are case-sensitive", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "roles", Match: "any", Values: []string{"reader"}}}
		}, func() string { return idp.Mint(with(map[string]any{"roles": "Reader"})) }, ReasonClaimValue, ""},
		{"without a separator the string is one value", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "roles", Match: "any", Values: []string{"reader"}}}
		}, func() string { return idp.Mint(with(map[string]any{"roles": "reader,writer"})) }, ReasonClaimValue, ""},
		{"comma separator", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "roles", Match: "all", Separator: ",", Values: []string{"reader", "writer"}}}
		}, func() string { return idp.Mint(with(map[string]any{"roles": "reader, writer"})) }, "", ""},
		{"numeric claim matches no value", func(p *portal.ValidateJWT) {
			p.RequiredClaims = []portal.RequiredClaim{{Name: "level", Match: "any", Values: []string{"3"}}}
		}, func() string { return idp.Mint(with(map[string]any{"level": 3})) }, ReasonClaimValue, ""},

		{"static PEM key", func(p *portal.ValidateJWT) {
			p.OpenIDConfig = nil
			p.SigningKeys = []string{idp.PublicKeyPEM(devidp.RS256)}
		},
			func() string { return idp.Mint(aud) }, "", ""},
		{"static JWK", func(p *portal.ValidateJWT) {
			p.OpenIDConfig = nil
			p.SigningKeys = []string{idp.PublicJWK(devidp.ES256)}
		},
			func() string { return idp.Mint(aud, devidp.WithAlgorithm(devidp.ES256)) }, "", ""},
		{"static key, wrong key", func(p *portal.ValidateJWT) {
			p.OpenIDConfig = nil
			p.SigningKeys = []string{idp.PublicKeyPEM(devidp.RS256)}
		},
			func() string { return idp.Mint(aud, devidp.WithUnpublishedKey()) }, ReasonSignature, ""},
		{"static PEM key as base64 DER is a public key, not a secret", func(p *portal.ValidateJWT) {
			pemText := idp.PublicKeyPEM(devidp.RS256)
			body := strings.Join(strings.Split(strings.TrimSpace(pemText), "\n")[1:len(strings.Split(strings.TrimSpace(pemText), "\n"))-1], "")
			p.OpenIDConfig, p.SigningKeys = nil, []string{body}
		}, func() string {
			pemText := idp.PublicKeyPEM(devidp.RS256)
			body := strings.Join(strings.Split(strings.TrimSpace(pemText), "\n")[1:len(strings.Split(strings.TrimSpace(pemText), "\n"))-1], "")
			der, _ := base64.StdEncoding.DecodeString(body)
			return idp.Mint(aud, devidp.WithHMAC("HS256", der))
		}, ReasonAlgorithm, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := policy(idp)
			if tc.policy != nil {
				tc.policy(&p)
			}
			v := newValidator(t, p, clk, nil)
			res, f := v.Validate(context.Background(), tc.token())
			if got := reasonOf(f); got != tc.want {
				t.Fatalf("reason = %q, want %q (%v)", got, tc.want, f)
			}
			if f != nil {
				if f.Message == "" || f.Message != messages[f.Reason] {
					t.Fatalf("message %q", f.Message)
				}
				if !strings.Contains(f.Detail, tc.detail) {
					t.Fatalf("detail %q lacks %q", f.Detail, tc.detail)
				}
				if strings.Contains(f.Detail, "eyJ") {
					t.Fatalf("detail holds a token: %q", f.Detail)
				}
				return
			}
			if res == nil || res.Subject != "alice" {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

func TestRotatedKeysAfterOneRefetch(t *testing.T) {
	clk := newClock()
	idp := startIDP(t, clk)
	v := newValidator(t, policy(idp), clk, nil)
	ctx := context.Background()
	aud := map[string]any{"aud": "api://echo"}

	if _, f := v.Validate(ctx, idp.Mint(aud)); f != nil {
		t.Fatal(f)
	}
	if n := idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", n)
	}
	old := idp.Mint(map[string]any{"aud": "api://echo", "n": "old"})
	if err := idp.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, f := v.Validate(ctx, idp.Mint(aud)); f != nil {
			t.Fatalf("new key, token %d: %v", i, f)
		}
	}
	if n := idp.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetches after rotation = %d, want 2", n)
	}
	// The old key left the JWKS; its tokens no longer verify once they
	// are not cached.
	if _, f := v.Validate(ctx, old); reasonOf(f) != ReasonKeyNotFound {
		t.Fatalf("old key: %v", f)
	}

	// Unknown kids do not make the validator fetch again within 5 minutes.
	for i := range 5 {
		if _, f := v.Validate(ctx, idp.Mint(aud, devidp.WithKeyID("bogus"))); reasonOf(f) != ReasonKeyNotFound {
			t.Fatalf("bogus kid %d: %v", i, f)
		}
	}
	if n := idp.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetches after unknown kids = %d, want 2 (rate limited)", n)
	}
	clk.advance(DefaultUnknownKidRefetchInterval)
	v.Validate(ctx, idp.Mint(aud, devidp.WithKeyID("bogus")))
	if n := idp.JWKSFetches(); n != 3 {
		t.Fatalf("JWKS fetches after the interval = %d, want 3", n)
	}
}

func TestRefreshInBackground(t *testing.T) {
	clk := newClock()
	idp := startIDP(t, clk)
	v := newValidator(t, policy(idp), clk, nil)
	ctx := context.Background()
	aud := map[string]any{"aud": "api://echo"}
	if _, f := v.Validate(ctx, idp.Mint(aud)); f != nil {
		t.Fatal(f)
	}
	clk.advance(DefaultRefreshInterval)
	if _, f := v.Validate(ctx, idp.Mint(aud)); f != nil {
		t.Fatal(f)
	}
	deadline := time.Now().Add(5 * time.Second)
	for idp.JWKSFetches() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no background refresh after RefreshInterval: %d fetches", idp.JWKSFetches())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProviderUnavailable(t *testing.T) {
	clk := newClock()
	idp := startIDP(t, clk)
	ctx := context.Background()
	aud := map[string]any{"aud": "api://echo"}

	t.Run("down from the start: fail closed", func(t *testing.T) {
		v := newValidator(t, policy(idp), clk, nil)
		idp.SetDown(true)
		defer idp.SetDown(false)
		tok := idp.Mint(aud)
		if _, f := v.Validate(ctx, tok); reasonOf(f) != ReasonProviderUnavailable {
			t.Fatalf("down: %v", f)
		}
		idp.SetDown(false)
		// Not asked again before RetryInterval ...
		if _, f := v.Validate(ctx, tok); reasonOf(f) != ReasonProviderUnavailable {
			t.Fatalf("within the retry interval: %v", f)
		}
		if n := idp.DiscoveryFetches(); n != 0 {
			t.Fatalf("discovery fetches = %d, want 0", n)
		}
		// ... and asked after it.
		clk.advance(DefaultRetryInterval)
		if _, f := v.Validate(ctx, tok); f != nil {
			t.Fatalf("up again: %v", f)
		}
	})

	t.Run("down later: cached keys keep working", func(t *testing.T) {
		v := newValidator(t, policy(idp), clk, nil)
		if _, f := v.Validate(ctx, idp.Mint(aud)); f != nil {
			t.Fatal(f)
		}
		idp.SetDown(true)
		defer idp.SetDown(false)
		clk.advance(DefaultRefreshInterval + time.Minute)
		for i := range 3 {
			if _, f := v.Validate(ctx, idp.Mint(map[string]any{"aud": "api://echo", "n": i})); f != nil {
				t.Fatalf("token %d while the provider is down: %v", i, f)
			}
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p := policy(idp)
		p.OpenIDConfig = []string{"http://" + addr + "/.well-known/openid-configuration"}
		var fetchErrs atomic.Int32
		v := newValidator(t, p, clk, func(c *Config) { c.OnFetchError = func(string, error) { fetchErrs.Add(1) } })
		if _, f := v.Validate(ctx, idp.Mint(aud)); reasonOf(f) != ReasonProviderUnavailable {
			t.Fatalf("unreachable: %v", f)
		}
		if fetchErrs.Load() != 1 {
			t.Fatalf("OnFetchError called %d times", fetchErrs.Load())
		}
		if err := v.Prefetch(ctx); err == nil {
			t.Fatal("Prefetch of an unreachable provider succeeded")
		}
	})

	t.Run("oversized JWKS", func(t *testing.T) {
		idp.SetOversizedJWKS(true)
		defer idp.SetOversizedJWKS(false)
		v := newValidator(t, policy(idp), clk, nil)
		if _, f := v.Validate(ctx, idp.Mint(aud)); reasonOf(f) != ReasonProviderUnavailable {
			t.Fatalf("oversized JWKS: %v", f)
		}
	})

	t.Run("discovery advertises another issuer", func(t *testing.T) {
		idp.SetDiscoveryIssuer("https://impostor.example")
		defer idp.SetDiscoveryIssuer("")
		v := newValidator(t, policy(idp), clk, nil)
		_, f := v.Validate(ctx, idp.Mint(aud))
		if reasonOf(f) != ReasonIssuer || !strings.Contains(f.Detail, "https://impostor.example") {
			t.Fatalf("advertised issuer differs: %v", f)
		}
	})
}

// TestIssuerKeyBinding: with several providers, a key verifies only the
// tokens of its own issuer.
func TestIssuerKeyBinding(t *testing.T) {
	clk := newClock()
	a, b := startIDP(t, clk), startIDP(t, clk)
	ctx := context.Background()
	for _, explicit := range []bool{false, true} {
		p := policy(a)
		p.OpenIDConfig = []string{a.DiscoveryURL(), b.DiscoveryURL()}
		if explicit {
			p.Issuers = []string{a.Issuer(), b.Issuer()}
		}
		v := newValidator(t, p, clk, nil)
		for _, tc := range []struct {
			name  string
			token string
			want  string
		}{
			{"A's token", a.Mint(map[string]any{"aud": "api://echo"}), ""},
			{"B's token", b.Mint(map[string]any{"aud": "api://echo"}), ""},
			{"B's key, A's issuer", b.Mint(map[string]any{"aud": "api://echo", "iss": a.Issuer()}), ReasonKeyNotFound},
			{"A's key, B's issuer, no kid", a.Mint(map[string]any{"aud": "api://echo", "iss": b.Issuer()}, devidp.WithKeyID("")), ReasonSignature},
			{"a third issuer", a.Mint(map[string]any{"aud": "api://echo", "iss": "https://c.example"}), ReasonIssuer},
		} {
			if _, f := v.Validate(ctx, tc.token); reasonOf(f) != tc.want {
				t.Errorf("explicit issuers %v, %s: %v, want %q", explicit, tc.name, f, tc.want)
			}
		}
	}
}

func TestCache(t *testing.T) {
	clk := newClock()
	idp := startIDP(t, clk)
	ctx := context.Background()

	t.Run("a repeated token is served from the cache", func(t *testing.T) {
		v := newValidator(t, policy(idp), clk, nil)
		tok := idp.Mint(map[string]any{"aud": "api://echo"})
		r1, f := v.Validate(ctx, tok)
		if f != nil {
			t.Fatal(f)
		}
		r2, _ := v.Validate(ctx, tok)
		if r1 != r2 {
			t.Fatal("the second validation did not come from the cache")
		}
	})

	t.Run("never past exp", func(t *testing.T) {
		v := newValidator(t, policy(idp), clk, nil)
		tok := idp.Mint(map[string]any{"aud": "api://echo", "exp": clk.now().Unix() + 10})
		if _, f := v.Validate(ctx, tok); f != nil {
			t.Fatal(f)
		}
		clk.advance(10 * time.Second)
		if _, f := v.Validate(ctx, tok); reasonOf(f) != ReasonExpired {
			t.Fatalf("cached token after exp: %v", f)
		}
	})

	t.Run("never before nbf", func(t *testing.T) {
		p := policy(idp)
		p.ClockSkew = 5 * time.Second
		v := newValidator(t, p, clk, nil)
		tok := idp.Mint(map[string]any{"aud": "api://echo", "nbf": clk.now().Unix() + 3})
		if _, f := v.Validate(ctx, tok); f != nil {
			t.Fatal(f)
		}
		clk.advance(-5 * time.Second)
		if _, f := v.Validate(ctx, tok); reasonOf(f) != ReasonNotYetValid {
			t.Fatalf("cached token before nbf: %v", f)
		}
		clk.advance(5 * time.Second)
	})

	t.Run("bounded", func(t *testing.T) {
		v := newValidator(t, policy(idp), clk, func(c *Config) { c.CacheSize = 4 })
		for i := range 20 {
			if _, f := v.Validate(ctx, idp.Mint(map[string]any{"aud": "api://echo", "n": i})); f != nil {
				t.Fatal(f)
			}
			if n := v.cache.len(); n > 4 {
				t.Fatalf("cache holds %d entries, want at most 4", n)
			}
		}
	})

	t.Run("failures are not cached", func(t *testing.T) {
		v := newValidator(t, policy(idp), clk, nil)
		v.Validate(ctx, idp.Mint(map[string]any{"aud": "api://orders"}))
		if n := v.cache.len(); n != 0 {
			t.Fatalf("cache holds %d entries after a failure", n)
		}
	})
}

func TestFromHeader(t *testing.T) {
	for _, tc := range []struct {
		value, scheme, want, reason string
	}{
		{"Bearer abc", "Bearer", "abc", ""},
		{"bearer abc", "Bearer", "abc", ""},
		{"BEARER   abc", "Bearer", "abc", ""},
		{"Basic abc", "Bearer", "", ReasonScheme},
		{"Bearerabc", "Bearer", "", ReasonScheme},
		{"abc", "Bearer", "", ReasonScheme},
		{"Bearer ", "Bearer", "", ReasonScheme},
		{"Bearer   ", "Bearer", "", ReasonScheme},
		{"", "Bearer", "", ReasonMissing},
		{"abc", "", "abc", ""},
		// Without require_scheme, a Bearer prefix is still taken off, as
		// APIM does: clients send "Bearer <token>" whatever the policy says.
		{"Bearer abc", "", "abc", ""},
		{"bearer  abc", "", "abc", ""},
		{"Basic abc", "", "Basic abc", ""},
	} {
		got, f := FromHeader(tc.value, tc.scheme)
		if got != tc.want || reasonOf(f) != tc.reason {
			t.Errorf("FromHeader(%q, %q) = %q, %v; want %q, %q", tc.value, tc.scheme, got, f, tc.want, tc.reason)
		}
	}
}

func TestNewRefusesUnusableKeys(t *testing.T) {
	for _, k := range []string{
		"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
		"{\"kty\":\"RSA\"}",
		base64.StdEncoding.EncodeToString([]byte("short")),
		"not base64 at all!",
	} {
		if _, err := New(portal.ValidateJWT{Header: "Authorization", SigningKeys: []string{k}}, Config{}); err == nil {
			t.Errorf("New accepted signing key %q", k)
		}
	}
}

// TestConcurrentFirstFetch: requests arriving together before any key is
// cached share one fetch.
func TestConcurrentFirstFetch(t *testing.T) {
	clk := newClock()
	idp := startIDP(t, clk)
	v := newValidator(t, policy(idp), clk, nil)
	toks := make([]string, 16)
	for i := range toks {
		toks[i] = idp.Mint(map[string]any{"aud": "api://echo", "n": i})
	}
	errs := make(chan *Failure, len(toks)*4)
	var wg sync.WaitGroup
	for i := range len(toks) * 4 {
		wg.Go(func() {
			_, f := v.Validate(context.Background(), toks[i%len(toks)])
			errs <- f
		})
	}
	wg.Wait()
	close(errs)
	for f := range errs {
		if f != nil {
			t.Fatal(f)
		}
	}
	if n := idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", n)
	}
}
