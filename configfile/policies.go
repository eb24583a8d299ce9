package configfile

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/policyxml"
	"github.com/porticoapi/portico/portal"
	"go.yaml.in/yaml/v3"
)

// The keys of an API's policies and backend authentication.
var (
	policiesKeys    = keys{known: []string{"validate_jwt", "ip_filter", "client_certificate", "rate_limit"}}
	validateJWTKeys = keys{known: []string{"header", "query", "require_scheme", "openid_config", "signing_keys", "issuers", "audiences",
		"required_claims", "clock_skew", "require_expiration_time", "require_signed_tokens", "failed_status", "failed_message"}}
	claimKeys       = keys{known: []string{"name", "match", "values", "separator"}}
	ipFilterKeys    = keys{known: []string{"action", "addresses", "ranges"}}
	ipRangeKeys     = keys{known: []string{"from", "to"}}
	clientCertKeys  = keys{known: []string{"validate_trust", "validate_not_before", "validate_not_after", "ca_files", "ca_certificates", "identities"}}
	identityKeys    = keys{known: []string{"thumbprint", "serial_number", "common_name", "subject", "dns_name", "issuer_subject", "issuer_thumbprint"}}
	backendAuthKeys = keys{known: []string{"basic", "certificate", "oauth_client_credentials"}}
	basicKeys       = keys{known: []string{"username", "password"}}
	certAuthKeys    = keys{known: []string{"cert_file", "key_file", "cert_pem", "key_pem"}}
	oauthKeys       = keys{known: []string{"token_url", "client_id", "client_secret", "scope", "resource"}}
)

// mark records the line of a key given by its full path ("apis[0].x.y").
func (e *entry) mark(path string, line int) {
	e.lines[strings.TrimPrefix(path, e.key+".")] = line
}

// lineOf returns the line of a key given by its full path, or the object's.
func (e *entry) lineOf(path string) int {
	if l, ok := e.lines[strings.TrimPrefix(path, e.key+".")]; ok {
		return l
	}
	return e.line
}

// invalid reports err, a portal validation error, at line and key, without
// the policy-name prefix ("ip_filter: ") that the key already says.
func (d *decoder) invalid(line int, key string, err error, prefix string) {
	msg := strings.TrimPrefix(portal.ErrorMessage(err), prefix)
	d.errs.add(line, key, portal.Errorf(portal.EINVALID, "%s", msg))
}

// readFile reads a file named in the config file, relative to it.
func (d *decoder) readFile(name string) ([]byte, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(d.dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %v", name, err)
	}
	return data, nil
}

// policies decodes an API's policies into e.api.Policies.
func (d *decoder) policies(e *apiEntry, n *yaml.Node, path string) {
	pol := &e.api.Policies
	d.fields(n, path, policiesKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.mark(p, kn.Line)
		if isNull(vn) {
			return
		}
		switch key {
		case "validate_jwt":
			pol.ValidateJWT = d.validateJWT(e, vn, p)
		case "ip_filter":
			pol.IPFilter = d.ipFilter(e, vn, p)
		case "client_certificate":
			pol.ClientCertificate = d.clientCertificate(e, vn, p)
		case "rate_limit":
			before := d.errs.len()
			pol.RateLimit = d.rateLimit(vn, p)
			if d.errs.len() == before {
				if err := pol.RateLimit.Validate(); err != nil {
					d.invalid(kn.Line, p, err, "")
				}
			}
		}
	})
}

// rateLimit decodes {calls, period}.
func (d *decoder) rateLimit(n *yaml.Node, path string) *portal.RateLimit {
	rl := &portal.RateLimit{}
	d.fields(n, path, rateLimitKeys, func(key string, _, vn *yaml.Node, p string) {
		switch key {
		case "calls":
			d.integer(vn, p, &rl.Calls)
		case "period":
			d.duration(vn, p, &rl.Period)
		}
	})
	return rl
}

// jwtProbe validates a ValidateJWT that is valid but for what set
// changes, so that portal's message for one field lands on that field's
// line.
func jwtProbe(set func(v *portal.ValidateJWT)) error {
	v := &portal.ValidateJWT{Header: portal.DefaultJWTHeader, FailedStatus: portal.DefaultJWTFailedStatus}
	set(v)
	return v.Validate()
}

