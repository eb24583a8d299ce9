package devidp_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/porticoapi/portico/devidp"
)

// serve starts a provider on a loopback listener until the test ends.
func serve(t *testing.T, now func() time.Time) *devidp.Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

func jwks(t *testing.T, p *devidp.Provider) *jose.JSONWebKeySet {
	t.Helper()
	status, b := get(t, p.Issuer()+"/jwks")
	if status != 200 {
		t.Fatalf("jwks: %d", status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return &set
}

// verify checks tok's signature against the provider's published keys and
// returns its claims.
func verify(t *testing.T, p *devidp.Provider, tok string, alg devidp.Algorithm) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("parse %s: %v", alg, err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := jwks(t, p).Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d published keys", kid, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verify %s: %v", alg, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestDiscovery(t *testing.T) {
	p := serve(t, nil)
	status, b := get(t, p.DiscoveryURL())
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"issuer":                 p.Issuer(),
		"jwks_uri":               p.Issuer() + "/jwks",
		"token_endpoint":         p.Issuer() + "/token",
		"authorization_endpoint": p.Issuer() + "/authorize",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	if algs, _ := d["id_token_signing_alg_values_supported"].([]any); len(algs) == 0 || algs[0] != "RS256" {
		t.Errorf("id_token_signing_alg_values_supported = %v", d["id_token_signing_alg_values_supported"])
	}
	if p.DiscoveryFetches() != 1 {
		t.Fatalf("DiscoveryFetches = %d", p.DiscoveryFetches())
	}

	p.SetDiscoveryIssuer("https://elsewhere.example")
	_, b = get(t, p.DiscoveryURL())
	json.Unmarshal(b, &d)
	if d["issuer"] != "https://elsewhere.example" {
		t.Fatalf("advertised issuer = %v", d["issuer"])
	}
}

func TestMintEveryAlgorithm(t *testing.T) {
	p := serve(t, nil)
	for _, alg := range []devidp.Algorithm{devidp.RS256, devidp.RS384, devidp.RS512, devidp.PS256, devidp.PS384, devidp.PS512, devidp.ES256, devidp.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			tok := p.Mint(map[string]any{"sub": "alice", "aud": "api://echo"}, devidp.WithAlgorithm(alg))
			claims := verify(t, p, tok, alg)
			if claims["sub"] != "alice" || claims["iss"] != p.Issuer() || claims["exp"] == nil || claims["iat"] == nil {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
	tok := p.Mint(map[string]any{"exp": nil})
	if claims := verify(t, p, tok, devidp.RS256); claims["exp"] != nil {
		t.Fatalf("exp: nil left exp in: %v", claims)
	}
}

func TestMintMisbehaviour(t *testing.T) {
	p := serve(t, nil)
	header := func(tok string) map[string]any {
		t.Helper()
		h, _, _ := strings.Cut(tok, ".")
		b, err := base64.RawURLEncoding.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}

	forged := p.Mint(nil, devidp.WithUnpublishedKey())
	jws, err := jose.ParseSigned(forged, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != p.KeyID(devidp.RS256) {
		t.Fatalf("forged kid = %q, want the published %q", kid, p.KeyID(devidp.RS256))
	}
	if _, err := jws.Verify(jwks(t, p).Key(p.KeyID(devidp.RS256))[0]); err == nil {
		t.Fatal("a token signed with the unpublished key verified")
	}

	none := p.Mint(nil, devidp.WithAlgNone("nOnE"))
	if !strings.HasSuffix(none, ".") || header(none)["alg"] != "nOnE" {
		t.Fatalf("alg none token %q", none)
	}
	h := header(p.Mint(nil, devidp.WithKeyID("other"), devidp.WithHeader("jku", "https://evil.example/jwks")))
	if h["kid"] != "other" || h["jku"] != "https://evil.example/jwks" || h["typ"] != "JWT" {
		t.Fatalf("header = %v", h)
	}
	hs := p.Mint(nil, devidp.WithHMAC("HS256", []byte(p.PublicKeyPEM(devidp.RS256))))
	if header(hs)["alg"] != "HS256" {
		t.Fatalf("HMAC header = %v", header(hs))
	}
}

func TestRotateKeys(t *testing.T) {
	p := serve(t, nil)
	old := p.KeyID(devidp.RS256)
	oldTok := p.Mint(nil)
	if err := p.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	cur := p.KeyID(devidp.RS256)
	if cur == old {
		t.Fatal("kid unchanged by rotation")
	}
	set := jwks(t, p)
	if len(set.Key(old)) != 0 || len(set.Key(cur)) != 1 || len(set.Keys) != 3 {
		t.Fatalf("after rotation the JWKS has %d keys, old %d, new %d", len(set.Keys), len(set.Key(old)), len(set.Key(cur)))
	}
	verify(t, p, p.Mint(nil), devidp.RS256)
	jws, _ := jose.ParseSigned(oldTok, []jose.SignatureAlgorithm{jose.RS256})
	if jws.Signatures[0].Header.KeyID != old {
		t.Fatal("old token lost its kid")
	}
	if p.JWKSFetches() != 2 {
		t.Fatalf("JWKSFetches = %d, want 2", p.JWKSFetches())
	}
}

func TestClientCredentials(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	p := serve(t, func() time.Time { return now })
	p.AddClient("app", "s3cret&=", "api://echo")

	post := func(form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("POST", p.Issuer()+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basicID != "" {
			req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body, res.Header
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders.read"}}
	withSecret := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s3cret&="}}

	tests := []struct {
		name       string
		form       url.Values
		id, secret string
		wantStatus int
		wantError  string
	}{
		{"basic", cc, "app", "s3cret&=", 200, ""},
		{"post", withSecret, "", "", 200, ""},
		{"wrong secret", cc, "app", "nope", 401, "invalid_client"},
		{"unknown client", cc, "who", "s3cret&=", 401, "invalid_client"},
		{"no credentials", cc, "", "", 401, "invalid_client"},
		{"basic and post together", withSecret, "app", "s3cret&=", 401, "invalid_client"},
		{"unsupported grant", url.Values{"grant_type": {"password"}}, "app", "s3cret&=", 400, "unsupported_grant_type"},
		{"no grant", url.Values{}, "app", "s3cret&=", 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := post(tc.form, tc.id, tc.secret)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tc.wantStatus, body)
			}
			if tc.wantError != "" {
				if body["error"] != tc.wantError {
					t.Fatalf("error = %v, want %s", body["error"], tc.wantError)
				}
				if tc.id != "" && status == 401 && h.Get("WWW-Authenticate") == "" {
					t.Fatal("no WWW-Authenticate after a failed Basic authentication")
				}
				return
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
				t.Fatalf("body = %v", body)
			}
			claims := verify(t, p, body["access_token"].(string), devidp.RS256)
			want := map[string]any{"iss": p.Issuer(), "sub": "app", "azp": "app", "aud": "api://echo",
				"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix())}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("%s = %v, want %v", k, claims[k], v)
				}
			}
			if tc.form.Has("scope") && claims["scope"] != "orders.read" {
				t.Errorf("scope = %v", claims["scope"])
			}
		})
	}
	if p.TokensIssued() != 2 {
		t.Fatalf("TokensIssued = %d", p.TokensIssued())
	}
}

func TestMisbehaviour(t *testing.T) {
	p := serve(t, nil)
	p.SetDown(true)
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		if status, _ := get(t, p.Issuer()+path); status != 503 {
			t.Fatalf("down %s: %d", path, status)
		}
	}
	if p.JWKSFetches() != 0 {
		t.Fatal("a refused fetch was counted")
	}
	p.SetDown(false)
	p.SetOversizedJWKS(true)
	status, b := get(t, p.Issuer()+"/jwks")
	if status != 200 || len(b) < 2<<20 {
		t.Fatalf("oversized JWKS: %d, %d bytes", status, len(b))
	}
	p.SetOversizedJWKS(false)
	if _, b := get(t, p.Issuer()+"/jwks"); len(b) > 8<<10 {
		t.Fatalf("JWKS still %d bytes", len(b))
	}
	if _, err := devidp.New(devidp.Config{}); err == nil {
		t.Fatal("New without an issuer succeeded")
	}
}

// TestIssuerWithPath: a provider whose issuer has a path, mounted at that
// path of a larger server, serves its endpoints under it and advertises
// them there; other paths of the server stay the server's.
func TestIssuerWithPath(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/dev-idp"
	p, err := devidp.New(devidp.Config{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dev-idp/", p)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "the host's", http.StatusTeapot) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	status, b := get(t, issuer+devidp.DiscoveryPath)
	if status != http.StatusOK {
		t.Fatalf("discovery under the path = %d", status)
	}
	var d struct {
		Issuer string `json:"issuer"`
		Authz  string `json:"authorization_endpoint"`
		Token  string `json:"token_endpoint"`
		JWKS   string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != issuer || d.Authz != issuer+"/authorize" || d.Token != issuer+"/token" || d.JWKS != issuer+"/jwks" {
		t.Fatalf("discovery %+v", d)
	}
	if set := jwks(t, p); len(set.Keys) == 0 {
		t.Fatal("no keys under the path")
	}
	// Without the path, the provider's endpoints are not there.
	if status, _ := get(t, "http://"+ln.Addr().String()+devidp.DiscoveryPath); status != http.StatusTeapot {
		t.Fatalf("discovery at the root = %d", status)
	}
	for _, bad := range []string{"localhost:8080/x", "ftp://localhost/x", "http://localhost/x?q=1"} {
		if _, err := devidp.New(devidp.Config{Issuer: bad}); err == nil {
			t.Fatalf("issuer %q accepted", bad)
		}
	}
}
