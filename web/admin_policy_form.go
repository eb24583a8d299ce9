package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/views"
)

// This file is the one place where the policy form and the domain meet:
// readPolicyForm reads the request, policiesFromForm turns the values into
// portal.Policies and *portal.BackendAuth with errors that name the field,
// and policyFormOf formats stored policies back into the form's text.

// Backend authentication methods of the policy form.
const (
	backendAuthNone        = "none"
	backendAuthBasic       = "basic"
	backendAuthOAuth       = "oauth"
	backendAuthCertificate = "certificate"
)

// policySecrets are the secret fields of the policy form. They are kept
// apart from views.PolicyForm so that no page can show them; empty means
// "keep the stored one".
type policySecrets struct {
	SigningKeys       string
	BasicPassword     string
	OAuthClientSecret string
	CertificateKey    string
}

// typed reports whether any secret was typed.
func (p policySecrets) typed() bool { return p != policySecrets{} }

// readPolicyForm reads the parsed policy form: everything but the secrets
// as typed, and the secrets apart.
func readPolicyForm(r *http.Request) (views.PolicyForm, policySecrets) {
	// Browsers send textarea lines ended by CRLF; the form keeps LF.
	get := func(k string) string { return strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get(k), "\r\n", "\n")) }
	on := func(k string) bool { return r.PostForm.Get(k) != "" }
	f := views.PolicyForm{
		IPFilterEnabled:   on("ip_filter_enabled"),
		IPFilterAction:    get("ip_filter_action"),
		IPFilterAddresses: get("ip_filter_addresses"),
		IPFilterRanges:    get("ip_filter_ranges"),

		JWTEnabled:               on("jwt_enabled"),
		JWTHeader:                get("jwt_header"),
		JWTQuery:                 get("jwt_query"),
		JWTRequireScheme:         get("jwt_require_scheme"),
		JWTOpenIDConfig:          get("jwt_openid_config"),
		JWTClearKeys:             on("jwt_clear_keys"),
		JWTIssuers:               get("jwt_issuers"),
		JWTAudiences:             get("jwt_audiences"),
		JWTRequiredClaims:        get("jwt_required_claims"),
		JWTClockSkew:             get("jwt_clock_skew"),
		JWTRequireExpirationTime: on("jwt_require_expiration_time"),
		JWTRequireSignedTokens:   on("jwt_require_signed_tokens"),
		JWTFailedStatus:          get("jwt_failed_status"),
		JWTFailedMessage:         get("jwt_failed_message"),

		CertEnabled:           on("cert_enabled"),
		CertValidateTrust:     on("cert_validate_trust"),
		CertValidateNotBefore: on("cert_validate_not_before"),
		CertValidateNotAfter:  on("cert_validate_not_after"),
		CertCACertificates:    get("cert_ca_certificates"),
		CertIdentities:        get("cert_identities"),

		RateLimitEnabled: on("rate_limit_enabled"),
		RateLimitCalls:   get("rate_limit_calls"),
		RateLimitPeriod:  get("rate_limit_period"),

		BackendAuth:    get("backend_auth"),
		BasicUsername:  get("basic_username"),
		OAuthTokenURL:  get("oauth_token_url"),
		OAuthClientID:  get("oauth_client_id"),
		OAuthScope:     get("oauth_scope"),
		OAuthResource:  get("oauth_resource"),
		CertificatePEM: get("backend_certificate"),
	}
	// Passwords and client secrets are taken as typed: spaces may be part
	// of them. Keys are PEM or base64, where outer spaces are not.
	sec := policySecrets{
		SigningKeys:       get("jwt_signing_keys"),
		BasicPassword:     r.PostForm.Get("basic_password"),
		OAuthClientSecret: r.PostForm.Get("oauth_client_secret"),
		CertificateKey:    get("backend_key"),
	}
	return f, sec
}