func (d *decoder) validateJWT(e *apiEntry, n *yaml.Node, path string) *portal.ValidateJWT {
	v := &portal.ValidateJWT{RequireExpirationTime: true, RequireSignedTokens: true}
	before := d.errs.len()
	const prefix = "validate_jwt: "
	probe := func(line int, p string, set func(v *portal.ValidateJWT)) {
		if err := jwtProbe(set); err != nil {
			d.invalid(line, p, err, prefix)
		}
	}
	d.fields(n, path, validateJWTKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.mark(p, kn.Line)
		switch key {
		case "header":
			if d.setStr(vn, p, &v.Header) {
				probe(kn.Line, p, func(x *portal.ValidateJWT) { x.Header = v.Header })
			}
		case "query":
			if d.setStr(vn, p, &v.Query) {
				probe(kn.Line, p, func(x *portal.ValidateJWT) { x.Header, x.Query = "", v.Query })
			}
		case "require_scheme":
			d.setStr(vn, p, &v.RequireScheme)
		case "openid_config":
			v.OpenIDConfig = d.strOrList(vn, p, func(line int, ip, s string) bool {
				e.mark(ip, line)
				if err := jwtProbe(func(x *portal.ValidateJWT) { x.OpenIDConfig = []string{s} }); err != nil {
					d.invalid(line, ip, err, prefix)
					return false
				}
				return true
			})
		case "signing_keys":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				s, _, ok := d.scalar(item, ip, "a PEM, JWK or base64 key")
				if !ok {
					return
				}
				e.mark(ip, item.Line)
				if err := checkSigningKey(s); err != nil {
					d.errs.addf(item.Line, ip, "%s", err)
					return
				}
				v.SigningKeys = append(v.SigningKeys, s)
			})
		case "issuers":
			v.Issuers = d.strs(vn, p)
		case "audiences":
			v.Audiences = d.strs(vn, p)
		case "required_claims":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				c := portal.RequiredClaim{}
				cb := d.errs.len()
				d.fields(item, ip, claimKeys, func(key string, kn, vn *yaml.Node, cp string) {
					e.mark(cp, kn.Line)
					switch key {
					case "name":
						d.setStr(vn, cp, &c.Name)
					case "match":
						d.enum(vn, cp, &c.Match, portal.ClaimMatchAll, portal.ClaimMatchAny)
					case "values":
						c.Values = d.strs(vn, cp)
					case "separator":
						d.setStr(vn, cp, &c.Separator)
					}
				})
				if c.Match == "" {
					c.Match = portal.ClaimMatchAll
				}
				if d.errs.len() == cb {
					probe(item.Line, ip, func(x *portal.ValidateJWT) { x.RequiredClaims = []portal.RequiredClaim{c} })
				}
				v.RequiredClaims = append(v.RequiredClaims, c)
			})
		case "clock_skew":
			d.duration(vn, p, &v.ClockSkew)
			probe(kn.Line, p, func(x *portal.ValidateJWT) { x.ClockSkew = v.ClockSkew })
		case "require_expiration_time":
			d.boolean(vn, p, &v.RequireExpirationTime)
		case "require_signed_tokens":
			d.boolean(vn, p, &v.RequireSignedTokens)
		case "failed_status":
			cb := d.errs.len()
			d.integer(vn, p, &v.FailedStatus)
			if d.errs.len() == cb {
				probe(kn.Line, p, func(x *portal.ValidateJWT) { x.FailedStatus = v.FailedStatus })
			}
		case "failed_message":
			d.setStr(vn, p, &v.FailedMessage)
		}
	})
	v.Normalize()
	if d.errs.len() == before {
		if err := v.Validate(); err != nil {
			d.invalid(e.lineOf(path), path, err, prefix)
		}
	}
	return v
}

// strOrList returns a string, or a list of strings, as a list; check
// says whether to keep each item.
func (d *decoder) strOrList(n *yaml.Node, path string, check func(line int, path, s string) bool) []string {
	var out []string
	if n.Kind == yaml.ScalarNode {
		if s, _, ok := d.scalar(n, path, "a string or a list of strings"); ok && check(n.Line, path, s) {
			out = append(out, s)
		}
		return out
	}
	d.list(n, path, func(_ int, item *yaml.Node, ip string) {
		if s, _, ok := d.scalar(item, ip, "a string"); ok && check(item.Line, ip, s) {
			out = append(out, s)
		}
	})
	return out
}

