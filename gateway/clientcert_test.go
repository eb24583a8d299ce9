package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/portal"
)

// testCA mints certificates for the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mint signs tmpl with parent (nil: self-signed) and returns the parsed
// certificate.
func mint(t *testing.T, tmpl *x509.Certificate, pub *ecdsa.PublicKey, parent *testCA, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	p := tmpl
	if parent != nil {
		p, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestCA(t *testing.T, name string, parent *testCA) *testCA {
	t.Helper()
	k := newKey(t)
	now := time.Now()
	c := mint(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Portico Test"}},
		NotBefore:             now.Add(-48 * time.Hour),
		NotAfter:              now.Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, &k.PublicKey, parent, k)
	return &testCA{cert: c, key: k}
}

func (ca *testCA) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
}

// client issues a client certificate valid from nb to na, with the
// extended key usages eku (none given: client authentication).
func (ca *testCA) client(t *testing.T, cn string, nb, na time.Time, eku ...x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	if len(eku) == 0 {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	k := newKey(t)
	c := mint(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"Partner"}},
		DNSNames:    []string{cn + ".partner.example"},
		NotBefore:   nb,
		NotAfter:    na,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: eku,
	}, &k.PublicKey, ca, nil)
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}
}

func thumb(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return hex.EncodeToString(s[:])
}

// tlsClient returns a client of srv that presents cert (nil: none).
func tlsClient(srv *httptest.Server, cert *tls.Certificate) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}
	return &http.Client{Transport: tr}
}