// policiesFromForm builds an API's policies and backend authentication from
// the form. A secret left empty keeps the one stored in stored. Errors name
// the field and, for multi-line fields, the line; the store's validation
// (portal.API.Validate) checks the rest.
func policiesFromForm(f views.PolicyForm, sec policySecrets, stored *portal.API) (portal.Policies, *portal.BackendAuth, error) {
	var p portal.Policies
	var err error
	if f.IPFilterEnabled {
		if p.IPFilter, err = ipFilterFromForm(f); err != nil {
			return p, nil, err
		}
	}
	if f.CertEnabled {
		if p.ClientCertificate, err = clientCertificateFromForm(f); err != nil {
			return p, nil, err
		}
	}
	if f.JWTEnabled {
		if p.ValidateJWT, err = validateJWTFromForm(f, sec, stored.Policies.ValidateJWT); err != nil {
			return p, nil, err
		}
	}
	if f.RateLimitEnabled {
		calls, err := parseCount("Rate limit calls", f.RateLimitCalls)
		if err != nil {
			return p, nil, err
		}
		period, err := parseDuration("Rate limit period", f.RateLimitPeriod)
		if err != nil {
			return p, nil, err
		}
		p.RateLimit = &portal.RateLimit{Calls: calls, Period: period}
	}
	ba, err := backendAuthFromForm(f, sec, stored.Backend.Auth)
	return p, ba, err
}

func ipFilterFromForm(f views.PolicyForm) (*portal.IPFilter, error) {
	ipf := &portal.IPFilter{Action: f.IPFilterAction}
	for _, l := range textLines(f.IPFilterAddresses) {
		if _, err := portal.ParseIPPrefix(l.text); err != nil {
			return nil, portal.Errorf(portal.EINVALID, "IP filter addresses, line %d: %q is not an IP address or CIDR.", l.n, l.text)
		}
		ipf.Addresses = append(ipf.Addresses, l.text)
	}
	for _, l := range textLines(f.IPFilterRanges) {
		// IPv6 addresses hold colons, never hyphens: the first hyphen ends
		// the first address.
		from, to, ok := strings.Cut(l.text, "-")
		if !ok {
			return nil, portal.Errorf(portal.EINVALID, "IP filter ranges, line %d: write from-to, such as 198.51.100.1-198.51.100.20.", l.n)
		}
		ipf.Ranges = append(ipf.Ranges, portal.IPRange{From: strings.TrimSpace(from), To: strings.TrimSpace(to)})
	}
	return ipf, nil
}

func clientCertificateFromForm(f views.PolicyForm) (*portal.ClientCertificate, error) {
	c := &portal.ClientCertificate{
		ValidateTrust:     f.CertValidateTrust,
		ValidateNotBefore: f.CertValidateNotBefore,
		ValidateNotAfter:  f.CertValidateNotAfter,
	}
	var err error
	if c.CACertificates, err = splitCertificates("Client certificate: CA certificates", f.CertCACertificates); err != nil {
		return nil, err
	}
	for _, l := range textLines(f.CertIdentities) {
		id, err := parseIdentity(l.text)
		if err != nil {
			return nil, portal.Errorf(portal.EINVALID, "Client certificate identities, line %d: %s", l.n, portal.ErrorMessage(err))
		}
		c.Identities = append(c.Identities, id)
	}
	return c, nil
}

func validateJWTFromForm(f views.PolicyForm, sec policySecrets, stored *portal.ValidateJWT) (*portal.ValidateJWT, error) {
	v := &portal.ValidateJWT{
		Header:                f.JWTHeader,
		Query:                 f.JWTQuery,
		RequireScheme:         f.JWTRequireScheme,
		OpenIDConfig:          lineValues(f.JWTOpenIDConfig),
		Issuers:               lineValues(f.JWTIssuers),
		Audiences:             lineValues(f.JWTAudiences),
		RequireExpirationTime: f.JWTRequireExpirationTime,
		RequireSignedTokens:   f.JWTRequireSignedTokens,
		FailedMessage:         f.JWTFailedMessage,
	}
	var err error
	if v.ClockSkew, err = parseDuration("JWT clock skew", f.JWTClockSkew); err != nil {
		return nil, err
	}
	if v.FailedStatus, err = parseCount("JWT failed status", f.JWTFailedStatus); err != nil {
		return nil, err
	}
	if v.RequiredClaims, err = parseRequiredClaims(f.JWTRequiredClaims); err != nil {
		return nil, err
	}
	if v.SigningKeys, err = splitSigningKeys(sec.SigningKeys); err != nil {
		return nil, err
	}
	if len(v.SigningKeys) == 0 && !f.JWTClearKeys && stored != nil {
		v.SigningKeys = append([]string(nil), stored.SigningKeys...)
	}
	return v, nil
}