func (d *decoder) ipFilter(e *apiEntry, n *yaml.Node, path string) *portal.IPFilter {
	f := &portal.IPFilter{}
	before := d.errs.len()
	const prefix = "ip_filter: "
	actionSet := false
	d.fields(n, path, ipFilterKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.mark(p, kn.Line)
		switch key {
		case "action":
			actionSet = true
			d.enum(vn, p, &f.Action, portal.IPFilterAllow, portal.IPFilterForbid)
		case "addresses":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				s, _, ok := d.scalar(item, ip, "an address or CIDR")
				if !ok {
					return
				}
				if _, err := portal.ParseIPPrefix(s); err != nil {
					d.invalid(item.Line, ip, err, prefix)
					return
				}
				f.Addresses = append(f.Addresses, s)
			})
		case "ranges":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				var r portal.IPRange
				rb := d.errs.len()
				d.fields(item, ip, ipRangeKeys, func(key string, _, vn *yaml.Node, rp string) {
					switch key {
					case "from":
						d.setStr(vn, rp, &r.From)
					case "to":
						d.setStr(vn, rp, &r.To)
					}
				})
				if d.errs.len() != rb {
					return
				}
				probe := portal.IPFilter{Action: portal.IPFilterAllow, Ranges: []portal.IPRange{r}}
				if err := probe.Validate(); err != nil {
					d.invalid(item.Line, ip, err, prefix)
					return
				}
				f.Ranges = append(f.Ranges, r)
			})
		}
	})
	if !actionSet {
		d.errs.addf(e.lineOf(path), path, "action required (allow or forbid)")
		return f
	}
	if d.errs.len() == before {
		if err := f.Validate(); err != nil {
			d.invalid(e.lineOf(path), path, err, prefix)
		}
	}
	return f
}

func (d *decoder) clientCertificate(e *apiEntry, n *yaml.Node, path string) *portal.ClientCertificate {
	// APIM validates trust and both dates unless told not to.
	c := &portal.ClientCertificate{ValidateTrust: true, ValidateNotBefore: true, ValidateNotAfter: true}
	before := d.errs.len()
	d.fields(n, path, clientCertKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.mark(p, kn.Line)
		switch key {
		case "validate_trust":
			d.boolean(vn, p, &c.ValidateTrust)
		case "validate_not_before":
			d.boolean(vn, p, &c.ValidateNotBefore)
		case "validate_not_after":
			d.boolean(vn, p, &c.ValidateNotAfter)
		case "ca_files":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				name, _, ok := d.scalar(item, ip, "a file name")
				if !ok {
					return
				}
				data, err := d.readFile(name)
				if err != nil {
					d.errs.addf(item.Line, ip, "%s", err)
					return
				}
				certs, err := parseCertificates(data)
				if err != nil {
					d.errs.addf(item.Line, ip, "%s: %s", name, err)
					return
				}
				c.CACertificates = append(c.CACertificates, certs...)
			})
		case "ca_certificates":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				s, _, ok := d.scalar(item, ip, "a PEM certificate")
				if !ok {
					return
				}
				certs, err := parseCertificates([]byte(s))
				if err != nil {
					d.errs.addf(item.Line, ip, "%s", err)
					return
				}
				c.CACertificates = append(c.CACertificates, certs...)
			})
		case "identities":
			d.list(vn, p, func(_ int, item *yaml.Node, ip string) {
				var id portal.CertificateIdentity
				ib := d.errs.len()
				d.fields(item, ip, identityKeys, func(key string, _, vn *yaml.Node, kp string) {
					dst := map[string]*string{
						"thumbprint": &id.Thumbprint, "serial_number": &id.SerialNumber, "common_name": &id.CommonName,
						"subject": &id.Subject, "dns_name": &id.DNSName, "issuer_subject": &id.IssuerSubject,
						"issuer_thumbprint": &id.IssuerThumbprint,
					}[key]
					d.setStr(vn, kp, dst)
				})
				if d.errs.len() == ib && id.Empty() {
					d.errs.addf(item.Line, ip, "an identity needs at least one of %s", strings.Join(identityKeys.known, ", "))
					return
				}
				c.Identities = append(c.Identities, id)
			})
		}
	})
	if d.errs.len() == before {
		if err := c.Validate(); err != nil {
			d.invalid(e.lineOf(path), path, err, "client_certificate: ")
		}
	}
	return c
}

