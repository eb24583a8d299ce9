package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// testCertificate returns a self-signed certificate and its private key,
// both PEM.
func testCertificate(t *testing.T, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// The secrets the policy tests type; none may ever appear in a page.
const (
	hmacKey         = "c2VjcmV0LXNpZ25pbmcta2V5LW9mLXRoZS1lY2hvLWFwaQ=="
	backendPassword = "b4ckend-p@ss w0rd"
	clientSecret    = "cl1ent-secr3t-value"
)

// policyFields is a policy form with every policy on and basic backend
// auth; kv replaces fields ("" deletes one).
func policyFields(kv ...string) url.Values {
	v := url.Values{
		"ip_filter_enabled":   {"on"},
		"ip_filter_action":    {"forbid"},
		"ip_filter_addresses": {"203.0.113.7\r\n10.0.0.0/8\r\n\r\n2001:db8::/32"},
		"ip_filter_ranges":    {"198.51.100.1-198.51.100.20\n2001:db8::1 - 2001:db8::ff"},

		"jwt_enabled":                 {"on"},
		"jwt_header":                  {"Authorization"},
		"jwt_require_scheme":          {"Bearer"},
		"jwt_openid_config":           {"https://login.example.com/.well-known/openid-configuration"},
		"jwt_signing_keys":            {hmacKey},
		"jwt_issuers":                 {"https://login.example.com/"},
		"jwt_audiences":               {"api://echo\napi://echo-2"},
		"jwt_required_claims":         {"roles: any: reader, writer\nscp: all: orders.read [separator space]\nhttp://schemas.example.com/claims/tid\noid"},
		"jwt_clock_skew":              {"30s"},
		"jwt_require_expiration_time": {"on"},
		"jwt_require_signed_tokens":   {"on"},
		"jwt_failed_status":           {"403"},
		"jwt_failed_message":          {"No entry for you."},

		"rate_limit_enabled": {"on"},
		"rate_limit_calls":   {"20"},
		"rate_limit_period":  {"90s"},

		"backend_auth":   {"basic"},
		"basic_username": {"svc"},
		"basic_password": {backendPassword},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

func TestAdminPoliciesAccess(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/admin/apis/echo/policies", "/admin/apis/nope/policies"} {
		r := e.get(t, p)
		if want := "/signin?next=" + url.QueryEscape(p); r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("anonymous GET %s = %d to %q, want 303 to %q", p, r.status, r.header.Get("Location"), want)
		}
		if r := e.getAs(t, p, "developer"); r.status != http.StatusForbidden || !strings.Contains(r.body, `data-testid="error-message"`) {
			t.Errorf("developer GET %s = %d, want the 403 page", p, r.status)
		}
	}
	if r := e.admin(t, http.MethodGet, "/admin/apis/nope/policies", nil, ""); r.status != http.StatusNotFound {
		t.Errorf("admin GET of an unknown API's policies = %d, want 404", r.status)
	}
	posts := map[string]url.Values{
		"/admin/apis/echo/policies":     policyFields(),
		"/admin/apis/echo/policies/xml": {"policy_xml": {`<policies><inbound><ip-filter action="allow"><address>10.0.0.1</address></ip-filter></inbound></policies>`}},
	}
	for path, form := range posts {
		for as, want := range map[string]int{"": http.StatusUnauthorized, "developer": http.StatusForbidden} {
			h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			if as != "" {
				h.Set("Cookie", e.cookieOf(t, as))
			}
			if r := e.send(t, http.MethodPost, path, strings.NewReader(form.Encode()), h); r.status != want {
				t.Errorf("POST %s as %q = %d, want %d", path, as, r.status, want)
			}
		}
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {e.cookieOf(t, "admin")}, "Sec-Fetch-Site": {"cross-site"}}
		if r := e.send(t, http.MethodPost, path, strings.NewReader(form.Encode()), h); r.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s as admin = %d, want 403", path, r.status)
		}
	}
	api, err := e.store.FindAPIByName(context.Background(), "echo")
	if err != nil {
		t.Fatal(err)
	}
	if !api.Policies.Empty() || api.Backend.Auth != nil {
		t.Fatalf("a refused POST wrote policies: %+v, %+v", api.Policies, api.Backend.Auth)
	}
}

func TestAdminPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const path = "/admin/apis/echo/policies"
	caPEM, _ := testCertificate(t, "Partner CA")
	stored := func(t *testing.T) *portal.API {
		t.Helper()
		api, err := e.store.FindAPIByName(ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		return api
	}
	noSecrets := func(t *testing.T, body string) {
		t.Helper()
		for _, s := range []string{hmacKey, backendPassword, html.EscapeString(backendPassword), clientSecret, "PRIVATE KEY"} {
			if strings.Contains(body, s) {
				t.Fatalf("the page shows the secret %q", s)
			}
		}
	}

	t.Run("linked and empty", func(t *testing.T) {
		if r := e.admin(t, http.MethodGet, "/admin/apis", nil, ""); !strings.Contains(r.body, `href="/admin/apis/echo/policies"`) {
			t.Errorf("the API list does not link to the policies")
		}
		if r := e.admin(t, http.MethodGet, "/admin/apis/echo/edit", nil, ""); !strings.Contains(r.body, `href="/admin/apis/echo/policies"`) {
			t.Errorf("the API's form does not link to the policies")
		}
		r := e.admin(t, http.MethodGet, path, nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d", path, r.status)
		}
		for _, want := range []string{`data-testid="policies-form"`, `action="/admin/apis/echo/policies"`, `data-testid="policy-xml-form"`,
			`action="/admin/apis/echo/policies/xml"`, `value="Authorization"`, `value="401"`, `id="backend-auth-none" name="backend_auth" value="none" checked`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("empty policy page has no %q", want)
			}
		}
		if strings.Contains(r.body, `name="ip_filter_enabled" value="on" checked`) || strings.Contains(r.body, `data-testid="jwt-keys-set"`) {
			t.Errorf("an API without policies shows one enabled")
		}
	})

	t.Run("save every policy", func(t *testing.T) {
		form := policyFields(
			"cert_enabled", "on", "cert_validate_trust", "on", "cert_validate_not_after", "on",
			"cert_ca_certificates", caPEM,
			"cert_identities", "thumbprint=3F2A00FF\nsubject=CN=partner-app,O=Partner; issuer-subject=CN=Partner CA",
		)
		r := e.adminPost(t, path, form)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != path {
			t.Fatalf("save = %d to %q\n%s", r.status, r.header.Get("Location"), messageOf(r.body))
		}
		page := e.follow(t, r)
		if !strings.Contains(page.body, "Policies of echo saved.") {
			t.Fatalf("no notice after saving")
		}
		api := stored(t)
		p := api.Policies
		wantIP := &portal.IPFilter{Action: "forbid", Addresses: []string{"203.0.113.7", "10.0.0.0/8", "2001:db8::/32"},
			Ranges: []portal.IPRange{{From: "198.51.100.1", To: "198.51.100.20"}, {From: "2001:db8::1", To: "2001:db8::ff"}}}
		if !reflect.DeepEqual(p.IPFilter, wantIP) {
			t.Errorf("ip_filter = %+v, want %+v", p.IPFilter, wantIP)
		}
		wantJWT := &portal.ValidateJWT{
			Header: "Authorization", RequireScheme: "Bearer",
			OpenIDConfig: []string{"https://login.example.com/.well-known/openid-configuration"},
			SigningKeys:  []string{hmacKey},
			Issuers:      []string{"https://login.example.com/"},
			Audiences:    []string{"api://echo", "api://echo-2"},
			RequiredClaims: []portal.RequiredClaim{
				{Name: "roles", Match: "any", Values: []string{"reader", "writer"}},
				{Name: "scp", Match: "all", Values: []string{"orders.read"}, Separator: " "},
				{Name: "http://schemas.example.com/claims/tid", Match: "all"},
				{Name: "oid", Match: "all"},
			},
			ClockSkew: 30 * time.Second, RequireExpirationTime: true, RequireSignedTokens: true,
			FailedStatus: 403, FailedMessage: "No entry for you.",
		}
		if !reflect.DeepEqual(p.ValidateJWT, wantJWT) {
			t.Errorf("validate_jwt = %+v\nwant %+v", p.ValidateJWT, wantJWT)
		}
		cc := p.ClientCertificate
		wantIDs := []portal.CertificateIdentity{{Thumbprint: "3F2A00FF"}, {Subject: "CN=partner-app,O=Partner", IssuerSubject: "CN=Partner CA"}}
		if cc == nil || !cc.ValidateTrust || cc.ValidateNotBefore || !cc.ValidateNotAfter || len(cc.CACertificates) != 1 || cc.CACertificates[0] != caPEM ||
			!reflect.DeepEqual(cc.Identities, wantIDs) {
			t.Errorf("client_certificate = %+v", cc)
		}
		if p.RateLimit == nil || *p.RateLimit != (portal.RateLimit{Calls: 20, Period: 90 * time.Second}) {
			t.Errorf("rate_limit = %+v", p.RateLimit)
		}
		if a := api.Backend.Auth; a == nil || a.Basic == nil || *a.Basic != (portal.BasicAuth{Username: "svc", Password: backendPassword}) {
			t.Errorf("backend auth = %+v", a)
		}

		// Read back into the form, secrets left out.
		body := unescape(page.body)
		for _, want := range []string{
			"203.0.113.7\n10.0.0.0/8\n2001:db8::/32", "198.51.100.1-198.51.100.20\n2001:db8::1-2001:db8::ff",
			"roles: any: reader, writer\nscp: all: orders.read [separator space]\nhttp://schemas.example.com/claims/tid\noid",
			`value="30s"`, `value="403"`, `value="No entry for you."`, `value="1m30s"`, `value="svc"`,
			"thumbprint=3F2A00FF\nsubject=CN=partner-app,O=Partner; issuer_subject=CN=Partner CA",
			"-----BEGIN CERTIFICATE-----", "1 key set, leave empty to keep it", "symmetric key (34 bytes)", "A password is set.",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the saved form has no %q", want)
			}
		}
		for _, box := range []string{"ip_filter_enabled", "jwt_enabled", "cert_enabled", "rate_limit_enabled", "cert_validate_trust", "jwt_require_signed_tokens"} {
			if !strings.Contains(page.body, `name="`+box+`" value="on" checked`) {
				t.Errorf("%s is not checked after saving", box)
			}
		}
		if strings.Contains(page.body, `name="cert_validate_not_before" value="on" checked`) {
			t.Errorf("validate not before is checked though it was saved off")
		}
		if !strings.Contains(page.body, `value="forbid" checked`) || !strings.Contains(page.body, `value="basic" checked`) {
			t.Errorf("the radio choices saved are not checked")
		}
		noSecrets(t, page.body)
	})

	t.Run("secrets kept when empty", func(t *testing.T) {
		r := e.adminPost(t, path, policyFields("jwt_signing_keys", "", "basic_password", "", "basic_username", "svc2", "rate_limit_enabled", ""))
		if r.status != http.StatusSeeOther {
			t.Fatalf("save = %d: %s", r.status, messageOf(r.body))
		}
		api := stored(t)
		if v := api.Policies.ValidateJWT; v == nil || !reflect.DeepEqual(v.SigningKeys, []string{hmacKey}) {
			t.Errorf("signing keys after an empty field = %+v", v)
		}
		if b := api.Backend.Auth.Basic; b == nil || b.Username != "svc2" || b.Password != backendPassword {
			t.Errorf("basic auth after an empty password = %+v", b)
		}
		if api.Policies.RateLimit != nil || api.Policies.ClientCertificate != nil {
			t.Errorf("unchecked policies stay: %+v", api.Policies)
		}
		noSecrets(t, e.follow(t, r).body)

		// Keys typed replace the stored ones, PEM blocks one by one.
		certA, _ := testCertificate(t, "signer A")
		certB, _ := testCertificate(t, "signer B")
		r = e.adminPost(t, path, policyFields("jwt_signing_keys", certA+certB+"\n\n"+`{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}`))
		if r.status != http.StatusSeeOther {
			t.Fatalf("save = %d: %s", r.status, messageOf(r.body))
		}
		keys := stored(t).Policies.ValidateJWT.SigningKeys
		if len(keys) != 3 || keys[0] != strings.TrimSpace(certA) || keys[1] != strings.TrimSpace(certB) || !strings.HasPrefix(keys[2], `{"kty"`) {
			t.Fatalf("signing keys = %q", keys)
		}
		if page := e.follow(t, r); !strings.Contains(page.body, "3 keys set") || !strings.Contains(page.body, "JWK RSA, kid k1") || !strings.Contains(page.body, "PEM CERTIFICATE") {
			t.Errorf("the stored keys are not described")
		}
		// Clearing drops them; with openid_config left, signatures still check.
		r = e.adminPost(t, path, policyFields("jwt_signing_keys", "", "jwt_clear_keys", "on"))
		if r.status != http.StatusSeeOther {
			t.Fatalf("clear keys = %d: %s", r.status, messageOf(r.body))
		}
		if keys := stored(t).Policies.ValidateJWT.SigningKeys; len(keys) != 0 {
			t.Fatalf("signing keys after clearing = %q", keys)
		}
	})

	t.Run("bad values", func(t *testing.T) {
		before := stored(t)
		for _, tc := range []struct {
			name    string
			form    url.Values
			message string
		}{
			{"bad address", policyFields("ip_filter_addresses", "203.0.113.7\n10.0.0.300"), `line 2: "10.0.0.300" is not an IP address or CIDR`},
			{"bad range", policyFields("ip_filter_ranges", "198.51.100.1 to 198.51.100.20"), "IP filter ranges, line 1"},
			{"downward range", policyFields("ip_filter_ranges", "198.51.100.20-198.51.100.1"), "must run upward"},
			{"no action", policyFields("ip_filter_action", ""), "action must be allow or forbid"},
			{"failed status 200", policyFields("jwt_failed_status", "200"), "failed_status must be an HTTP error status"},
			{"status not a number", policyFields("jwt_failed_status", "four"), `JWT failed status "four" is not a whole number`},
			{"header and query", policyFields("jwt_query", "token"), "exactly one of header and query"},
			{"bad claim", policyFields("jwt_required_claims", "roles: reader"), "JWT required claims, line 1"},
			{"bad skew", policyFields("jwt_clock_skew", "2h"), "clock_skew"},
			{"bad openid URL", policyFields("jwt_openid_config", "login.example.com"), "openid_config"},
			{"bad signing key", policyFields("jwt_signing_keys", "not a key at all!"), "JWT signing keys, key 1"},
			{"short symmetric key", policyFields("jwt_signing_keys", "c2hvcnQta2V5"), "at least 32 bytes; this one has 9"},
			{"no keys to check", policyFields("jwt_openid_config", "", "jwt_signing_keys", "", "jwt_clear_keys", "on"), "openid_config or signing_keys is required"},
			{"bad identity", policyFields("cert_enabled", "on", "cert_identities", "colour=blue"), `line 1: unknown key "colour"`},
			{"trust without CA", policyFields("cert_enabled", "on", "cert_validate_trust", "on"), "validate_trust needs at least one CA"},
			{"CA not PEM", policyFields("cert_enabled", "on", "cert_ca_certificates", "MIIB..."), "CA certificates: certificate 1 is not a PEM block"},
			{"rate zero", policyFields("rate_limit_calls", "0"), "rate limit needs calls"},
			{"basic without user", policyFields("basic_username", ""), "a username without ':' is required"},
			{"unknown method", policyFields("backend_auth", "kerberos"), "Backend authentication: choose"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.adminPost(t, path, tc.form)
				// Every value typed is kept, whatever field was wrong.
				base := policyFields()
				var kept []string
				for field, shown := range map[string]string{
					"jwt_required_claims": "roles: any: reader, writer", "jwt_audiences": "api://echo\napi://echo-2",
					"basic_username": `value="svc"`, "jwt_failed_message": `value="No entry for you."`,
					"ip_filter_addresses": "203.0.113.7\n10.0.0.0/8\n\n2001:db8::/32",
				} {
					if tc.form.Get(field) == base.Get(field) {
						kept = append(kept, shown)
					}
				}
				wantFormError(t, r, http.StatusBadRequest, tc.message, kept...)
				for k, vs := range tc.form {
					if k == "jwt_signing_keys" || k == "basic_password" || k == "backend_auth" || vs[0] == "on" || vs[0] == "" {
						continue
					}
					if want := strings.ReplaceAll(vs[0], "\r\n", "\n"); !strings.Contains(unescape(r.body), want) {
						t.Errorf("the refused form lost %s = %q", k, want)
					}
				}
				if !strings.Contains(r.body, `data-testid="secrets-dropped"`) {
					t.Errorf("no word that the typed secrets are not shown again")
				}
				noSecrets(t, r.body)
				if after := stored(t); !reflect.DeepEqual(after.Policies, before.Policies) || !reflect.DeepEqual(after.Backend.Auth, before.Backend.Auth) {
					t.Fatalf("a refused form was written")
				}
			})
		}
	})

	t.Run("backend oauth and certificate", func(t *testing.T) {
		oauth := policyFields("backend_auth", "oauth", "basic_password", "", "oauth_token_url", "https://login.example.com/token",
			"oauth_client_id", "gateway", "oauth_client_secret", clientSecret, "oauth_scope", "api://backend/.default", "oauth_resource", "api://backend")
		if r := e.adminPost(t, path, oauth); r.status != http.StatusSeeOther {
			t.Fatalf("save oauth = %d: %s", r.status, messageOf(r.body))
		}
		want := portal.OAuthClientCredentials{TokenURL: "https://login.example.com/token", ClientID: "gateway", ClientSecret: clientSecret,
			Scope: "api://backend/.default", Resource: "api://backend"}
		if a := stored(t).Backend.Auth; a == nil || a.Basic != nil || a.OAuthClientCredentials == nil || *a.OAuthClientCredentials != want {
			t.Fatalf("oauth auth = %+v", a)
		}
		page := e.admin(t, http.MethodGet, path, nil, "")
		noSecrets(t, page.body)
		if !strings.Contains(page.body, "A client secret is set.") || !strings.Contains(page.body, `value="gateway"`) {
			t.Errorf("the oauth form is not read back")
		}
		// An empty secret keeps the stored one...
		oauth.Set("oauth_client_secret", "")
		oauth.Set("oauth_scope", "api://backend/read")
		if r := e.adminPost(t, path, oauth); r.status != http.StatusSeeOther {
			t.Fatalf("save oauth without secret = %d: %s", r.status, messageOf(r.body))
		}
		if o := stored(t).Backend.Auth.OAuthClientCredentials; o.ClientSecret != clientSecret || o.Scope != "api://backend/read" {
			t.Fatalf("oauth after an empty secret = %+v", o)
		}
		// ...but never goes to a new token endpoint unasked.
		oauth.Set("oauth_token_url", "https://elsewhere.example/token")
		wantFormError(t, e.adminPost(t, path, oauth), http.StatusBadRequest, "type the client secret again", `value="https://elsewhere.example/token"`)

		cert, key := testCertificate(t, "gateway client")
		_, otherKey := testCertificate(t, "someone else")
		certForm := policyFields("backend_auth", "certificate", "basic_password", "", "backend_certificate", cert, "backend_key", otherKey)
		wantFormError(t, e.adminPost(t, path, certForm), http.StatusBadRequest, "belong together", "-----BEGIN CERTIFICATE-----")
		certForm.Set("backend_key", key)
		if r := e.adminPost(t, path, certForm); r.status != http.StatusSeeOther {
			t.Fatalf("save certificate = %d: %s", r.status, messageOf(r.body))
		}
		certForm.Set("backend_key", "")
		if r := e.adminPost(t, path, certForm); r.status != http.StatusSeeOther {
			t.Fatalf("save certificate without key = %d: %s", r.status, messageOf(r.body))
		}
		if c := stored(t).Backend.Auth.Certificate; c == nil || c.CertificatePEM != strings.TrimSpace(cert) || c.KeyPEM != strings.TrimSpace(key) {
			t.Fatalf("certificate auth = %+v", c)
		}
		page = e.admin(t, http.MethodGet, path, nil, "")
		noSecrets(t, page.body)
		if !strings.Contains(page.body, "A private key is set.") || !strings.Contains(page.body, `value="certificate" checked`) {
			t.Errorf("the certificate form is not read back")
		}

		if r := e.adminPost(t, path, url.Values{"backend_auth": {"none"}}); r.status != http.StatusSeeOther {
			t.Fatalf("turn everything off = %d: %s", r.status, messageOf(r.body))
		}
		if api := stored(t); !api.Policies.Empty() || api.Backend.Auth != nil {
			t.Fatalf("after turning everything off: %+v, %+v", api.Policies, api.Backend.Auth)
		}
	})
}