func backendAuthFromForm(f views.PolicyForm, sec policySecrets, stored *portal.BackendAuth) (*portal.BackendAuth, error) {
	if stored == nil {
		stored = &portal.BackendAuth{}
	}
	switch f.BackendAuth {
	case "", backendAuthNone:
		return nil, nil
	case backendAuthBasic:
		b := &portal.BasicAuth{Username: f.BasicUsername, Password: sec.BasicPassword}
		if b.Password == "" && stored.Basic != nil {
			b.Password = stored.Basic.Password
		}
		return &portal.BackendAuth{Basic: b}, nil
	case backendAuthOAuth:
		o := &portal.OAuthClientCredentials{
			TokenURL: f.OAuthTokenURL, ClientID: f.OAuthClientID, ClientSecret: sec.OAuthClientSecret,
			Scope: f.OAuthScope, Resource: f.OAuthResource,
		}
		if old := stored.OAuthClientCredentials; o.ClientSecret == "" && old != nil && old.ClientSecret != "" {
			// A stored secret goes only to the token endpoint it was typed
			// for: a new endpoint must be given the secret again.
			if old.TokenURL != o.TokenURL {
				return nil, portal.Errorf(portal.EINVALID, "Backend OAuth client secret: type the client secret again when changing the token URL.")
			}
			o.ClientSecret = old.ClientSecret
		}
		return &portal.BackendAuth{OAuthClientCredentials: o}, nil
	case backendAuthCertificate:
		c := &portal.CertificateAuth{CertificatePEM: f.CertificatePEM, KeyPEM: sec.CertificateKey}
		if c.KeyPEM == "" && stored.Certificate != nil {
			c.KeyPEM = stored.Certificate.KeyPEM
		}
		if c.CertificatePEM != "" && c.KeyPEM != "" {
			if _, err := tls.X509KeyPair([]byte(c.CertificatePEM), []byte(c.KeyPEM)); err != nil {
				return nil, portal.Errorf(portal.EINVALID, "Backend client certificate: the certificate and the private key must be PEM and belong together.")
			}
		}
		return &portal.BackendAuth{Certificate: c}, nil
	}
	return nil, portal.Errorf(portal.EINVALID, "Backend authentication: choose none, basic, OAuth 2.0 client credentials or client certificate.")
}

// numberedLine is a non-blank line of a textarea, trimmed, with its 1-based
// line number.
type numberedLine struct {
	n    int
	text string
}

func textLines(s string) []numberedLine {
	var out []numberedLine
	for i, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, numberedLine{i + 1, l})
		}
	}
	return out
}

// lineValues returns the non-blank lines of s, trimmed.
func lineValues(s string) []string {
	var out []string
	for _, l := range textLines(s) {
		out = append(out, l.text)
	}
	return out
}