// parseCertificates returns each certificate of PEM data, re-encoded alone,
// so that a CA file and the ca_certificates an export writes for it give
// the same stored list.
func parseCertificates(data []byte) ([]string, error) {
	var out []string
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %s block; only certificates belong here", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(out)+1, err)
		}
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes})))
	}
	if len(out) == 0 {
		return nil, errors.New("holds no PEM certificate")
	}
	return out, nil
}

// storedKeyRef matches the placeholder an export writes for a symmetric
// signing key it leaves out.
var storedKeyRef = regexp.MustCompile(`^\(stored symmetric key ([1-9][0-9]{0,3})\)$`)

// storedKeyText is the placeholder for the n-th (1-based) stored symmetric
// signing key of an API.
func storedKeyText(n int) string { return fmt.Sprintf("(stored symmetric key %d)", n) }

// minSymmetricKey is the shortest HMAC key accepted: RFC 7518 section 3.2
// requires at least the hash size, 256 bits for HS256.
const minSymmetricKey = 32

// checkSigningKey accepts a public key or certificate in PEM, a public or
// symmetric JWK, a base64 symmetric key, or the placeholder of a stored
// symmetric key. Its messages never quote the key: it may be a secret.
func checkSigningKey(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case storedKeyRef.MatchString(s):
		return nil
	case strings.HasPrefix(s, "-----BEGIN"):
		b, rest := pem.Decode([]byte(s))
		if b == nil || len(strings.TrimSpace(string(rest))) > 0 {
			return errors.New("want one PEM block (a public key or a certificate)")
		}
		var err error
		switch b.Type {
		case "CERTIFICATE":
			_, err = x509.ParseCertificate(b.Bytes)
		case "PUBLIC KEY":
			_, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			_, err = x509.ParsePKCS1PublicKey(b.Bytes)
		default:
			if strings.Contains(b.Type, "PRIVATE") {
				return fmt.Errorf("a %s must not be given: give its public key or certificate", b.Type)
			}
			return fmt.Errorf("a PEM %s block is not a signing key; want PUBLIC KEY or CERTIFICATE", b.Type)
		}
		if err != nil {
			return fmt.Errorf("the PEM %s does not parse: %v", b.Type, err)
		}
		return nil
	case strings.HasPrefix(s, "{"):
		var jwk map[string]any
		if err := json.Unmarshal([]byte(s), &jwk); err != nil {
			return errors.New("the JWK is not valid JSON")
		}
		str := func(k string) string { v, _ := jwk[k].(string); return v }
		need := map[string][]string{"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}, "oct": {"k"}}
		fields, ok := need[str("kty")]
		if !ok {
			return errors.New("the JWK needs kty RSA, EC, OKP or oct")
		}
		for _, f := range fields {
			if str(f) == "" {
				return fmt.Errorf("the %s JWK needs %s", str("kty"), f)
			}
		}
		if str("kty") != "oct" && jwk["d"] != nil {
			return errors.New("the JWK holds a private key: give the public key only")
		}
		if str("kty") == "oct" {
			if k, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(str("k"), "=")); err != nil || len(k) < minSymmetricKey {
				return fmt.Errorf("the oct JWK's k must be base64url of at least %d bytes", minSymmetricKey)
			}
		}
		return nil
	}
	k, ok := decodeBase64(s)
	if !ok {
		return errors.New("want a PEM public key or certificate, a JWK, or a base64 symmetric key")
	}
	if len(k) < minSymmetricKey {
		return fmt.Errorf("a symmetric key must be at least %d bytes (256 bits), this one is %d", minSymmetricKey, len(k))
	}
	return nil
}

func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// symmetricKey reports whether a signing key is a secret: a base64 key or
// an oct JWK (anything but PEM and asymmetric JWKs).
func symmetricKey(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		return false
	}
	if strings.HasPrefix(s, "{") {
		var jwk struct {
			Kty string `json:"kty"`
		}
		return json.Unmarshal([]byte(s), &jwk) != nil || jwk.Kty == "oct"
	}
	return true
}

