package configfile

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// pki is a test CA, two backend client certificates it signed, and the
// public keys a validate_jwt policy may list, as PEM text.
type pki struct {
	caPEM               string
	certPEM, keyPEM     string
	cert2PEM, key2PEM   string
	publicKeyPEM, ecJWK string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	encode := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "gateway"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return encode("CERTIFICATE", der), encode("PRIVATE KEY", kder)
	}
	p := &pki{caPEM: encode("CERTIFICATE", caDER)}
	p.certPEM, p.keyPEM = leaf(2)
	p.cert2PEM, p.key2PEM = leaf(3)
	jwtKey := newKey()
	pub, err := x509.MarshalPKIXPublicKey(&jwtKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p.publicKeyPEM = encode("PUBLIC KEY", pub)
	ecdhPub, err := jwtKey.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	pt := ecdhPub.Bytes() // 0x04 || X || Y
	b64 := base64.RawURLEncoding.EncodeToString
	p.ecJWK = fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":"k1","x":"%s","y":"%s"}`, b64(pt[1:33]), b64(pt[33:]))
	return p
}

// write puts the PKI's files beside the config file at path.
func (p *pki) write(t *testing.T, path string) {
	t.Helper()
	dir := filepath.Dir(path)
	for name, content := range map[string]string{
		"ca.pem": p.caPEM, "client.pem": p.certPEM, "client-key.pem": p.keyPEM,
		"client2.pem": p.cert2PEM, "client2-key.pem": p.key2PEM, "not-pem.txt": "hello\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// indent indents every line of s by n spaces, for a YAML block scalar.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad) + "\n"
}

// The secrets policiesConfig refers to.
var policyEnv = map[string]string{
	"BACKEND_PASSWORD": "backend-password-0123",
	"CLIENT_SECRET":    "client-secret-0123456789",
	"JWT_SECRET":       base64.StdEncoding.EncodeToString([]byte("a symmetric key of 32+ bytes!!!!")),
}

func policyTestEnv(over map[string]string) func(string) (string, bool) {
	env := map[string]string{}
	for k, v := range policyEnv {
		env[k] = v
	}
	for k, v := range over {
		env[k] = v
	}
	return envOf(env)
}

// policiesConfig uses every key of policies and backend auth.
func policiesConfig(p *pki) string {
	return `apis:
  - name: secure
    backend:
      url: https://secure.example.com
      auth:
        basic: {username: svc, password: "${BACKEND_PASSWORD}"}
    policies:
      validate_jwt:
        header: Authorization
        require_scheme: Bearer
        openid_config: https://login.example.com/.well-known/openid-configuration
        signing_keys:
          - ${JWT_SECRET}
          - |
` + indent(p.publicKeyPEM, 12) + `          - '` + p.ecJWK + `'
        issuers: [https://login.example.com/]
        audiences: [api://secure, api://other]
        required_claims:
          - {name: roles, match: any, values: [reader, writer], separator: ","}
          - {name: tid}
        clock_skew: 30s
        require_expiration_time: false
        require_signed_tokens: true
        failed_status: 403
        failed_message: No entry.
      ip_filter:
        action: allow
        addresses: [203.0.113.7, 10.0.0.0/8, "2001:db8::/32"]
        ranges: [{from: 198.51.100.1, to: 198.51.100.20}]
      client_certificate:
        validate_not_before: false
        ca_files: [ca.pem]
        identities:
          - {thumbprint: 3F2A00FF}
          - {subject: "CN=partner-app", issuer_subject: "CN=Partner CA"}
          - {serial_number: 0a1b, common_name: app, dns_name: app.example.com, issuer_thumbprint: 00FF}
      rate_limit: {calls: 10, period: 1m}
  - name: mtls
    backend:
      url: https://mtls.example.com
      auth:
        certificate: {cert_file: client.pem, key_file: client-key.pem}
    policies:
      validate_jwt:
        query: access_token
        openid_config:
          - https://a.example.com/.well-known/openid-configuration
          - https://b.example.com/.well-known/openid-configuration
  - name: oauth
    backend:
      url: https://oauth.example.com
      auth:
        oauth_client_credentials:
          token_url: https://login.example.com/token
          client_id: gateway
          client_secret: ${CLIENT_SECRET}
          scope: api://backend/.default
          resource: api://backend
    policies:
      client_certificate:
        validate_trust: false
        validate_not_after: false
`
}

// wantPolicies is what policiesConfig declares, by API.
func wantPolicies(p *pki) map[string]portal.API {
	return map[string]portal.API{
		"secure": {
			Backend: portal.Backend{Auth: &portal.BackendAuth{Basic: &portal.BasicAuth{Username: "svc", Password: policyEnv["BACKEND_PASSWORD"]}}},
			Policies: portal.Policies{
				ValidateJWT: &portal.ValidateJWT{
					Header: "Authorization", RequireScheme: "Bearer",
					OpenIDConfig: []string{"https://login.example.com/.well-known/openid-configuration"},
					SigningKeys:  []string{policyEnv["JWT_SECRET"], p.publicKeyPEM, p.ecJWK},
					Issuers:      []string{"https://login.example.com/"},
					Audiences:    []string{"api://secure", "api://other"},
					RequiredClaims: []portal.RequiredClaim{
						{Name: "roles", Match: "any", Values: []string{"reader", "writer"}, Separator: ","},
						{Name: "tid", Match: "all"},
					},
					ClockSkew: 30 * time.Second, RequireExpirationTime: false, RequireSignedTokens: true,
					FailedStatus: 403, FailedMessage: "No entry.",
				},
				IPFilter: &portal.IPFilter{
					Action:    "allow",
					Addresses: []string{"203.0.113.7", "10.0.0.0/8", "2001:db8::/32"},
					Ranges:    []portal.IPRange{{From: "198.51.100.1", To: "198.51.100.20"}},
				},
				ClientCertificate: &portal.ClientCertificate{
					ValidateTrust: true, ValidateNotBefore: false, ValidateNotAfter: true,
					CACertificates: []string{p.caPEM},
					Identities: []portal.CertificateIdentity{
						{Thumbprint: "3F2A00FF"},
						{Subject: "CN=partner-app", IssuerSubject: "CN=Partner CA"},
						{SerialNumber: "0a1b", CommonName: "app", DNSName: "app.example.com", IssuerThumbprint: "00FF"},
					},
				},
				RateLimit: &portal.RateLimit{Calls: 10, Period: time.Minute},
			},
		},
		"mtls": {
			Backend: portal.Backend{Auth: &portal.BackendAuth{Certificate: &portal.CertificateAuth{CertificatePEM: p.certPEM, KeyPEM: p.keyPEM}}},
			Policies: portal.Policies{ValidateJWT: &portal.ValidateJWT{
				Query: "access_token",
				OpenIDConfig: []string{
					"https://a.example.com/.well-known/openid-configuration",
					"https://b.example.com/.well-known/openid-configuration",
				},
				RequireExpirationTime: true, RequireSignedTokens: true, FailedStatus: 401,
			}},
		},
		"oauth": {
			Backend: portal.Backend{Auth: &portal.BackendAuth{OAuthClientCredentials: &portal.OAuthClientCredentials{
				TokenURL: "https://login.example.com/token", ClientID: "gateway", ClientSecret: policyEnv["CLIENT_SECRET"],
				Scope: "api://backend/.default", Resource: "api://backend",
			}}},
			Policies: portal.Policies{ClientCertificate: &portal.ClientCertificate{ValidateNotBefore: true}},
		},
	}
}

func checkPolicies(t *testing.T, name string, got *portal.API, want portal.API) {
	t.Helper()
	if !sameValue(reflect.ValueOf(got.Policies), reflect.ValueOf(want.Policies)) {
		t.Fatalf("%s policies:\n%#v\nwant:\n%#v", name, got.Policies, want.Policies)
	}
	if !reflect.DeepEqual(got.Backend.Auth, want.Backend.Auth) {
		t.Fatalf("%s backend auth:\n%#v\nwant:\n%#v", name, got.Backend.Auth, want.Backend.Auth)
	}
}

func writePolicyConfig(t *testing.T, p *pki, content string) string {
	t.Helper()
	path := writeConfig(t, content)
	p.write(t, path)
	return path
}

func TestLoadPolicies(t *testing.T) {
	p := newPKI(t)
	path := writePolicyConfig(t, p, policiesConfig(p))
	f, err := Load(context.Background(), path, Config{Getenv: policyTestEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := wantPolicies(p)
	if len(f.apis) != len(want) {
		t.Fatalf("%d APIs, want %d", len(f.apis), len(want))
	}
	for _, e := range f.apis {
		checkPolicies(t, e.api.Name, &e.api, want[e.api.Name])
	}
}

// policySecrets lists what must never appear in an export or a diff.
func policySecrets(p *pki) []string {
	return []string{policyEnv["BACKEND_PASSWORD"], policyEnv["CLIENT_SECRET"], policyEnv["JWT_SECRET"], p.keyPEM, p.key2PEM,
		strings.Split(p.keyPEM, "\n")[1]}
}

func TestPoliciesApplyExportApply(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	s := openStore(t)
	c := Config{Store: s, Getenv: policyTestEnv(nil)}
	path := writePolicyConfig(t, p, policiesConfig(p))
	first := mustApply(t, path, c, PlanOptions{})
	if got := diffText(t, first); got != "+ api mtls\n+ api oauth\n+ api secure\nPlan: 3 to add, 0 to change, 0 to delete.\n" &&
		got != "+ api secure\n+ api mtls\n+ api oauth\nPlan: 3 to add, 0 to change, 0 to delete.\n" {
		t.Fatalf("first plan:\n%s", got)
	}
	want := wantPolicies(p)
	for name, w := range want {
		a, err := s.FindAPIByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		checkPolicies(t, name, a, w)
	}
	v := version(t, s)
	if again, err := plan(t, path, c, PlanOptions{}); err != nil || !again.Empty() {
		t.Fatalf("second plan: %v\n%s", err, diffText(t, again))
	}

	var out bytes.Buffer
	if err := Export(ctx, c, &out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	exported := out.String()
	for _, secret := range policySecrets(p) {
		if strings.Contains(exported, secret) {
			t.Fatalf("export contains the secret %q:\n%s", secret, exported)
		}
	}
	for _, w := range []string{
		"# Secrets are redacted", "password, client_secret and certificate key",
		"- (stored symmetric key 1)", "ca_certificates:", "cert_pem: |", "oauth_client_credentials:",
		"username: svc", "client_id: gateway", "require_expiration_time: false", "clock_skew: 30s",
		"query: access_token", "rate_limit:", "ranges:", "issuer_thumbprint: 00FF",
	} {
		if !strings.Contains(exported, w) {
			t.Fatalf("export lacks %q:\n%s", w, exported)
		}
	}
	for _, never := range []string{"password:", "client_secret:", "key_pem:", "key_file:", "ca_files:", "policies_xml:"} {
		if strings.Contains(exported, never) {
			t.Fatalf("export has %q:\n%s", never, exported)
		}
	}

	// The export, applied without any environment or file beside it,
	// changes nothing and keeps every stored secret.
	dir := t.TempDir()
	again := filepath.Join(dir, "exported.yaml")
	if err := os.WriteFile(again, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := Config{Store: s, Getenv: envOf(nil)}
	for _, prune := range []bool{false, true} {
		pl, err := plan(t, again, noEnv, PlanOptions{Prune: prune})
		if err != nil {
			t.Fatalf("exported file:\n%s\n%v", exported, err)
		}
		if !pl.Empty() {
			t.Fatalf("prune=%t: plan of the export:\n%s\nexport:\n%s", prune, diffText(t, pl), exported)
		}
		if err := Apply(ctx, pl, noEnv); err != nil {
			t.Fatal(err)
		}
	}
	if got := version(t, s); got != v {
		t.Fatalf("Version moved from %d to %d", v, got)
	}
	for name, w := range want {
		a, err := s.FindAPIByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		checkPolicies(t, name, a, w)
	}

	// Exporting the export's store gives the same file.
	var out2 bytes.Buffer
	if err := Export(ctx, c, &out2, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if out2.String() != exported {
		t.Fatalf("second export differs:\n%s\nfirst:\n%s", out2.String(), exported)
	}
}

// TestPoliciesExportedSecretsStay edits an export, and checks that what is
// left out is kept while what is given replaces the stored value.
func TestPoliciesExportedSecretsStay(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	s := openStore(t)
	c := Config{Store: s, Getenv: policyTestEnv(nil)}
	mustApply(t, writePolicyConfig(t, p, policiesConfig(p)), c, PlanOptions{})
	var out bytes.Buffer
	if err := Export(ctx, c, &out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	exported := out.String()
	tests := []struct {
		name, old, new, diff string
		check                func(t *testing.T, a map[string]*portal.API)
	}{
		{name: "username only", old: "username: svc", new: "username: svc2",
			diff: "~ api secure: backend.auth.basic.username svc -> svc2\n",
			check: func(t *testing.T, a map[string]*portal.API) {
				if got := a["secure"].Backend.Auth.Basic.Password; got != policyEnv["BACKEND_PASSWORD"] {
					t.Fatalf("password %q", got)
				}
			}},
		{name: "drop the symmetric key", old: "          - (stored symmetric key 1)\n", new: "",
			diff: "~ api secure: policies.validate_jwt.signing_keys: symmetric keys 1 -> 0 (changed)\n",
			check: func(t *testing.T, a map[string]*portal.API) {
				if got := len(a["secure"].Policies.ValidateJWT.SigningKeys); got != 2 {
					t.Fatalf("%d keys", got)
				}
			}},
		{name: "a new certificate with its key", old: "cert_pem: |", new: "cert_file: client2.pem\n          key_file: client2-key.pem\n",
			diff: "~ api mtls: backend.auth.certificate.cert (changed)\n~ api mtls: backend.auth.certificate.key (changed)\n"},
		{name: "scope only", old: "scope: api://backend/.default", new: "scope: api://other/.default",
			diff: "~ api oauth: backend.auth.oauth_client_credentials.scope api://backend/.default -> api://other/.default\n",
			check: func(t *testing.T, a map[string]*portal.API) {
				if got := a["oauth"].Backend.Auth.OAuthClientCredentials.ClientSecret; got != policyEnv["CLIENT_SECRET"] {
					t.Fatalf("client secret %q", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			c := Config{Store: s, Getenv: policyTestEnv(nil)}
			mustApply(t, writePolicyConfig(t, p, policiesConfig(p)), c, PlanOptions{})
			if !strings.Contains(exported, tt.old) {
				t.Fatalf("%q not in the export:\n%s", tt.old, exported)
			}
			content := strings.Replace(exported, tt.old, tt.new, 1)
			if strings.Contains(tt.new, "cert_file") {
				// Drop the old inline certificate that followed cert_pem.
				i := strings.Index(content, tt.new) + len(tt.new)
				end := "-----END CERTIFICATE-----\n"
				j := strings.Index(content[i:], end)
				content = content[:i] + content[i+j+len(end):]
			}
			path := writePolicyConfig(t, p, content)
			pl, err := plan(t, path, Config{Store: s, Getenv: envOf(nil)}, PlanOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, content)
			}
			got := diffText(t, pl)
			if want := tt.diff + "Plan: 0 to add, 1 to change, 0 to delete.\n"; got != want {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
			}
			if err := Apply(ctx, pl, c); err != nil {
				t.Fatal(err)
			}
			apis := map[string]*portal.API{}
			for _, n := range []string{"secure", "mtls", "oauth"} {
				if apis[n], err = s.FindAPIByName(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			if tt.check != nil {
				tt.check(t, apis)
			}
		})
	}
}

// TestPolicyDiff edits the applied file in one place and checks the diff
// line, that no secret shows, and that applying converges.
func TestPolicyDiff(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name, old, new string
		env            map[string]string
		want           string
	}{
		{name: "backend password", env: map[string]string{"BACKEND_PASSWORD": "another-password-42"},
			want: "~ api secure: backend.auth.basic.password (changed)\n"},
		{name: "client secret", env: map[string]string{"CLIENT_SECRET": "another-client-secret"},
			want: "~ api oauth: backend.auth.oauth_client_credentials.client_secret (changed)\n"},
		{name: "symmetric signing key", env: map[string]string{"JWT_SECRET": base64.StdEncoding.EncodeToString([]byte("another symmetric key, 32+ bytes"))},
			want: "~ api secure: policies.validate_jwt.signing_keys: symmetric keys 1 -> 1 (changed)\n"},
		{name: "backend certificate", old: "{cert_file: client.pem, key_file: client-key.pem}", new: "{cert_file: client2.pem, key_file: client2-key.pem}",
			want: "~ api mtls: backend.auth.certificate.cert (changed)\n~ api mtls: backend.auth.certificate.key (changed)\n"},
		{name: "auth kind", old: "certificate: {cert_file: client.pem, key_file: client-key.pem}", new: "basic: {username: u}",
			want: "~ api mtls: backend.auth certificate -> basic\n"},
		{name: "no auth", old: "      auth:\n        basic: {username: svc, password: \"${BACKEND_PASSWORD}\"}\n", new: "",
			want: "~ api secure: backend.auth basic -> none\n"},
		{name: "addresses", old: "addresses: [203.0.113.7, 10.0.0.0/8, \"2001:db8::/32\"]", new: "addresses: [203.0.113.8]",
			want: "~ api secure: policies.ip_filter.addresses [203.0.113.7, 10.0.0.0/8, 2001:db8::/32] -> [203.0.113.8]\n"},
		{name: "action", old: "action: allow", new: "action: forbid",
			want: "~ api secure: policies.ip_filter.action allow -> forbid\n"},
		{name: "audiences", old: "audiences: [api://secure, api://other]", new: "audiences: [api://secure]",
			want: "~ api secure: policies.validate_jwt.audiences [api://secure, api://other] -> [api://secure]\n"},
		{name: "claims", old: "- {name: tid}", new: "- {name: tid, values: [t1]}",
			want: "~ api secure: policies.validate_jwt.required_claims [roles any {reader, writer} separator \",\", tid all {}] -> [roles any {reader, writer} separator \",\", tid all {t1}]\n"},
		{name: "booleans", old: "require_expiration_time: false", new: "require_expiration_time: true",
			want: "~ api secure: policies.validate_jwt.require_expiration_time false -> true\n"},
		{name: "status and skew", old: "clock_skew: 30s\n        require_expiration_time: false\n        require_signed_tokens: true\n        failed_status: 403",
			new:  "clock_skew: 1m\n        require_expiration_time: false\n        failed_status: 401",
			want: "~ api secure: policies.validate_jwt.clock_skew 30s -> 1m\n~ api secure: policies.validate_jwt.failed_status 403 -> 401\n"},
		{name: "public key removed", old: "          - '" + p.ecJWK + "'\n", new: "",
			want: "~ api secure: policies.validate_jwt.signing_keys: public keys 2 -> 1 (changed)\n"},
		{name: "CA and identities", old: "          - {thumbprint: 3F2A00FF}\n", new: "",
			want: "~ api secure: policies.client_certificate.identities [{thumbprint=3F2A00FF}, {subject=CN=partner-app issuer_subject=\"CN=Partner CA\"}, {serial_number=0a1b common_name=app dns_name=app.example.com issuer_thumbprint=00FF}] -> [{subject=CN=partner-app issuer_subject=\"CN=Partner CA\"}, {serial_number=0a1b common_name=app dns_name=app.example.com issuer_thumbprint=00FF}]\n"},
		{name: "more CAs", old: "ca_files: [ca.pem]", new: "ca_files: [ca.pem, client.pem]",
			want: "~ api secure: policies.client_certificate.ca_certificates 1 -> 2 certificates (changed)\n"},
		{name: "rate limit", old: "rate_limit: {calls: 10, period: 1m}", new: "rate_limit: {calls: 5, period: 1s}",
			want: "~ api secure: policies.rate_limit 10/1m -> 5/1s\n"},
		{name: "policy removed", old: "      rate_limit: {calls: 10, period: 1m}\n", new: "",
			want: "~ api secure: policies.rate_limit 10/1m -> none\n"},
		{name: "policy added", old: "        validate_not_after: false\n", new: "        validate_not_after: false\n      ip_filter: {action: forbid, addresses: [192.0.2.1]}\n",
			want: "~ api oauth: policies.ip_filter added\n"},
		{name: "validate_jwt removed", old: "      validate_jwt:\n        query: access_token\n        openid_config:\n          - https://a.example.com/.well-known/openid-configuration\n          - https://b.example.com/.well-known/openid-configuration\n", new: "      ip_filter: {action: forbid, addresses: [192.0.2.1]}\n",
			want: "~ api mtls: policies.validate_jwt removed\n~ api mtls: policies.ip_filter added\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			path := writePolicyConfig(t, p, policiesConfig(p))
			mustApply(t, path, Config{Store: s, Getenv: policyTestEnv(nil)}, PlanOptions{})
			content := policiesConfig(p)
			if tt.old != "" || tt.new != "" {
				if !strings.Contains(content, tt.old) {
					t.Fatalf("%q not in the config", tt.old)
				}
				content = strings.Replace(content, tt.old, tt.new, 1)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			c := Config{Store: s, Getenv: policyTestEnv(tt.env)}
			pl, err := plan(t, path, c, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := diffText(t, pl)
			if want := tt.want + "Plan: 0 to add, 1 to change, 0 to delete.\n"; got != want {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
			}
			for _, secret := range append(policySecrets(p), tt.env["BACKEND_PASSWORD"], tt.env["CLIENT_SECRET"], tt.env["JWT_SECRET"]) {
				if secret != "" && strings.Contains(got, secret) {
					t.Fatalf("diff shows the secret %q:\n%s", secret, got)
				}
			}
			if err := Apply(ctx, pl, c); err != nil {
				t.Fatal(err)
			}
			if pl, err = plan(t, path, c, PlanOptions{}); err != nil || !pl.Empty() {
				t.Fatalf("after applying: %v\n%s", err, diffText(t, pl))
			}
		})
	}
}

func TestPolicyLoadErrors(t *testing.T) {
	p := newPKI(t)
	const jwt = "apis:\n  - name: a\n    backend:\n      url: https://x.example.com\n    policies:\n      validate_jwt:\n" // next line is 7
	const pol = "apis:\n  - name: a\n    backend:\n      url: https://x.example.com\n    policies:\n"                      // next line is 6
	const auth = "apis:\n  - name: a\n    backend:\n      url: https://x.example.com\n      auth:\n"                       // next line is 6
	const oidc = "        openid_config: https://login.example.com/.well-known/openid-configuration\n"
	tests := []struct {
		name, file, want string
	}{
		{"unknown key", jwt + "        audience: [x]\n", "portico.yaml:7: apis[0].policies.validate_jwt.audience: unknown key (did you mean audiences?)"},
		{"unknown policy", pol + "      ip_filtre: {}\n", "portico.yaml:6: apis[0].policies.ip_filtre: unknown key (did you mean ip_filter?)"},
		{"failed_status type", jwt + oidc + "        failed_status: abc\n", `portico.yaml:8: apis[0].policies.validate_jwt.failed_status: want an integer, got "abc"`},
		{"failed_status range", jwt + oidc + "        failed_status: 200\n", "portico.yaml:8: apis[0].policies.validate_jwt.failed_status: failed_status must be an HTTP error status (400-599)."},
		{"clock_skew type", jwt + oidc + "        clock_skew: 5\n", `portico.yaml:8: apis[0].policies.validate_jwt.clock_skew: want a duration such as 30s, 15m or 48h, got "5"`},
		{"clock_skew range", jwt + oidc + "        clock_skew: 2h\n", "portico.yaml:8: apis[0].policies.validate_jwt.clock_skew: clock_skew must be between 0s and 1h."},
		{"boolean", jwt + oidc + "        require_signed_tokens: no\n", `portico.yaml:8: apis[0].policies.validate_jwt.require_signed_tokens: want true or false, got "no"`},
		{"header and query", jwt + oidc + "        header: X-Token\n        query: token\n", "portico.yaml:6: apis[0].policies.validate_jwt: exactly one of header and query is required."},
		{"bad header", jwt + oidc + "        header: \"X Token\"\n", `portico.yaml:8: apis[0].policies.validate_jwt.header: header "X Token" is not a valid header name.`},
		{"openid_config URL", jwt + "        openid_config: [https://ok.example.com/x, ftp://x]\n", `portico.yaml:7: apis[0].policies.validate_jwt.openid_config[1]: openid_config "ftp://x" must be an http or https URL.`},
		{"openid_config string URL", jwt + "        openid_config: login.example.com\n", `portico.yaml:7: apis[0].policies.validate_jwt.openid_config: openid_config "login.example.com" must be an http or https URL.`},
		{"no keys", jwt + "        audiences: [x]\n", "portico.yaml:6: apis[0].policies.validate_jwt: openid_config or signing_keys is required to check signatures."},
		{"short symmetric key", jwt + "        signing_keys: [c2hvcnQ=]\n", "portico.yaml:7: apis[0].policies.validate_jwt.signing_keys[0]: a symmetric key must be at least 32 bytes (256 bits), this one is 5"},
		{"not a key", jwt + "        signing_keys: [\"not a key!\"]\n", "portico.yaml:7: apis[0].policies.validate_jwt.signing_keys[0]: want a PEM public key or certificate, a JWK, or a base64 symmetric key"},
		{"private PEM", jwt + "        signing_keys:\n          - |\n" + indent(p.keyPEM, 12), "portico.yaml:8: apis[0].policies.validate_jwt.signing_keys[0]: a PRIVATE KEY must not be given: give its public key or certificate"},
		{"private JWK", jwt + `        signing_keys: ['{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}']` + "\n", "portico.yaml:7: apis[0].policies.validate_jwt.signing_keys[0]: the JWK holds a private key: give the public key only"},
		{"JWK without kty", jwt + `        signing_keys: ['{"n":"a"}']` + "\n", "portico.yaml:7: apis[0].policies.validate_jwt.signing_keys[0]: the JWK needs kty RSA, EC, OKP or oct"},
		{"claim match", jwt + oidc + "        required_claims: [{name: roles, match: some}]\n", `portico.yaml:8: apis[0].policies.validate_jwt.required_claims[0].match: want one of all, any, got "some"`},
		{"claim name", jwt + oidc + "        required_claims:\n          - values: [a]\n", "portico.yaml:9: apis[0].policies.validate_jwt.required_claims[0]: every required claim needs a name."},
		{"claim key", jwt + oidc + "        required_claims: [{name: roles, value: a}]\n", "portico.yaml:8: apis[0].policies.validate_jwt.required_claims[0].value: unknown key (did you mean values?)"},
		{"address", pol + "      ip_filter:\n        action: allow\n        addresses: [10.0.0.1, 10.0.0.300]\n", `portico.yaml:8: apis[0].policies.ip_filter.addresses[1]: "10.0.0.300" is not an address or CIDR.`},
		{"range", pol + "      ip_filter:\n        action: forbid\n        ranges:\n          - {from: 10.0.0.9, to: 10.0.0.1}\n", "portico.yaml:9: apis[0].policies.ip_filter.ranges[0]: range 10.0.0.9-10.0.0.1 must run upward within one address family."},
		{"range families", pol + "      ip_filter:\n        action: forbid\n        ranges: [{from: 10.0.0.1, to: \"::1\"}]\n", "portico.yaml:8: apis[0].policies.ip_filter.ranges[0]: range 10.0.0.1-::1 must run upward within one address family."},
		{"no action", pol + "      ip_filter:\n        addresses: [10.0.0.1]\n", "portico.yaml:6: apis[0].policies.ip_filter: action required (allow or forbid)"},
		{"bad action", pol + "      ip_filter: {action: deny, addresses: [10.0.0.1]}\n", `portico.yaml:6: apis[0].policies.ip_filter.action: want one of allow, forbid, got "deny"`},
		{"no addresses", pol + "      ip_filter: {action: allow, addresses: []}\n", "portico.yaml:6: apis[0].policies.ip_filter: at least one address or range is required."},
		{"missing CA file", pol + "      client_certificate:\n        ca_files: [ca.pem, missing.pem]\n", "portico.yaml:7: apis[0].policies.client_certificate.ca_files[1]: cannot read missing.pem: no such file or directory"},
		{"CA file not PEM", pol + "      client_certificate:\n        ca_files:\n          - not-pem.txt\n", "portico.yaml:8: apis[0].policies.client_certificate.ca_files[0]: not-pem.txt: holds no PEM certificate"},
		{"CA file holds a key", pol + "      client_certificate:\n        ca_files: [client-key.pem]\n", "portico.yaml:7: apis[0].policies.client_certificate.ca_files[0]: client-key.pem: holds a PRIVATE KEY block; only certificates belong here"},
		{"inline CA", pol + "      client_certificate:\n        ca_certificates: [nonsense]\n", "portico.yaml:7: apis[0].policies.client_certificate.ca_certificates[0]: holds no PEM certificate"},
		{"trust without CA", pol + "      client_certificate:\n        identities: [{common_name: app}]\n", "portico.yaml:6: apis[0].policies.client_certificate: validate_trust needs at least one CA certificate (ca_files)."},
		{"empty identity", pol + "      client_certificate:\n        validate_trust: false\n        identities:\n          - {}\n", "portico.yaml:9: apis[0].policies.client_certificate.identities[0]: an identity needs at least one of thumbprint, serial_number, common_name, subject, dns_name, issuer_subject, issuer_thumbprint"},
		{"identity key", pol + "      client_certificate:\n        validate_trust: false\n        identities: [{cn: app}]\n", "portico.yaml:8: apis[0].policies.client_certificate.identities[0].cn: unknown key"},
		{"rate limit", pol + "      rate_limit: {calls: 0, period: 1m}\n", "portico.yaml:6: apis[0].policies.rate_limit: rate limit needs calls >= 1 and a period between 1s and 24h."},
		{"rate limit type", pol + "      rate_limit: {calls: 5, period: often}\n", `portico.yaml:6: apis[0].policies.rate_limit.period: want a duration such as 30s, 15m or 48h, got "often"`},
		{"two auth kinds", auth + "        basic: {username: a}\n        oauth_client_credentials: {token_url: https://t.example.com, client_id: c}\n", "portico.yaml:5: apis[0].backend.auth: give only one of basic, certificate and oauth_client_credentials, not basic and oauth_client_credentials"},
		{"empty auth", auth + "        {}\n", "portico.yaml:5: apis[0].backend.auth: give one of basic, certificate and oauth_client_credentials, or leave auth out"},
		{"auth kind typo", auth + "        basci: {username: a}\n", "portico.yaml:6: apis[0].backend.auth.basci: unknown key (did you mean basic?)"},
		{"basic without username", auth + "        basic: {password: x}\n", "portico.yaml:6: apis[0].backend.auth.basic: username required"},
		{"basic username colon", auth + "        basic: {username: \"a:b\"}\n", "portico.yaml:6: apis[0].backend.auth.basic.username: a username without ':' is required."},
		{"basic password env", auth + "        basic:\n          username: a\n          password: ${NOT_SET_HERE}\n", "portico.yaml:8: apis[0].backend.auth.basic.password: environment variable NOT_SET_HERE is not set"},
		{"basic key typo", auth + "        basic: {user: a}\n", "portico.yaml:6: apis[0].backend.auth.basic.user: unknown key"},
		{"certificate without cert", auth + "        certificate: {key_file: client-key.pem}\n", "portico.yaml:6: apis[0].backend.auth.certificate: cert_file required"},
		{"certificate file missing", auth + "        certificate:\n          cert_file: nope.pem\n", "portico.yaml:7: apis[0].backend.auth.certificate.cert_file: cannot read nope.pem: no such file or directory"},
		{"certificate is a key", auth + "        certificate: {cert_file: client-key.pem, key_file: client-key.pem}\n", "portico.yaml:6: apis[0].backend.auth.certificate.cert_file: holds a PRIVATE KEY block; the certificate (chain) goes here, its key in key_file"},
		{"certificate and key mismatch", auth + "        certificate:\n          cert_file: client.pem\n          key_file: client2-key.pem\n", "portico.yaml:8: apis[0].backend.auth.certificate.key_file: the key does not go with the certificate: private key does not match public key"},
		{"cert twice", auth + "        certificate: {cert_file: client.pem, cert_pem: x, key_file: client-key.pem}\n", "portico.yaml:6: apis[0].backend.auth.certificate.cert_pem: holds no PEM certificate\nportico.yaml:6: apis[0].backend.auth.certificate: give cert_file or cert_pem, not both"},
		{"token_url", auth + "        oauth_client_credentials: {token_url: login.example.com, client_id: c}\n", "portico.yaml:6: apis[0].backend.auth.oauth_client_credentials.token_url: token_url must be an http or https URL."},
		{"client_id", auth + "        oauth_client_credentials:\n          token_url: https://login.example.com/token\n", "portico.yaml:6: apis[0].backend.auth.oauth_client_credentials: client_id is required."},
		{"oauth key typo", auth + "        oauth_client_credentials: {token_url: https://t.example.com, client_id: c, secret: s}\n", "portico.yaml:6: apis[0].backend.auth.oauth_client_credentials.secret: unknown key"},
		{"policies and policies_xml", pol + "      rate_limit: {calls: 1, period: 1s}\n    policies_xml: <policies/>\n", "portico.yaml:7: apis[0].policies_xml: give policies or policies_xml, not both (beside policies_xml, policies may hold only client_certificate.ca_files or ca_certificates)"},
		{"policies_xml type", "apis:\n  - name: a\n    backend: {url: https://x.example.com}\n    policies_xml: [a]\n", "portico.yaml:4: apis[0].policies_xml: want a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writePolicyConfig(t, p, tt.file)
			_, err := Load(context.Background(), path, Config{Getenv: envOf(nil)})
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.want)
			}
			got := relErr{err, filepath.Dir(path) + string(filepath.Separator)}.Error()
			if got != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s\nfile:\n%s", got, tt.want, tt.file)
			}
			if code := portal.ErrorCode(err); code != portal.EINVALID {
				t.Fatalf("ErrorCode = %q", code)
			}
		})
	}
}

func TestPolicyPlanErrors(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name, first, file, want string
	}{
		{name: "certificate without key, none stored", file: `apis:
  - name: mtls
    backend:
      url: https://x.example.com
      auth:
        certificate:
          cert_file: client.pem
`, want: "portico.yaml:6: apis[0].backend.auth.certificate: key_file required: the store holds no key for API mtls"},
		{name: "new certificate without key", first: `apis:
  - name: mtls
    backend:
      url: https://x.example.com
      auth: {certificate: {cert_file: client.pem, key_file: client-key.pem}}
`, file: `apis:
  - name: mtls
    backend:
      url: https://x.example.com
      auth: {certificate: {cert_file: client2.pem}}
`, want: "portico.yaml:5: apis[0].backend.auth.certificate: key_file required: the stored key does not go with this certificate"},
		{name: "stored key of another kind", first: `apis:
  - name: mtls
    backend:
      url: https://x.example.com
      auth: {basic: {username: u, password: p}}
`, file: `apis:
  - name: mtls
    backend:
      url: https://x.example.com
      auth: {certificate: {cert_file: client.pem}}
`, want: "portico.yaml:5: apis[0].backend.auth.certificate: key_file required: the store holds no key for API mtls"},
		{name: "placeholder without stored key", file: `apis:
  - name: secure
    backend:
      url: https://x.example.com
    policies:
      validate_jwt:
        signing_keys:
          - (stored symmetric key 1)
`, want: "portico.yaml:8: apis[0].policies.validate_jwt.signing_keys[0]: the store holds 0 symmetric keys for API secure, not 1: give the key itself (as ${ENV_NAME})"},
		{name: "placeholder past the stored keys", first: `apis:
  - name: secure
    backend:
      url: https://x.example.com
    policies:
      validate_jwt:
        signing_keys: ["${JWT_SECRET}"]
`, file: `apis:
  - name: secure
    backend:
      url: https://x.example.com
    policies:
      validate_jwt:
        signing_keys: ["(stored symmetric key 1)", "(stored symmetric key 2)"]
`, want: "portico.yaml:7: apis[0].policies.validate_jwt.signing_keys[1]: the store holds 1 symmetric keys for API secure, not 2: give the key itself (as ${ENV_NAME})"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			c := Config{Store: s, Getenv: policyTestEnv(nil)}
			if tt.first != "" {
				mustApply(t, writePolicyConfig(t, p, tt.first), c, PlanOptions{})
			}
			v := version(t, s)
			_, err := plan(t, writePolicyConfig(t, p, tt.file), c, PlanOptions{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.want)
			}
			if got := version(t, s); got != v {
				t.Fatalf("Version moved")
			}
		})
	}
}

// xmlConfig gives an API's policies as APIM XML, with the CA files its
// validate-client-certificate trusts beside it.
const xmlConfig = `apis:
  - name: migrated
    backend:
      url: https://legacy.example.com
    policies:
      client_certificate:
        ca_files: [ca.pem]
    policies_xml: |
      <policies>
        <inbound>
          <base />
          <ip-filter action="allow">
            <address>10.0.0.0/8</address>
            <address-range from="192.0.2.1" to="192.0.2.9" />
          </ip-filter>
          <validate-client-certificate validate-revocation="false" validate-not-after="false">
            <identities>
              <identity common-name="partner-app" />
            </identities>
          </validate-client-certificate>
          <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="403">
            <openid-config url="https://login.example.com/.well-known/openid-configuration" />
            <audiences><audience>api://migrated</audience></audiences>
          </validate-jwt>
          <rate-limit calls="20" renewal-period="60" />
          <authentication-basic username="svc" password="${BACKEND_PASSWORD}" />
        </inbound>
      </policies>
`

func TestPoliciesXML(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	s := openStore(t)
	c := Config{Store: s, Getenv: policyTestEnv(nil)}
	path := writePolicyConfig(t, p, xmlConfig)
	mustApply(t, path, c, PlanOptions{})
	a, err := s.FindAPIByName(ctx, "migrated")
	if err != nil {
		t.Fatal(err)
	}
	want := portal.API{
		Backend: portal.Backend{Auth: &portal.BackendAuth{Basic: &portal.BasicAuth{Username: "svc", Password: policyEnv["BACKEND_PASSWORD"]}}},
		Policies: portal.Policies{
			IPFilter: &portal.IPFilter{Action: "allow", Addresses: []string{"10.0.0.0/8"}, Ranges: []portal.IPRange{{From: "192.0.2.1", To: "192.0.2.9"}}},
			ClientCertificate: &portal.ClientCertificate{
				ValidateTrust: true, ValidateNotBefore: true, ValidateNotAfter: false,
				CACertificates: []string{p.caPEM},
				Identities:     []portal.CertificateIdentity{{CommonName: "partner-app"}},
			},
			ValidateJWT: &portal.ValidateJWT{
				Header: "Authorization", RequireScheme: "Bearer",
				OpenIDConfig:          []string{"https://login.example.com/.well-known/openid-configuration"},
				Audiences:             []string{"api://migrated"},
				RequireExpirationTime: true, RequireSignedTokens: true, FailedStatus: 403,
			},
			RateLimit: &portal.RateLimit{Calls: 20, Period: time.Minute},
		},
	}
	checkPolicies(t, "migrated", a, want)
	if pl, err := plan(t, path, c, PlanOptions{}); err != nil || !pl.Empty() {
		t.Fatalf("second plan: %v\n%s", err, diffText(t, pl))
	}

	// The export shows the converted policies as YAML, never the XML, and
	// applies as no change.
	var out bytes.Buffer
	if err := Export(ctx, c, &out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	exported := out.String()
	for _, never := range []string{"policies_xml", "<policies>", policyEnv["BACKEND_PASSWORD"]} {
		if strings.Contains(exported, never) {
			t.Fatalf("export has %q:\n%s", never, exported)
		}
	}
	for _, w := range []string{"validate_jwt:", "ip_filter:", "client_certificate:", "ca_certificates:", "common_name: partner-app", "failed_status: 403", "calls: 20"} {
		if !strings.Contains(exported, w) {
			t.Fatalf("export lacks %q:\n%s", w, exported)
		}
	}
	again := filepath.Join(t.TempDir(), "exported.yaml")
	if err := os.WriteFile(again, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if pl, err := plan(t, again, Config{Store: s, Getenv: envOf(nil)}, PlanOptions{}); err != nil || !pl.Empty() {
		t.Fatalf("plan of the export: %v\n%s", err, diffText(t, pl))
	}
}

func TestPoliciesXMLErrors(t *testing.T) {
	p := newPKI(t)
	const head = "apis:\n  - name: a\n    backend:\n      url: https://x.example.com\n" // the next line is 5
	tests := []struct {
		name, file string
		want       []string // each line of the error starts with one, in order
	}{
		{name: "unsupported elements", file: head + `    policies_xml: |
      <policies>
        <inbound>
          <set-header name="X" exists-action="override"><value>v</value></set-header>
          <cors />
        </inbound>
      </policies>
`, want: []string{"portico.yaml:5: apis[0].policies_xml: line 3: set-header: ", "portico.yaml:5: apis[0].policies_xml: line 4: cors: "}},
		{name: "not XML", file: head + "    policies_xml: \"<policies><inbound>\"\n",
			want: []string{"portico.yaml:5: apis[0].policies_xml: line 1: "}},
		{name: "backend auth twice", file: `apis:
  - name: a
    backend:
      url: https://x.example.com
      auth: {basic: {username: u, password: p}}
    policies_xml: |
      <inbound><authentication-basic username="svc" password="pw" /></inbound>
`, want: []string{"portico.yaml:5: apis[0].backend.auth: policies_xml (line 6) sets backend authentication too; keep one of them"}},
		{name: "trust without CA files", file: head + `    policies_xml: |
      <inbound><validate-client-certificate validate-revocation="false" /></inbound>
`, want: []string{"portico.yaml:5: apis[0].policies_xml: client_certificate: validate_trust needs at least one CA certificate (ca_files)."}},
		{name: "CA files without the policy", file: head + `    policies:
      client_certificate: {ca_files: [ca.pem]}
    policies_xml: |
      <inbound><rate-limit calls="1" renewal-period="1" /></inbound>
`, want: []string{"portico.yaml:6: apis[0].policies.client_certificate: policies_xml has no validate-client-certificate for these CA certificates"}},
		{name: "short symmetric key", file: head + `    policies_xml: |
      <inbound><validate-jwt header-name="Authorization"><issuer-signing-keys><key>c2hvcnQ=</key></issuer-signing-keys></validate-jwt></inbound>
`, want: []string{"portico.yaml:5: apis[0].policies_xml: validate-jwt: signing key 1: a symmetric key must be at least 32 bytes (256 bits), this one is 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writePolicyConfig(t, p, tt.file)
			_, err := Load(context.Background(), path, Config{Getenv: envOf(nil)})
			if err == nil {
				t.Fatalf("Load succeeded")
			}
			lines := strings.Split(relErr{err, filepath.Dir(path) + string(filepath.Separator)}.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("error:\n%s\nwant %d lines starting with:\n%s", strings.Join(lines, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Fatalf("error:\n%s\nwant lines starting with:\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}

func TestPoliciesXMLNotes(t *testing.T) {
	path := writeConfig(t, `apis:
  - name: a
    backend:
      url: https://x.example.com
    policies_xml: |
      <policies>
        <inbound><base /></inbound>
        <backend>
          <forward-request timeout="60" />
        </backend>
      </policies>
`)
	f, err := Load(context.Background(), path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	notes := f.Notes()
	prefix := path + ":5: apis[0].policies_xml: line 4: forward-request: "
	if len(notes) != 1 || !strings.HasPrefix(notes[0], prefix) {
		t.Fatalf("notes %q, want one starting with %q", notes, prefix)
	}
}