// splitCertificates reads one or more PEM certificates, re-encoded one by
// one. label names the field in errors.
func splitCertificates(label, s string) ([]string, error) {
	var out []string
	rest := []byte(s)
	for n := 1; ; n++ {
		if len(bytes.TrimSpace(rest)) == 0 {
			return out, nil
		}
		block, r := pem.Decode(rest)
		if block == nil {
			return nil, portal.Errorf(portal.EINVALID, "%s: certificate %d is not a PEM block (-----BEGIN CERTIFICATE-----).", label, n)
		}
		if block.Type != "CERTIFICATE" {
			return nil, portal.Errorf(portal.EINVALID, "%s: block %d is a %s, not a CERTIFICATE.", label, n, block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, portal.Errorf(portal.EINVALID, "%s: certificate %d cannot be read as an X.509 certificate.", label, n)
		}
		out = append(out, string(pem.EncodeToMemory(block)))
		rest = r
	}
}

// identityKeys are the identity line's keys, as the config file names them.
var identityKeys = []string{"thumbprint", "serial_number", "common_name", "subject", "dns_name", "issuer_subject", "issuer_thumbprint"}

func identityField(id *portal.CertificateIdentity, key string) *string {
	switch key {
	case "thumbprint":
		return &id.Thumbprint
	case "serial_number":
		return &id.SerialNumber
	case "common_name":
		return &id.CommonName
	case "subject":
		return &id.Subject
	case "dns_name":
		return &id.DNSName
	case "issuer_subject":
		return &id.IssuerSubject
	case "issuer_thumbprint":
		return &id.IssuerThumbprint
	}
	return nil
}

// parseIdentity reads "key=value; key=value". APIM's attribute spellings
// (serial-number, issuer-subject) are accepted too. The error is a
// sentence for the field's message.
func parseIdentity(line string) (portal.CertificateIdentity, error) {
	var id portal.CertificateIdentity
	for _, pair := range strings.Split(line, ";") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return id, portal.Errorf(portal.EINVALID, "write key=value pairs separated by ';', such as thumbprint=3F2A...")
		}
		field := identityField(&id, key)
		if field == nil {
			return id, portal.Errorf(portal.EINVALID, "unknown key %q; the keys are %s.", key, strings.Join(identityKeys, ", "))
		}
		if *field != "" {
			return id, portal.Errorf(portal.EINVALID, "%s is given twice.", key)
		}
		*field = v
	}
	return id, nil
}

func formatIdentity(id portal.CertificateIdentity) string {
	var pairs []string
	for _, k := range identityKeys {
		if v := *identityField(&id, k); v != "" {
			pairs = append(pairs, k+"="+v)
		}
	}
	return strings.Join(pairs, "; ")
}

// A required claim line: "name", "name: all: v1, v2" or "name: any: v1",
// optionally ending in "[separator X]". The name is the shortest prefix
// followed by ": all" or ": any", so that URI claim names keep their colons.
var (
	claimLine       = regexp.MustCompile(`^(\S+?)\s*:\s*(all|any)\s*(?::(.*))?$`)
	claimSeparator  = regexp.MustCompile(`\s*\[separator (.+)\]$`)
	claimSpaceWords = map[string]string{"space": " "}
)

func parseRequiredClaims(s string) ([]portal.RequiredClaim, error) {
	var out []portal.RequiredClaim
	for _, l := range textLines(s) {
		text := l.text
		var c portal.RequiredClaim
		if m := claimSeparator.FindStringSubmatchIndex(text); m != nil {
			c.Separator = text[m[2]:m[3]]
			if w, ok := claimSpaceWords[c.Separator]; ok {
				c.Separator = w
			}
			text = strings.TrimSpace(text[:m[0]])
		}
		if m := claimLine.FindStringSubmatch(text); m != nil {
			c.Name, c.Match = m[1], m[2]
			for _, v := range strings.Split(m[3], ",") {
				if v = strings.TrimSpace(v); v != "" {
					c.Values = append(c.Values, v)
				}
			}
		} else if !strings.ContainsAny(text, " \t") && !strings.HasSuffix(text, ":") {
			c.Name, c.Match = text, portal.ClaimMatchAll
		} else {
			return nil, portal.Errorf(portal.EINVALID, "JWT required claims, line %d: write name, name: all: v1, v2 or name: any: v1, v2.", l.n)
		}
		out = append(out, c)
	}
	return out, nil
}

func formatRequiredClaim(c portal.RequiredClaim) string {
	s := c.Name
	if len(c.Values) > 0 || c.Match == portal.ClaimMatchAny {
		s += ": " + c.Match
		if len(c.Values) > 0 {
			s += ": " + strings.Join(c.Values, ", ")
		}
	}
	if c.Separator != "" {
		sep := c.Separator
		for w, v := range claimSpaceWords {
			if v == sep {
				sep = w
			}
		}
		s += " [separator " + sep + "]"
	}
	return s
}