// backendAuth decodes backend.auth. Secrets left out (password,
// client_secret, the key) are filled from the store by Plan.
func (d *decoder) backendAuth(e *apiEntry, n *yaml.Node, path string) *portal.BackendAuth {
	b := &portal.BackendAuth{}
	before := d.errs.len()
	var given []string
	d.fields(n, path, backendAuthKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.mark(p, kn.Line)
		if isNull(vn) {
			return
		}
		given = append(given, key)
		switch key {
		case "basic":
			b.Basic = &portal.BasicAuth{}
			d.fields(vn, p, basicKeys, func(key string, kn, vn *yaml.Node, bp string) {
				e.mark(bp, kn.Line)
				switch key {
				case "username":
					if d.setStr(vn, bp, &b.Basic.Username) {
						probe := portal.BackendAuth{Basic: &portal.BasicAuth{Username: b.Basic.Username}}
						if err := probe.Validate(); err != nil {
							d.invalid(kn.Line, bp, err, "backend auth basic: ")
						}
					}
				case "password":
					e.passwordSet = d.setStr(vn, bp, &b.Basic.Password)
				}
			})
			if _, ok := e.lines[strings.TrimPrefix(p, e.key+".")+".username"]; !ok && d.errs.len() == before {
				d.errs.addf(kn.Line, p, "username required")
			}
		case "certificate":
			b.Certificate = d.certificateAuth(e, kn, vn, p)
		case "oauth_client_credentials":
			o := &portal.OAuthClientCredentials{}
			b.OAuthClientCredentials = o
			d.fields(vn, p, oauthKeys, func(key string, kn, vn *yaml.Node, op string) {
				e.mark(op, kn.Line)
				switch key {
				case "token_url":
					if d.setStr(vn, op, &o.TokenURL) {
						probe := portal.BackendAuth{OAuthClientCredentials: &portal.OAuthClientCredentials{TokenURL: o.TokenURL, ClientID: "x"}}
						if err := probe.Validate(); err != nil {
							d.invalid(kn.Line, op, err, "backend auth oauth_client_credentials: ")
						}
					}
				case "client_id":
					d.setStr(vn, op, &o.ClientID)
				case "client_secret":
					e.clientSecretSet = d.setStr(vn, op, &o.ClientSecret)
				case "scope":
					d.setStr(vn, op, &o.Scope)
				case "resource":
					d.setStr(vn, op, &o.Resource)
				}
			})
		}
	})
	switch {
	case d.errs.len() != before:
	case len(given) == 0:
		d.errs.addf(e.lineOf(path), path, "give one of basic, certificate and oauth_client_credentials, or leave auth out")
	case len(given) > 1:
		d.errs.addf(e.lineOf(path), path, "give only one of basic, certificate and oauth_client_credentials, not %s", strings.Join(given, " and "))
	default:
		if err := withKeyStandIn(b, e.keySet).Validate(); err != nil {
			line, key, strip := e.lineOf(path), path, "backend auth "
			if method, field, ok := strings.Cut(strings.TrimPrefix(portal.ErrorMessage(err), strip), ": "); ok && strings.HasSuffix(field, " is required.") {
				// "oauth_client_credentials: client_id is required." belongs
				// to oauth_client_credentials.
				key = path + "." + method
				line, strip = e.lineOf(key), strip+method+": "
			}
			d.invalid(line, key, err, strip)
		}
	}
	return b
}

