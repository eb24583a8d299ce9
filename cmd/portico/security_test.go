package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA mints certificates for the end-to-end security test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue returns a leaf certificate for cn, for a server (with ip) or a
// client, valid from notBefore to notAfter.
func (ca *testCA) issue(t *testing.T, cn string, server bool, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mintRS256 signs claims with key as a compact JWS.
func mintRS256(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestGatewaySecurityEndToEnd starts the real binary with the gateway on
// TLS and a config file whose API uses every check of the chain and basic
// authentication to its backend, and calls it as clients would: the
// listener asks for client certificates and the API's policy decides.
func TestGatewaySecurityEndToEnd(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := newTestCA(t, "Server CA"), newTestCA(t, "Partner CA"), newTestCA(t, "Stranger CA")
	now := time.Now()
	serverCert := serverCA.issue(t, "gateway", true, now.Add(-time.Hour), now.Add(time.Hour))
	writePEM(t, filepath.Join(dir, "gw.pem"), "CERTIFICATE", serverCert.Certificate[0])
	keyDER, _ := x509.MarshalPKCS8PrivateKey(serverCert.PrivateKey)
	writePEM(t, filepath.Join(dir, "gw-key.pem"), "PRIVATE KEY", keyDER)
	writePEM(t, filepath.Join(dir, "clients-ca.pem"), "CERTIFICATE", clientCA.cert.Raw)

	signer, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&signer.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))

	var gotAuth []string
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Values("Authorization")
		io.WriteString(w, `{"ok":true}`)
	})
	config := fmt.Sprintf(`apis:
  - name: partners
    path: partners
    backend:
      url: %s
      auth:
        basic:
          username: gateway
          password: ${BACKEND_PASSWORD}
    policies:
      ip_filter: {action: allow, addresses: [127.0.0.0/8]}
      client_certificate:
        ca_files: [clients-ca.pem]
        identities: [{common_name: partner-app}]
      validate_jwt:
        header: X-Partner-Token
        signing_keys: [%q]
        issuers: [https://idp.example.com/]
        audiences: [api://partners]
products:
  - {name: partners, state: published, apis: [partners]}
users:
  - {email: ops@example.com, name: Ops}
subscriptions:
  - name: partner-a
    owner: ops@example.com
    scope: product:partners
    primary_key: ${PARTNER_KEY}
`, backend.URL, pubPEM)
	if err := os.WriteFile(filepath.Join(dir, "portico.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	const partnerKey = "partner-key-0123456789abcdef"
	in := startPortico(t, dir, []string{"BACKEND_PASSWORD=s3cret-backend", "PARTNER_KEY=" + partnerKey},
		"--config", "portico.yaml", "--gateway-tls-cert", "gw.pem", "--gateway-tls-key", "gw-key.pem")
	if !strings.HasPrefix(in.gateway, "https://") {
		t.Fatalf("gateway URL %s", in.gateway)
	}

	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)
	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: roots}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	partner := clientCA.issue(t, "partner-app", false, now.Add(-time.Hour), now.Add(time.Hour))
	impostor := otherCA.issue(t, "partner-app", false, now.Add(-time.Hour), now.Add(time.Hour))
	otherApp := clientCA.issue(t, "other-app", false, now.Add(-time.Hour), now.Add(time.Hour))
	expired := clientCA.issue(t, "partner-app", false, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	token := mintRS256(t, signer, map[string]any{"iss": "https://idp.example.com/", "aud": "api://partners",
		"sub": "partner-a", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	wrongAud := mintRS256(t, signer, map[string]any{"iss": "https://idp.example.com/", "aud": "api://orders",
		"sub": "partner-a", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})

	for _, tc := range []struct {
		name       string
		cert       *tls.Certificate
		header     map[string]string
		wantStatus int
		wantBody   string
	}{
		{"everything right", &partner, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": token}, 200, `{"ok":true}`},
		{"no client certificate", nil, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": token}, 403, "Invalid client certificate"},
		{"a certificate header is not a certificate", nil, map[string]string{"X-ARR-ClientCert": base64.StdEncoding.EncodeToString(partner.Certificate[0]), "Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": token}, 403, "Invalid client certificate"},
		{"another CA", &impostor, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": token}, 403, "Invalid client certificate"},
		{"another identity", &otherApp, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": token}, 403, "Invalid client certificate"},
		{"expired certificate", &expired, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": token}, 403, "Invalid client certificate"},
		{"no key", &partner, map[string]string{"X-Partner-Token": token}, 401, "missing subscription key"},
		{"no token", &partner, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey}, 401, "JWT not present."},
		{"wrong audience", &partner, map[string]string{"Ocp-Apim-Subscription-Key": partnerKey, "X-Partner-Token": wrongAud}, 401, "Audience validation failed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(backend.requests())
			req, _ := http.NewRequest("GET", in.gateway+"/partners/orders", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			req.Header.Set("Authorization", "Bearer caller-credential")
			res, err := client(tc.cert).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("= %d %s, want %d with %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			reached := len(backend.requests()) > before
			if reached != (tc.wantStatus == 200) {
				t.Fatalf("backend reached = %v for status %d", reached, res.StatusCode)
			}
			if tc.wantStatus == 200 {
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("gateway:s3cret-backend"))
				if len(gotAuth) != 1 || gotAuth[0] != want {
					t.Fatalf("backend got Authorization %q, want only the gateway's basic credential", gotAuth)
				}
				if strings.Contains(string(body), "s3cret") {
					t.Fatal("the backend credential reached the client")
				}
			}
		})
	}
	if strings.Contains(in.stderr.String(), "s3cret-backend") || strings.Contains(in.stderr.String(), token) {
		t.Fatal("a secret or token reached the log")
	}
}