// splitSigningKeys reads the signing keys typed: keys are separated by a
// blank line, and PEM blocks that follow each other directly are separate
// keys too. Errors never quote a key: it may be a secret.
func splitSigningKeys(s string) ([]string, error) {
	var out []string
	for _, chunk := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if chunk = strings.TrimSpace(chunk); chunk == "" {
			continue
		}
		if !strings.HasPrefix(chunk, "-----BEGIN ") {
			out = append(out, chunk)
			continue
		}
		rest := []byte(chunk)
		for len(bytes.TrimSpace(rest)) > 0 {
			block, r := pem.Decode(rest)
			if block == nil {
				return nil, portal.Errorf(portal.EINVALID, "JWT signing keys, key %d: the PEM block cannot be read.", len(out)+1)
			}
			out = append(out, strings.TrimSpace(string(pem.EncodeToMemory(block))))
			rest = r
		}
	}
	for i, k := range out {
		kind, symmetric := keyKind(k)
		if kind == "" {
			return nil, portal.Errorf(portal.EINVALID, "JWT signing keys, key %d: not a PEM key or certificate, a JWK, or a base64 key.", i+1)
		}
		// As the gateway's validator: an HMAC key shorter than its hash
		// would be guessable.
		if symmetric > 0 && symmetric < minSymmetricKey {
			return nil, portal.Errorf(portal.EINVALID, "JWT signing keys, key %d: a symmetric key must be at least %d bytes; this one has %d.", i+1, minSymmetricKey, symmetric)
		}
	}
	return out, nil
}

// minSymmetricKey is the shortest HMAC key the gateway accepts, in bytes.
const minSymmetricKey = 32

// keyKind describes a signing key without showing it: "PEM PUBLIC KEY
// (SHA-256 1a2b...)", "JWK RSA, kid abc", "symmetric key (32 bytes)";
// "" when it is none of these. symmetric is the length of a base64
// symmetric key, 0 for other kinds.
func keyKind(k string) (kind string, symmetric int) {
	if strings.HasPrefix(k, "-----BEGIN ") {
		block, _ := pem.Decode([]byte(k))
		if block == nil {
			return "", 0
		}
		sum := sha256.Sum256(block.Bytes)
		return "PEM " + block.Type + " (SHA-256 " + hex.EncodeToString(sum[:6]) + "…)", 0
	}
	if strings.HasPrefix(k, "{") {
		var jwk struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
		}
		if json.Unmarshal([]byte(k), &jwk) != nil || jwk.Kty == "" {
			return "", 0
		}
		s := "JWK " + jwk.Kty
		if jwk.Kid != "" {
			s += ", kid " + jwk.Kid
		}
		return s, 0
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(k)
		if err != nil || len(b) == 0 {
			continue
		}
		if _, err := x509.ParsePKIXPublicKey(b); err == nil {
			return "base64 DER public key", 0
		}
		if _, err := x509.ParseCertificate(b); err == nil {
			return "base64 DER certificate", 0
		}
		return "symmetric key (" + strconv.Itoa(len(b)) + " bytes)", len(b)
	}
	return "", 0
}

