package devidp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porticoapi/portico/devidp"
)

const (
	testVerifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	testRedirectURI = "http://127.0.0.1:1/callback"
)

func testChallenge() string {
	sum := sha256.Sum256([]byte(testVerifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func authParams() url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {testRedirectURI},
		"scope": {"openid email"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {testChallenge()}, "code_challenge_method": {"S256"},
	}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// login submits the login form as the page would, for user sub, and
// returns the redirect back to the client.
func login(t *testing.T, p *devidp.Provider, params url.Values, sub string) *url.URL {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("user", sub)
	res, err := noRedirects.PostForm(p.Issuer()+devidp.AuthorizationPath, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("login = %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	return u
}

func exchange(t *testing.T, p *devidp.Provider, code, verifier string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirectURI},
		"client_id": {"app"}, "client_secret": {"s3cret"}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	res, err := http.PostForm(p.Issuer()+devidp.TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestAuthorizationCodeFlow(t *testing.T) {
	p := serve(t, nil)
	p.AddClient("app", "s3cret", "app")
	p.AddUser(devidp.User{Subject: "u-1", Email: "one@example.org", Name: "One"})
	p.AddUser(devidp.User{Subject: "u-2", Email: "two@example.org", Name: "Two"})

	// The login page lists the users; login_hint preselects one.
	q := authParams()
	q.Set("login_hint", "two@example.org")
	status, page := get(t, p.Issuer()+devidp.AuthorizationPath+"?"+q.Encode())
	if status != 200 || !strings.Contains(string(page), `value="u-2" checked`) || strings.Contains(string(page), `value="u-1" checked`) {
		t.Fatalf("login page %d:\n%s", status, page)
	}

	back := login(t, p, authParams(), "u-2")
	if back.Query().Get("state") != "st-1" || back.Query().Get("code") == "" {
		t.Fatalf("redirect back %s", back)
	}
	code := back.Query().Get("code")
	status, tok := exchange(t, p, code, testVerifier)
	if status != 200 {
		t.Fatalf("exchange = %d %v", status, tok)
	}
	claims := verify(t, p, tok["id_token"].(string), devidp.RS256)
	for k, want := range map[string]any{"iss": p.Issuer(), "aud": "app", "sub": "u-2", "nonce": "n-1", "email": "two@example.org", "name": "Two"} {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %v", k, claims[k], want)
		}
	}
	if claims["iat"] == nil || claims["exp"] == nil {
		t.Errorf("iat or exp missing: %v", claims)
	}
	// Single use.
	if status, _ := exchange(t, p, code, testVerifier); status != http.StatusBadRequest {
		t.Fatalf("second exchange = %d", status)
	}

	// Userinfo answers for the access token.
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+devidp.UserInfoPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"sub":"u-2"`) {
		t.Fatalf("userinfo = %d %s", res.StatusCode, b)
	}
	req.Header.Set("Authorization", "Bearer nope")
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("userinfo with a bad token = %d", res.StatusCode)
	}
}

// TestPKCERequired: a request without a challenge or with plain is sent
// back with an error, and a code is not exchanged without its verifier.
func TestPKCERequired(t *testing.T) {
	p := serve(t, nil)
	p.AddClient("app", "s3cret", "app")
	p.AddUser(devidp.User{Subject: "u-1", Email: "one@example.org", Name: "One"})
	for name, edit := range map[string]func(url.Values){
		"no challenge": func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"plain":        func(q url.Values) { q.Set("code_challenge_method", "plain"); q.Set("code_challenge", testVerifier) },
		"no method":    func(q url.Values) { q.Del("code_challenge_method") },
	} {
		t.Run(name, func(t *testing.T) {
			q := authParams()
			edit(q)
			res, err := noRedirects.Get(p.Issuer() + devidp.AuthorizationPath + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			u, _ := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusFound || u.Query().Get("error") != "invalid_request" || u.Query().Get("state") != "st-1" {
				t.Fatalf("authorize = %d, Location %s", res.StatusCode, u)
			}
		})
	}
	for name, verifier := range map[string]string{"no verifier": "", "wrong verifier": strings.Repeat("x", 43)} {
		t.Run(name, func(t *testing.T) {
			code := login(t, p, authParams(), "u-1").Query().Get("code")
			if status, body := exchange(t, p, code, verifier); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Fatalf("exchange = %d %v", status, body)
			}
		})
	}
	// An unregistered redirect URI is refused without redirecting.
	p.SetRedirectURIs("app", "http://127.0.0.1:1/other")
	res, err := noRedirects.Get(p.Issuer() + devidp.AuthorizationPath + "?" + authParams().Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unregistered redirect_uri = %d", res.StatusCode)
	}
}
