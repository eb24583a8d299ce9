package policyxml

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
	"golang.org/x/crypto/pkcs12"
)

// ipFilter converts ip-filter. Besides APIM's single addresses, an
// <address> may hold a CIDR, as Portico's ip_filter allows.
func (c *converter) ipFilter(n *node) {
	a := c.attrs(n, []string{"action"}, nil)
	c.noText(n)
	f := &portal.IPFilter{Action: strings.TrimSpace(a["action"])}
	if f.Action != portal.IPFilterAllow && f.Action != portal.IPFilterForbid {
		if _, ok := a["action"]; ok || !has(n, "action") {
			c.problem(n, "attribute action must be allow or forbid, not %q.", f.Action)
		}
		return
	}
	for _, ch := range n.children {
		switch ch.name {
		case "address":
			s, ok := c.value(ch)
			if !ok {
				continue
			}
			if _, err := portal.ParseIPPrefix(s); err != nil {
				c.problem(ch, "%q is not an IP address or CIDR.", s)
				continue
			}
			f.Addresses = append(f.Addresses, s)
		case "address-range":
			ra := c.attrs(ch, []string{"from", "to"}, nil)
			c.noText(ch)
			c.noChildren(ch)
			r := portal.IPRange{From: strings.TrimSpace(ra["from"]), To: strings.TrimSpace(ra["to"])}
			if err := (&portal.IPFilter{Action: f.Action, Ranges: []portal.IPRange{r}}).Validate(); err != nil {
				if _, ok1 := ra["from"]; ok1 || !has(ch, "from") {
					if _, ok2 := ra["to"]; ok2 || !has(ch, "to") {
						c.problem(ch, "%s", portal.ErrorMessage(err))
					}
				}
				continue
			}
			f.Ranges = append(f.Ranges, r)
		default:
			c.problem(ch, "not expected inside <ip-filter>.")
		}
	}
	if len(f.Addresses) == 0 && len(f.Ranges) == 0 {
		if len(n.children) == 0 {
			c.problem(n, "at least one address or address-range is required.")
		}
		return
	}
	if err := f.Validate(); err != nil {
		c.problem(n, "%s", portal.ErrorMessage(err))
	}
	c.res.Policies.IPFilter = f
}

// clientCertificate converts validate-client-certificate. APIM's defaults
// are true for every validate-* attribute, false for ignore-error. The CA
// certificates used when validate-trust is true are not in the XML (APIM
// keeps them in the instance's CA store): they come from the config file's
// client_certificate.ca_files, so the converted policy has none and the
// caller adds them before validating.
func (c *converter) clientCertificate(n *node) {
	a := c.attrs(n, []string{"validate-revocation", "validate-trust", "validate-not-before", "validate-not-after", "ignore-error"}, nil)
	c.noText(n)
	cc := &portal.ClientCertificate{
		ValidateTrust:     c.boolAttr(n, a, "validate-trust", true),
		ValidateNotBefore: c.boolAttr(n, a, "validate-not-before", true),
		ValidateNotAfter:  c.boolAttr(n, a, "validate-not-after", true),
	}
	if c.boolAttr(n, a, "validate-revocation", true) {
		if has(n, "validate-revocation") {
			c.problem(n, "validate-revocation=\"true\" is not supported: Portico does not check revocation lists; set it to false to convert.")
		} else {
			c.problem(n, "validate-revocation is true by default in APIM, and Portico does not check revocation lists; set validate-revocation=\"false\" to convert.")
		}
	}
	if c.boolAttr(n, a, "ignore-error", false) {
		c.problem(n, "ignore-error=\"true\" is not supported: Portico always refuses an invalid client certificate.")
	}
	if cc.ValidateTrust {
		c.note(n, "validate-trust: the trusted CA certificates come from client_certificate.ca_files in the config file, not from the XML.")
	}
	for _, ch := range n.children {
		if ch.name != "identities" {
			c.problem(ch, "not expected inside <validate-client-certificate>.")
			continue
		}
		c.attrs(ch, nil, nil)
		c.noText(ch)
		for _, e := range ch.children {
			if e.name != "identity" {
				c.problem(e, "not expected inside <identities>.")
				continue
			}
			if id, ok := c.identity(e); ok {
				cc.Identities = append(cc.Identities, id)
			}
		}
	}
	c.res.Policies.ClientCertificate = cc
}