// policyFormOf formats an API's stored policies and backend authentication
// for the form. A policy the API does not use shows the defaults it would
// start with once enabled.
func policyFormOf(api *portal.API) views.PolicyForm {
	f := views.PolicyForm{
		IPFilterAction:           portal.IPFilterAllow,
		JWTHeader:                portal.DefaultJWTHeader,
		JWTRequireScheme:         "Bearer",
		JWTRequireExpirationTime: true,
		JWTRequireSignedTokens:   true,
		JWTFailedStatus:          strconv.Itoa(portal.DefaultJWTFailedStatus),
		CertValidateTrust:        true,
		CertValidateNotBefore:    true,
		CertValidateNotAfter:     true,
		BackendAuth:              backendAuthNone,
	}
	p := api.Policies
	if ipf := p.IPFilter; ipf != nil {
		f.IPFilterEnabled = true
		f.IPFilterAction = ipf.Action
		f.IPFilterAddresses = strings.Join(ipf.Addresses, "\n")
		var ranges []string
		for _, r := range ipf.Ranges {
			ranges = append(ranges, r.From+"-"+r.To)
		}
		f.IPFilterRanges = strings.Join(ranges, "\n")
	}
	if v := p.ValidateJWT; v != nil {
		f.JWTEnabled = true
		f.JWTHeader = v.Header
		f.JWTQuery = v.Query
		f.JWTRequireScheme = v.RequireScheme
		f.JWTOpenIDConfig = strings.Join(v.OpenIDConfig, "\n")
		f.JWTIssuers = strings.Join(v.Issuers, "\n")
		f.JWTAudiences = strings.Join(v.Audiences, "\n")
		var claims []string
		for _, c := range v.RequiredClaims {
			claims = append(claims, formatRequiredClaim(c))
		}
		f.JWTRequiredClaims = strings.Join(claims, "\n")
		f.JWTClockSkew = ""
		if v.ClockSkew > 0 {
			f.JWTClockSkew = shortDuration(v.ClockSkew)
		}
		f.JWTRequireExpirationTime = v.RequireExpirationTime
		f.JWTRequireSignedTokens = v.RequireSignedTokens
		f.JWTFailedStatus = strconv.Itoa(v.FailedStatus)
		f.JWTFailedMessage = v.FailedMessage
	}
	if c := p.ClientCertificate; c != nil {
		f.CertEnabled = true
		f.CertValidateTrust = c.ValidateTrust
		f.CertValidateNotBefore = c.ValidateNotBefore
		f.CertValidateNotAfter = c.ValidateNotAfter
		f.CertCACertificates = strings.Join(c.CACertificates, "")
		var ids []string
		for _, id := range c.Identities {
			ids = append(ids, formatIdentity(id))
		}
		f.CertIdentities = strings.Join(ids, "\n")
	}
	if rl := p.RateLimit; rl != nil {
		f.RateLimitEnabled = true
		f.RateLimitCalls = strconv.Itoa(rl.Calls)
		f.RateLimitPeriod = shortDuration(rl.Period)
	}
	if a := api.Backend.Auth; a != nil {
		switch {
		case a.Basic != nil:
			f.BackendAuth = backendAuthBasic
			f.BasicUsername = a.Basic.Username
		case a.OAuthClientCredentials != nil:
			o := a.OAuthClientCredentials
			f.BackendAuth = backendAuthOAuth
			f.OAuthTokenURL, f.OAuthClientID, f.OAuthScope, f.OAuthResource = o.TokenURL, o.ClientID, o.Scope, o.Resource
		case a.Certificate != nil:
			f.BackendAuth = backendAuthCertificate
			f.CertificatePEM = a.Certificate.CertificatePEM
		}
	}
	return f
}

// describeStoredSecrets says in f which secrets stored holds, without
// their values.
func describeStoredSecrets(f *views.PolicyForm, stored *portal.API) {
	f.JWTStoredKeys = nil
	if v := stored.Policies.ValidateJWT; v != nil {
		for i, k := range v.SigningKeys {
			kind, _ := keyKind(k)
			if kind == "" {
				kind = "key in an unknown format"
			}
			f.JWTStoredKeys = append(f.JWTStoredKeys, strconv.Itoa(i+1)+". "+kind)
		}
	}
	a := stored.Backend.Auth
	f.BasicPasswordSet = a != nil && a.Basic != nil && a.Basic.Password != ""
	f.OAuthSecretSet = a != nil && a.OAuthClientCredentials != nil && a.OAuthClientCredentials.ClientSecret != ""
	f.CertificateKeySet = a != nil && a.Certificate != nil && a.Certificate.KeyPEM != ""
}

// shortDuration writes d as a Go duration without zero units: 1m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