// certificateAuth decodes backend.auth.certificate: the certificate from
// cert_file or cert_pem, its key from key_file or key_pem, or from the
// store when both are left out.
func (d *decoder) certificateAuth(e *apiEntry, kn, n *yaml.Node, path string) *portal.CertificateAuth {
	c := &portal.CertificateAuth{}
	before := d.errs.len()
	var certFrom, keyFrom []string
	d.fields(n, path, certAuthKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.mark(p, kn.Line)
		var text string
		if !d.setStr(vn, p, &text) {
			return
		}
		switch key {
		case "cert_file", "key_file":
			data, err := d.readFile(text)
			if err != nil {
				d.errs.addf(kn.Line, p, "%s", err)
				return
			}
			text = string(data)
		}
		switch key {
		case "cert_file", "cert_pem":
			certFrom = append(certFrom, key)
			c.CertificatePEM = text
			if _, err := parseCertificateChain([]byte(text)); err != nil {
				d.errs.addf(kn.Line, p, "%s", err)
			}
		case "key_file", "key_pem":
			keyFrom = append(keyFrom, key)
			c.KeyPEM = text
			e.keySet = true
		}
	})
	switch {
	case len(certFrom) == 0 && d.errs.len() == before:
		d.errs.addf(kn.Line, path, "cert_file required")
	case len(certFrom) > 1:
		d.errs.addf(kn.Line, path, "give cert_file or cert_pem, not both")
	case len(keyFrom) > 1:
		d.errs.addf(kn.Line, path, "give key_file or key_pem, not both")
	case d.errs.len() == before && e.keySet:
		if _, err := tls.X509KeyPair([]byte(c.CertificatePEM), []byte(c.KeyPEM)); err != nil {
			line, key := e.lineOf(path+"."+keyFrom[0]), path+"."+keyFrom[0]
			d.errs.addf(line, key, "the key does not go with the certificate: %s", strings.TrimPrefix(err.Error(), "tls: "))
		}
	}
	return c
}

// parseCertificateChain checks that PEM data holds at least one
// certificate and nothing but certificates.
func parseCertificateChain(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %s block; the certificate (chain) goes here, its key in key_file", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("holds no PEM certificate")
	}
	return certs, nil
}

// policiesXML converts an API's policies_xml into its policies, and its
// backend authentication unless the file gives backend.auth. Problems are
// reported at the line of the policies_xml key, each with its XML line.
//
// Beside policies_xml, policies may hold only client_certificate.ca_files
// or ca_certificates: the CAs that the XML's validate-client-certificate
// trusts, which APIM keeps outside the policy document.
func (d *decoder) policiesXML(e *apiEntry, text string) {
	line, key := e.at("policies_xml")
	for k := range e.lines {
		switch k {
		case "policies", "policies.client_certificate", "policies.client_certificate.ca_files", "policies.client_certificate.ca_certificates":
			continue
		}
		if strings.HasPrefix(k, "policies.") {
			d.errs.addf(line, key, "give policies or policies_xml, not both (beside policies_xml, policies may hold only client_certificate.ca_files or ca_certificates)")
			return
		}
	}
	fileCAs := e.api.Policies.ClientCertificate
	res, err := policyxml.Convert([]byte(text))
	if err != nil {
		var xe *policyxml.Error
		if errors.As(err, &xe) && len(xe.Problems) > 0 {
			for _, p := range xe.Problems {
				d.errs.addf(line, key, "%s", p.String())
			}
			return
		}
		d.errs.addf(line, key, "%s", err)
		return
	}
	a := &e.api
	a.Policies = res.Policies
	notes := res.Notes
	if fileCAs != nil {
		cc := a.Policies.ClientCertificate
		if cc == nil {
			l, k := e.at("policies.client_certificate")
			d.errs.addf(l, k, "policies_xml has no validate-client-certificate for these CA certificates")
			return
		}
		cc.CACertificates = append(cc.CACertificates, fileCAs.CACertificates...)
		notes = slices.DeleteFunc(slices.Clone(notes), func(p policyxml.Problem) bool {
			return p.Element == "validate-client-certificate" && strings.HasPrefix(p.Message, "validate-trust:")
		})
	}
	for _, p := range notes {
		d.notes = append(d.notes, &Error{File: d.errs.file, Line: line, Key: key, Err: errors.New(p.String())})
	}
	if !res.BackendAuth.Empty() {
		if _, ok := e.lines["backend.auth"]; ok {
			l, k := e.at("backend.auth")
			d.errs.addf(l, k, "policies_xml (line %d) sets backend authentication too; keep one of them", line)
			return
		}
		a.Backend.Auth = res.BackendAuth
		// Everything the XML says is given: nothing comes from the store.
		e.passwordSet, e.clientSecretSet, e.keySet = true, true, true
	}
	if v := a.Policies.ValidateJWT; v != nil {
		v.Normalize()
		for i, k := range v.SigningKeys {
			if storedKeyRef.MatchString(strings.TrimSpace(k)) {
				d.errs.addf(line, key, "validate-jwt: signing key %d: a stored key placeholder cannot come from XML", i+1)
			} else if err := checkSigningKey(k); err != nil {
				d.errs.addf(line, key, "validate-jwt: signing key %d: %s", i+1, err)
			}
		}
	}
	if err := a.Policies.Validate(); err != nil {
		d.errs.add(line, key, err)
	}
	if err := a.Backend.Auth.Validate(); err != nil {
		d.errs.add(line, key, err)
	}
}