// problemsOf returns the listed problems of the XML form.
func problemsOf(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-testid="policy-xml-problem">([^<]*)<`).FindAllStringSubmatch(body, -1) {
		out = append(out, unescape(m[1]))
	}
	return out
}

func TestAdminPolicyXML(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const path = "/admin/apis/echo/policies/xml"

	t.Run("problems", func(t *testing.T) {
		doc := `<policies>
  <inbound>
    <base />
    <ip-filter action="allow">
      <address>10.0.0.1</address>
    </ip-filter>
    <set-header name="X-Secret" exists-action="override">
      <value>42</value>
    </set-header>
  </inbound>
</policies>`
		r := e.adminPost(t, path, url.Values{"policy_xml": {doc}})
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", r.status)
		}
		problems := problemsOf(r.body)
		found := false
		for _, p := range problems {
			found = found || (strings.Contains(p, "line 7") && strings.Contains(p, "set-header"))
		}
		if !found {
			t.Fatalf("problems %q do not name set-header on line 7", problems)
		}
		if !strings.Contains(r.body, html.EscapeString(doc)) && !strings.Contains(unescape(r.body), doc) {
			t.Fatalf("the pasted XML is not kept")
		}
		if api, _ := e.store.FindAPIByName(ctx, "echo"); !api.Policies.Empty() {
			t.Fatalf("a refused document was written: %+v", api.Policies)
		}
		r = e.adminPost(t, path, url.Values{"policy_xml": {"  "}})
		if r.status != http.StatusBadRequest || len(problemsOf(r.body)) != 1 || !strings.Contains(problemsOf(r.body)[0], "Paste the policy XML first.") {
			t.Fatalf("empty document = %d, %q", r.status, problemsOf(r.body))
		}
	})

	t.Run("replaces the policies", func(t *testing.T) {
		// Policies set in the form first: the document replaces them all,
		// and keeps the backend authentication it does not mention.
		if r := e.adminPost(t, "/admin/apis/echo/policies", policyFields("ip_filter_enabled", "")); r.status != http.StatusSeeOther {
			t.Fatalf("save = %d: %s", r.status, messageOf(r.body))
		}
		doc := `<policies>
  <inbound>
    <base />
    <ip-filter action="allow">
      <address>203.0.113.7</address>
      <address-range from="198.51.100.1" to="198.51.100.20" />
    </ip-filter>
    <rate-limit calls="20" renewal-period="90" />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
  </outbound>
</policies>`
		r := e.adminPost(t, path, url.Values{"policy_xml": {doc}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/apis/echo/policies" {
			t.Fatalf("paste = %d to %q, problems %q", r.status, r.header.Get("Location"), problemsOf(r.body))
		}
		if page := e.follow(t, r); !strings.Contains(page.body, "Policies of echo replaced from the APIM policy XML.") || !strings.Contains(page.body, "198.51.100.1-198.51.100.20") {
			t.Fatalf("no notice, or the form does not show the converted policies")
		}
		api, err := e.store.FindAPIByName(ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		wantIP := &portal.IPFilter{Action: "allow", Addresses: []string{"203.0.113.7"}, Ranges: []portal.IPRange{{From: "198.51.100.1", To: "198.51.100.20"}}}
		if !reflect.DeepEqual(api.Policies.IPFilter, wantIP) || api.Policies.ValidateJWT != nil ||
			api.Policies.RateLimit == nil || *api.Policies.RateLimit != (portal.RateLimit{Calls: 20, Period: 90 * time.Second}) {
			t.Fatalf("converted policies = %+v (ip %+v, rate %+v)", api.Policies, api.Policies.IPFilter, api.Policies.RateLimit)
		}
		if a := api.Backend.Auth; a == nil || a.Basic == nil || a.Basic.Password != backendPassword {
			t.Fatalf("backend auth not mentioned in the document was not kept: %+v", a)
		}
	})
}