func (c *converter) identity(n *node) (portal.CertificateIdentity, bool) {
	a := c.attrs(n, []string{"thumbprint", "serial-number", "common-name", "subject", "dns-name", "issuer-subject", "issuer-thumbprint"},
		map[string]string{
			"issuer-certificate-id": "certificates uploaded to APIM cannot be read; use issuer-subject or issuer-thumbprint, or trust the CA with ca_files in the config file.",
		})
	c.noText(n)
	c.noChildren(n)
	if len(a) < len(n.attrs) {
		return portal.CertificateIdentity{}, false // already reported
	}
	id := portal.CertificateIdentity{
		CommonName:    a["common-name"],
		DNSName:       a["dns-name"],
		Subject:       c.distinguishedName(n, "subject", a["subject"]),
		IssuerSubject: c.distinguishedName(n, "issuer-subject", a["issuer-subject"]),
	}
	var ok, ok2, ok3 bool
	id.Thumbprint, ok = c.hexAttr(n, "thumbprint", a["thumbprint"], 40)
	id.IssuerThumbprint, ok2 = c.hexAttr(n, "issuer-thumbprint", a["issuer-thumbprint"], 40)
	id.SerialNumber, ok3 = c.hexAttr(n, "serial-number", a["serial-number"], 0)
	if !ok || !ok2 || !ok3 {
		return id, false
	}
	if id.Empty() {
		c.problem(n, "an identity needs at least one attribute.")
		return id, false
	}
	return id, true
}

// hexAttr returns a thumbprint or serial number as upper-case hex without
// the spaces or colons that certificate viewers show. size is the number
// of hex digits required (40 for a SHA-1 thumbprint), 0 for any.
func (c *converter) hexAttr(n *node, name, s string, size int) (string, bool) {
	if s == "" {
		return "", true
	}
	clean := strings.ToUpper(strings.NewReplacer(" ", "", ":", "").Replace(s))
	if _, err := hex.DecodeString(clean); err != nil || (size > 0 && len(clean) != size) {
		if size > 0 {
			c.problem(n, "attribute %s must be %d hex digits (a SHA-1 thumbprint), not %q.", name, size, s)
		} else {
			c.problem(n, "attribute %s must be hex digits, not %q.", name, s)
		}
		return "", false
	}
	return clean, true
}

// distinguishedName rewrites a subject as .NET shows it ("CN=app, O=Contoso",
// values with commas in double quotes) to the RFC 4514 form that
// portal.CertificateIdentity holds ("CN=app,O=Contoso", commas escaped).
func (c *converter) distinguishedName(n *node, name, s string) string {
	if s == "" {
		return ""
	}
	var (
		rdns           []string
		cur            strings.Builder
		quoted, escape bool
	)
	flush := func() {
		rdns = append(rdns, strings.TrimSpace(cur.String()))
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case escape:
			cur.WriteRune(r)
			escape = false
		case r == '\\':
			cur.WriteRune(r)
			escape = true
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ',' || r == ';') && !quoted:
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	if quoted {
		c.problem(n, "attribute %s has an unclosed quote.", name)
		return s
	}
	for i, rdn := range rdns {
		typ, val, ok := strings.Cut(rdn, "=")
		if !ok || strings.TrimSpace(typ) == "" {
			c.problem(n, "attribute %s is not a distinguished name (CN=...,O=...).", name)
			return s
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = escapeDN(val[1 : len(val)-1])
		}
		rdns[i] = strings.TrimSpace(typ) + "=" + val
	}
	return strings.Join(rdns, ",")
}

// escapeDN escapes an attribute value as RFC 4514 section 2.4 asks.
func escapeDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// rateLimit converts rate-limit (per subscription, as Portico's).
func (c *converter) rateLimit(n *node) {
	a := c.attrs(n, []string{"calls", "renewal-period"}, map[string]string{
		"retry-after-header-name":       "Portico always sends Retry-After.",
		"retry-after-variable-name":     "Portico keeps no policy variables.",
		"remaining-calls-header-name":   "Portico does not send the remaining calls.",
		"remaining-calls-variable-name": "Portico keeps no policy variables.",
		"total-calls-header-name":       "Portico does not send the total calls.",
	})
	c.noText(n)
	for _, ch := range n.children {
		if ch.name == "api" || ch.name == "operation" {
			c.problem(ch, "limits per API or operation inside rate-limit are not supported; give the limit on the API itself.")
		} else {
			c.problem(ch, "not expected inside <rate-limit>.")
		}
	}
	calls, err1 := strconv.Atoi(strings.TrimSpace(a["calls"]))
	secs, err2 := strconv.Atoi(strings.TrimSpace(a["renewal-period"]))
	if err1 != nil || err2 != nil {
		if _, ok := a["calls"]; (ok || !has(n, "calls")) && err1 != nil {
			c.problem(n, "attribute calls must be a number, not %q.", a["calls"])
		}
		if _, ok := a["renewal-period"]; (ok || !has(n, "renewal-period")) && err2 != nil {
			c.problem(n, "attribute renewal-period must be a number of seconds, not %q.", a["renewal-period"])
		}
		return
	}
	rl := &portal.RateLimit{Calls: calls, Period: time.Duration(secs) * time.Second}
	if err := rl.Validate(); err != nil {
		c.problem(n, "%s", portal.ErrorMessage(err))
		return
	}
	c.res.Policies.RateLimit = rl
}