// withStoredSecrets returns the API the file wants, with the secrets it
// leaves out taken from the stored API have (nil when new): a backend
// password, client secret or private key of the same kind of backend
// authentication, and the stored symmetric signing keys that an export's
// placeholders stand for. Problems go to errs.
func (e *apiEntry) withStoredSecrets(have *portal.API, errs *errorList) portal.API {
	want := e.api
	want.Policies = clonePolicies(e.api.Policies)
	var stored *portal.BackendAuth
	if have != nil {
		stored = have.Backend.Auth
	}
	if a := e.api.Backend.Auth; a != nil {
		c := *a
		switch {
		case c.Basic != nil:
			b := *c.Basic
			if !e.passwordSet && stored != nil && stored.Basic != nil {
				b.Password = stored.Basic.Password
			}
			c.Basic = &b
		case c.Certificate != nil:
			ca := *c.Certificate
			if !e.keySet {
				line, key := e.at("backend.auth.certificate")
				if stored == nil || stored.Certificate == nil {
					errs.addf(line, key, "key_file required: the store holds no key for API %s", want.Name)
				} else if _, err := tls.X509KeyPair([]byte(ca.CertificatePEM), []byte(stored.Certificate.KeyPEM)); err != nil {
					errs.addf(line, key, "key_file required: the stored key does not go with this certificate")
				} else {
					ca.KeyPEM = stored.Certificate.KeyPEM
				}
			}
			c.Certificate = &ca
		case c.OAuthClientCredentials != nil:
			o := *c.OAuthClientCredentials
			if !e.clientSecretSet && stored != nil && stored.OAuthClientCredentials != nil {
				o.ClientSecret = stored.OAuthClientCredentials.ClientSecret
			}
			c.OAuthClientCredentials = &o
		}
		want.Backend.Auth = &c
	}
	if v := want.Policies.ValidateJWT; v != nil {
		var keep []string // the stored symmetric keys, in order
		if have != nil && have.Policies.ValidateJWT != nil {
			for _, k := range have.Policies.ValidateJWT.SigningKeys {
				if symmetricKey(k) {
					keep = append(keep, k)
				}
			}
		}
		for i, k := range v.SigningKeys {
			m := storedKeyRef.FindStringSubmatch(strings.TrimSpace(k))
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			if n > len(keep) {
				line, key := e.at(fmt.Sprintf("policies.validate_jwt.signing_keys[%d]", i))
				errs.addf(line, key, "the store holds %d symmetric keys for API %s, not %d: give the key itself (as ${ENV_NAME})", len(keep), want.Name, n)
				continue
			}
			v.SigningKeys[i] = keep[n-1]
		}
	}
	return want
}

// clonePolicies copies p deeply enough that changing the copy's signing
// keys leaves p alone.
func clonePolicies(p portal.Policies) portal.Policies {
	if p.ValidateJWT != nil {
		v := *p.ValidateJWT
		v.SigningKeys = append([]string(nil), v.SigningKeys...)
		p.ValidateJWT = &v
	}
	return p
}

// withKeyStandIn returns b, or when b is a certificate whose key comes from
// the store (Plan fills it), a copy with a stand-in key, for Validate.
func withKeyStandIn(b *portal.BackendAuth, keySet bool) *portal.BackendAuth {
	if b == nil || b.Certificate == nil || keySet {
		return b
	}
	c, ca := *b, *b.Certificate
	ca.KeyPEM = "(stored)"
	c.Certificate = &ca
	return &c
}

// validate validates the API as Plan will write it: a key left out of a
// backend certificate comes from the store.
func (e *apiEntry) validate() error {
	a := e.api
	a.Backend.Auth = withKeyStandIn(a.Backend.Auth, e.keySet)
	return a.Validate()
}