// TestClientCertificate serves the real gateway over TLS with
// RequestClientCert, as cmd/portico does, and calls it with certificates
// from a test CA: valid, expired, not yet valid, from another CA, for the
// wrong usage, and through an intermediate the client sends.
func TestClientCertificate(t *testing.T) {
	rec := newRecorder(t)
	store := policyStore(t)
	root := newTestCA(t, "Portico Test Root", nil)
	inter := newTestCA(t, "Portico Test Issuing", root)
	other := newTestCA(t, "Someone Else", nil)
	now := time.Now()
	valid := root.client(t, "partner-app", now.Add(-time.Hour), now.Add(time.Hour))
	expired := root.client(t, "old-app", now.Add(-3*time.Hour), now.Add(-time.Hour))
	future := root.client(t, "new-app", now.Add(time.Hour), now.Add(3*time.Hour))
	wrongCA := other.client(t, "partner-app", now.Add(-time.Hour), now.Add(time.Hour))
	serverOnly := root.client(t, "server-app", now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageServerAuth)
	viaInter := inter.client(t, "chained-app", now.Add(-time.Hour), now.Add(time.Hour))
	viaInter.Certificate = append(viaInter.Certificate, inter.cert.Raw)
	viaInterAlone := viaInter
	viaInterAlone.Certificate = viaInter.Certificate[:1]

	full := func(ids ...portal.CertificateIdentity) portal.Policies {
		return portal.Policies{ClientCertificate: &portal.ClientCertificate{
			ValidateTrust: true, ValidateNotBefore: true, ValidateNotAfter: true,
			CACertificates: []string{root.pem()}, Identities: ids,
		}}
	}
	createPolicyAPI(t, store, "mtls", rec.URL, full())
	createPolicyAPI(t, store, "trustonly", rec.URL, portal.Policies{ClientCertificate: &portal.ClientCertificate{
		ValidateTrust: true, CACertificates: []string{root.pem()},
	}})
	createPolicyAPI(t, store, "datesonly", rec.URL, portal.Policies{ClientCertificate: &portal.ClientCertificate{
		ValidateNotBefore: true, ValidateNotAfter: true,
	}})
	leaf := valid.Leaf
	ids := map[string]portal.CertificateIdentity{
		"thumbprint":        {Thumbprint: strings.ToUpper(thumb(leaf))},
		"serial":            {SerialNumber: "00" + strings.ToUpper(leaf.SerialNumber.Text(16))},
		"commonname":        {CommonName: "partner-app"},
		"subject":           {Subject: "CN=partner-app,O=Partner"},
		"dnsname":           {DNSName: "PARTNER-APP.partner.example"},
		"issuersubject":     {IssuerSubject: "CN=Portico Test Root,O=Portico Test"},
		"issuerthumbprint":  {IssuerThumbprint: thumb(root.cert)},
		"interthumbprint":   {IssuerThumbprint: thumb(inter.cert)},
		"wrongthumbprint":   {Thumbprint: thumb(expired.Leaf)},
		"cnandwrongissuer":  {CommonName: "partner-app", IssuerSubject: "CN=Someone Else"},
		"cnandissuersubj":   {CommonName: "partner-app", IssuerSubject: "CN=Portico Test Root,O=Portico Test"},
		"wrongserial":       {SerialNumber: "ffff"},
		"notahexserial":     {SerialNumber: "zz"},
		"wrongcommonname":   {CommonName: "Partner-App"},
		"wrongdnsname":      {DNSName: "other.partner.example"},
		"wrongsubjectorder": {Subject: "O=Partner,CN=partner-app"},
	}
	for name, id := range ids {
		createPolicyAPI(t, store, "id"+name, rec.URL, full(id))
	}
	createPolicyAPI(t, store, "idany", rec.URL, full(portal.CertificateIdentity{CommonName: "nobody"}, portal.CertificateIdentity{CommonName: "partner-app"}))
	createPolicyAPI(t, store, "plain", rec.URL, portal.Policies{})

	h := start(t, store, func(c *gateway.Config) { c.DenialLog = store })
	srv := httptest.NewUnstartedServer(h.gw)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	const msg = "Invalid client certificate"
	var want []wantDenial
	for _, tc := range []struct {
		name   string
		api    string
		cert   *tls.Certificate
		want   int
		reason string
	}{
		{"valid", "mtls", &valid, 200, ""},
		{"no certificate", "mtls", nil, 403, "client_cert_missing"},
		{"expired", "mtls", &expired, 403, "client_cert_expired"},
		{"not yet valid", "mtls", &future, 403, "client_cert_not_yet_valid"},
		{"other CA", "mtls", &wrongCA, 403, "client_cert_untrusted"},
		{"server usage only", "mtls", &serverOnly, 403, "client_cert_untrusted"},
		{"through a sent intermediate", "mtls", &viaInter, 200, ""},
		{"intermediate not sent", "mtls", &viaInterAlone, 403, "client_cert_untrusted"},
		{"trust only: expired passes", "trustonly", &expired, 200, ""},
		{"trust only: not yet valid passes", "trustonly", &future, 200, ""},
		{"trust only: other CA", "trustonly", &wrongCA, 403, "client_cert_untrusted"},
		{"dates only: other CA passes", "datesonly", &wrongCA, 200, ""},
		{"dates only: expired", "datesonly", &expired, 403, "client_cert_expired"},
		{"dates only: no certificate", "datesonly", nil, 403, "client_cert_missing"},
		{"thumbprint, upper case", "idthumbprint", &valid, 200, ""},
		{"serial, upper case with a leading zero", "idserial", &valid, 200, ""},
		{"common name", "idcommonname", &valid, 200, ""},
		{"subject", "idsubject", &valid, 200, ""},
		{"DNS name", "iddnsname", &valid, 200, ""},
		{"issuer subject", "idissuersubject", &valid, 200, ""},
		{"issuer thumbprint", "idissuerthumbprint", &valid, 200, ""},
		{"issuer thumbprint of a sent intermediate", "idinterthumbprint", &viaInter, 200, ""},
		{"root thumbprint is not the issuer's", "idissuerthumbprint", &viaInter, 403, "client_cert_identity"},
		{"issuer thumbprint of another", "idinterthumbprint", &valid, 403, "client_cert_identity"},
		{"another thumbprint", "idwrongthumbprint", &valid, 403, "client_cert_identity"},
		{"one field of two wrong", "idcnandwrongissuer", &valid, 403, "client_cert_identity"},
		{"both fields right", "idcnandissuersubj", &valid, 200, ""},
		{"another serial", "idwrongserial", &valid, 403, "client_cert_identity"},
		{"serial not hex", "idnotahexserial", &valid, 403, "client_cert_identity"},
		{"common name with another case", "idwrongcommonname", &valid, 403, "client_cert_identity"},
		{"another DNS name", "idwrongdnsname", &valid, 403, "client_cert_identity"},
		{"subject in another order", "idwrongsubjectorder", &valid, 403, "client_cert_identity"},
		{"second identity matches", "idany", &valid, 200, ""},
		{"identity check after trust", "idcommonname", &wrongCA, 403, "client_cert_untrusted"},
		{"API without the policy, no certificate", "plain", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _, _ := rec.state()
			res := doWith(t, tlsClient(srv, tc.cert), srv.URL+"/"+tc.api+"/x", nil)
			if res.status != tc.want {
				t.Fatalf("status = %d, want %d (%s)", res.status, tc.want, res.body)
			}
			after, _, _ := rec.state()
			if tc.want == 200 {
				if after != before+1 {
					t.Fatal("the backend was not called")
				}
				return
			}
			if after != before {
				t.Fatal("the backend was called for a refused certificate")
			}
			if res.body != errorBody(403, msg) {
				t.Fatalf("body = %s", res.body)
			}
			detail := "no client certificate"
			if tc.cert != nil {
				detail = thumb(tc.cert.Leaf) // the detail names the certificate
			}
			want = append(want, wantDenial{res.header.Get("X-Request-Id"), tc.api, tc.reason, detail, 403})
		})
	}

	// Certificate headers are the client's word: never believed, over
	// plain HTTP or over TLS without a certificate.
	b64 := base64.StdEncoding.EncodeToString(valid.Leaf.Raw)
	pemText := strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: valid.Leaf.Raw})), "\n", " ")
	headers := http.Header{
		"X-Arr-Clientcert":  {b64},
		"X-Client-Cert":     {b64},
		"X-Ssl-Client-Cert": {pemText},
		"Ssl-Client-Cert":   {b64},
	}
	for _, via := range []struct {
		name   string
		client *http.Client
		url    string
	}{
		{"plain HTTP", http.DefaultClient, h.srv.URL},
		{"TLS without a certificate", tlsClient(srv, nil), srv.URL},
	} {
		t.Run("certificate headers ignored over "+via.name, func(t *testing.T) {
			before, _, _ := rec.state()
			res := doWith(t, via.client, via.url+"/mtls/x", headers)
			if res.status != 403 || res.body != errorBody(403, msg) {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if after, _, _ := rec.state(); after != before {
				t.Fatal("the backend was called")
			}
			want = append(want, wantDenial{res.header.Get("X-Request-Id"), "mtls", "client_cert_missing", "no client certificate", 403})
		})
	}
	checkDenials(t, store, want)
}