func (c *converter) authBasic(n *node) {
	a := c.attrs(n, []string{"username", "password"}, nil)
	c.noText(n)
	c.noChildren(n)
	if len(a) < len(n.attrs) {
		return // already reported
	}
	b := &portal.BackendAuth{Basic: &portal.BasicAuth{Username: a["username"], Password: a["password"]}}
	if !has(n, "password") {
		c.problem(n, "attribute password is required.")
		return
	}
	if err := b.Validate(); err != nil {
		c.problem(n, "%s", portal.ErrorMessage(err))
		return
	}
	c.res.BackendAuth = b
}

// authCertificate converts authentication-certificate given with body= (a
// base64 PKCS#12 file) and password=. Certificates referred to by
// thumbprint= or certificate-id= are uploaded to APIM and cannot be read.
func (c *converter) authCertificate(n *node) {
	const give = "certificates uploaded to APIM cannot be read; give backend.auth.certificate cert_file and key_file in the config file."
	a := c.attrs(n, []string{"body", "password"}, map[string]string{"thumbprint": give, "certificate-id": give})
	c.noText(n)
	c.noChildren(n)
	if len(a) < len(n.attrs) {
		return // already reported
	}
	if strings.TrimSpace(a["body"]) == "" {
		c.problem(n, "a certificate is required (body=); or give backend.auth.certificate cert_file and key_file in the config file.")
		return
	}
	certPEM, keyPEM, msg := fromPKCS12(a["body"], a["password"])
	if msg != "" {
		c.problem(n, "the body cannot be read: %s; give backend.auth.certificate cert_file and key_file in the config file instead.", msg)
		return
	}
	c.res.BackendAuth = &portal.BackendAuth{Certificate: &portal.CertificateAuth{CertificatePEM: certPEM, KeyPEM: keyPEM}}
}

// fromPKCS12 returns the certificate chain (leaf first) and the private key
// (PKCS #8) of a base64 PKCS#12 file. Its messages never hold the file or
// the password.
func fromPKCS12(body, password string) (certPEM, keyPEM, msg string) {
	der, err := decodeBase64(body)
	if err != nil {
		return "", "", "it is not base64"
	}
	blocks, err := pkcs12.ToPEM(der, password)
	if err != nil {
		// x/crypto/pkcs12 reads the legacy encryptions (3DES, RC2) that
		// APIM and Windows export, not OpenSSL 3's AES default.
		return "", "", "not a PKCS#12 file this converter can read (" + err.Error() + ")"
	}
	var (
		key   crypto.Signer
		certs []*x509.Certificate
	)
	for _, b := range blocks {
		switch b.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return "", "", "a certificate in it cannot be parsed"
			}
			certs = append(certs, cert)
		case "PRIVATE KEY":
			if key != nil {
				return "", "", "it holds more than one private key"
			}
			// ToPEM's "PRIVATE KEY" blocks are PKCS #1 (RSA) or SEC 1 (EC).
			if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
				key = k
			} else if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
				key = k
			} else {
				return "", "", "its private key cannot be parsed"
			}
		}
	}
	if key == nil || len(certs) == 0 {
		return "", "", "it needs a certificate and its private key"
	}
	leaf := -1
	for i, cert := range certs {
		if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(key.Public()) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return "", "", "no certificate in it matches the private key"
	}
	certs[0], certs[leaf] = certs[leaf], certs[0]
	var b strings.Builder
	for _, cert := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", "its private key cannot be re-encoded"
	}
	return b.String(), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})), ""
}

func (c *converter) authManagedIdentity(n *node) {
	c.problem(n, "Portico has no managed identity; use backend.auth.oauth_client_credentials (token_url, client_id, client_secret, scope) in the config file.")
}
