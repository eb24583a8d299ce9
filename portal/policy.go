package portal

import (
	"net/netip"
	"strings"
	"time"
)

// Policies are an API's gateway checks beyond the subscription key, as APIM
// names them. A nil field is a policy the API does not use. The gateway
// runs them in the order of CONTRACT section 5: ip_filter,
// client_certificate, subscription key, validate_jwt, rate_limit.
type Policies struct {
	IPFilter          *IPFilter
	ClientCertificate *ClientCertificate
	ValidateJWT       *ValidateJWT
	// RateLimit limits calls per subscription to this API (APIM's
	// rate-limit at API scope), besides any limit of the product.
	RateLimit *RateLimit
}

// Empty reports whether no policy is set.
func (p *Policies) Empty() bool {
	return p == nil || (p.IPFilter == nil && p.ClientCertificate == nil && p.ValidateJWT == nil && p.RateLimit == nil)
}

// Validate checks every policy that is set.
func (p *Policies) Validate() error {
	if p == nil {
		return nil
	}
	if p.IPFilter != nil {
		if err := p.IPFilter.Validate(); err != nil {
			return err
		}
	}
	if p.ClientCertificate != nil {
		if err := p.ClientCertificate.Validate(); err != nil {
			return err
		}
	}
	if p.ValidateJWT != nil {
		if err := p.ValidateJWT.Validate(); err != nil {
			return err
		}
	}
	if p.RateLimit != nil {
		if err := p.RateLimit.Validate(); err != nil {
			return Errorf(EINVALID, "rate_limit: %s", ErrorMessage(err))
		}
	}
	return nil
}

// IP filter actions.
const (
	IPFilterAllow  = "allow"
	IPFilterForbid = "forbid"
)

// IPFilter allows only, or forbids, callers whose address is in Addresses
// (single addresses or CIDRs, IPv4 or IPv6) or in one of Ranges.
type IPFilter struct {
	Action    string // IPFilterAllow or IPFilterForbid
	Addresses []string
	Ranges    []IPRange
}

// IPRange is an inclusive range of addresses of one family.
type IPRange struct {
	From string
	To   string
}

// Validate checks the action, that every address parses and that every
// range runs upward within one family.
func (f *IPFilter) Validate() error {
	if f.Action != IPFilterAllow && f.Action != IPFilterForbid {
		return Errorf(EINVALID, "ip_filter: action must be %s or %s, not %q.", IPFilterAllow, IPFilterForbid, f.Action)
	}
	if len(f.Addresses) == 0 && len(f.Ranges) == 0 {
		return Errorf(EINVALID, "ip_filter: at least one address or range is required.")
	}
	for _, a := range f.Addresses {
		if _, err := ParseIPPrefix(a); err != nil {
			return err
		}
	}
	for _, r := range f.Ranges {
		from, err1 := netip.ParseAddr(r.From)
		to, err2 := netip.ParseAddr(r.To)
		if err1 != nil || err2 != nil {
			return Errorf(EINVALID, "ip_filter: range %s-%s: both ends must be IP addresses.", r.From, r.To)
		}
		from, to = from.Unmap(), to.Unmap()
		if from.Is4() != to.Is4() || to.Less(from) {
			return Errorf(EINVALID, "ip_filter: range %s-%s must run upward within one address family.", r.From, r.To)
		}
	}
	return nil
}

// ParseIPPrefix parses an address ("203.0.113.7", "2001:db8::1") as a
// single-address prefix, or a CIDR ("10.0.0.0/8"), with IPv4-mapped IPv6
// addresses turned into IPv4.
func ParseIPPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, Errorf(EINVALID, "ip_filter: %q is not an address or CIDR.", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, Errorf(EINVALID, "ip_filter: %q is not an address or CIDR.", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ClientCertificate is APIM's validate-client-certificate: the gateway's
// TLS listener asks for a client certificate, and this policy decides
// whether the one given is acceptable.
type ClientCertificate struct {
	ValidateTrust     bool
	ValidateNotBefore bool
	ValidateNotAfter  bool
	// CACertificates are PEM-encoded certificates of the CAs trusted to
	// issue client certificates (the config file's ca_files, read at apply
	// time, so that every gateway instance has them).
	CACertificates []string
	// Identities: the certificate passes if it matches every non-empty
	// field of at least one. Empty: any certificate that passes the other
	// checks.
	Identities []CertificateIdentity
}

// CertificateIdentity is one acceptable client certificate description.
// Thumbprints are hex SHA-1 of the DER (as APIM shows them), compared
// without case; names are compared exactly.
type CertificateIdentity struct {
	Thumbprint       string
	SerialNumber     string // hex, without case
	CommonName       string
	Subject          string // RFC 4514 distinguished name, e.g. "CN=partner-app,O=Partner"
	DNSName          string
	IssuerSubject    string
	IssuerThumbprint string
}

// Empty reports whether no field is set.
func (c CertificateIdentity) Empty() bool {
	return c == CertificateIdentity{}
}

// Validate checks that trust can be validated when asked for and that no
// identity is empty.
func (c *ClientCertificate) Validate() error {
	if c.ValidateTrust && len(c.CACertificates) == 0 {
		return Errorf(EINVALID, "client_certificate: validate_trust needs at least one CA certificate (ca_files).")
	}
	for i, id := range c.Identities {
		if id.Empty() {
			return Errorf(EINVALID, "client_certificate: identity %d has no field set.", i+1)
		}
	}
	return nil
}

// Defaults of validate_jwt, as APIM's.
const (
	DefaultJWTFailedStatus  = 401
	DefaultJWTFailedMessage = "Unauthorized. Access token is missing or invalid."
	DefaultJWTHeader        = "Authorization"
)

// ValidateJWT is APIM's validate-jwt.
type ValidateJWT struct {
	// Header or Query names where the token is; exactly one is set.
	Header        string
	Query         string
	RequireScheme string // e.g. "Bearer", compared without case; "" for none

	// OpenIDConfig are OpenID Connect discovery document URLs whose key
	// sets (and, when Issuers is empty, issuers) are trusted.
	OpenIDConfig []string
	// SigningKeys are static keys: PEM (public key or certificate), a JWK,
	// or a base64 symmetric key (HMAC). Symmetric keys are secrets.
	SigningKeys []string

	Issuers        []string
	Audiences      []string
	RequiredClaims []RequiredClaim

	ClockSkew             time.Duration
	RequireExpirationTime bool
	RequireSignedTokens   bool

	FailedStatus  int
	FailedMessage string // "": the failure's own message
}

// Claim match modes.
const (
	ClaimMatchAll = "all"
	ClaimMatchAny = "any"
)

// RequiredClaim requires a claim, and when Values is set, that the claim's
// values (a string, split on Separator when set, or an array of strings)
// contain all of them (ClaimMatchAll) or at least one (ClaimMatchAny).
type RequiredClaim struct {
	Name      string
	Match     string
	Values    []string
	Separator string
}

// Normalize fills the defaults of APIM for unset fields. Booleans are not
// touched: decoders set RequireExpirationTime and RequireSignedTokens to
// true unless the source says false.
func (v *ValidateJWT) Normalize() {
	if v.Header == "" && v.Query == "" {
		v.Header = DefaultJWTHeader
	}
	if v.FailedStatus == 0 {
		v.FailedStatus = DefaultJWTFailedStatus
	}
	for i := range v.RequiredClaims {
		if v.RequiredClaims[i].Match == "" {
			v.RequiredClaims[i].Match = ClaimMatchAll
		}
	}
}

// Validate checks a ValidateJWT after Normalize.
func (v *ValidateJWT) Validate() error {
	if (v.Header == "") == (v.Query == "") {
		return Errorf(EINVALID, "validate_jwt: exactly one of header and query is required.")
	}
	if v.Header != "" && !validHeaderName(v.Header) {
		return Errorf(EINVALID, "validate_jwt: header %q is not a valid header name.", v.Header)
	}
	if v.Query != "" && strings.ContainsAny(v.Query, "&=#?% +") {
		return Errorf(EINVALID, "validate_jwt: query %q is not a valid parameter name.", v.Query)
	}
	if v.RequireSignedTokens && len(v.OpenIDConfig) == 0 && len(v.SigningKeys) == 0 {
		return Errorf(EINVALID, "validate_jwt: openid_config or signing_keys is required to check signatures.")
	}
	for _, u := range v.OpenIDConfig {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return Errorf(EINVALID, "validate_jwt: openid_config %q must be an http or https URL.", u)
		}
	}
	if v.ClockSkew < 0 || v.ClockSkew > time.Hour {
		return Errorf(EINVALID, "validate_jwt: clock_skew must be between 0s and 1h.")
	}
	if v.FailedStatus < 400 || v.FailedStatus > 599 {
		return Errorf(EINVALID, "validate_jwt: failed_status must be an HTTP error status (400-599).")
	}
	for _, c := range v.RequiredClaims {
		if c.Name == "" {
			return Errorf(EINVALID, "validate_jwt: every required claim needs a name.")
		}
		if c.Match != ClaimMatchAll && c.Match != ClaimMatchAny {
			return Errorf(EINVALID, "validate_jwt: claim %s: match must be %s or %s.", c.Name, ClaimMatchAll, ClaimMatchAny)
		}
	}
	return nil
}

// BackendAuth is how the gateway authenticates to an API's backend; at
// most one field is set. Its secrets are stored sealed.
type BackendAuth struct {
	Basic                  *BasicAuth
	Certificate            *CertificateAuth
	OAuthClientCredentials *OAuthClientCredentials
}

// BasicAuth sends HTTP Basic credentials.
type BasicAuth struct {
	Username string
	Password string
}

// CertificateAuth presents a client certificate to the backend.
type CertificateAuth struct {
	CertificatePEM string // the certificate chain, leaf first
	KeyPEM         string // the private key; a secret
}

// OAuthClientCredentials gets the gateway's own token with the client
// credentials grant and sends it as a bearer token.
type OAuthClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string
	// Resource is sent as the resource parameter when set (Entra v1,
	// RFC 8707).
	Resource string
}

// Empty reports whether no method is set.
func (b *BackendAuth) Empty() bool {
	return b == nil || (b.Basic == nil && b.Certificate == nil && b.OAuthClientCredentials == nil)
}

// Validate checks that at most one method is set and that it is complete.
func (b *BackendAuth) Validate() error {
	if b == nil {
		return nil
	}
	n := 0
	if b.Basic != nil {
		n++
		if b.Basic.Username == "" || strings.Contains(b.Basic.Username, ":") {
			return Errorf(EINVALID, "backend auth basic: a username without ':' is required.")
		}
	}
	if b.Certificate != nil {
		n++
		if b.Certificate.CertificatePEM == "" || b.Certificate.KeyPEM == "" {
			return Errorf(EINVALID, "backend auth certificate: a certificate and its key are required.")
		}
	}
	if o := b.OAuthClientCredentials; o != nil {
		n++
		if !strings.HasPrefix(o.TokenURL, "https://") && !strings.HasPrefix(o.TokenURL, "http://") {
			return Errorf(EINVALID, "backend auth oauth_client_credentials: token_url must be an http or https URL.")
		}
		if o.ClientID == "" {
			return Errorf(EINVALID, "backend auth oauth_client_credentials: client_id is required.")
		}
	}
	if n > 1 {
		return Errorf(EINVALID, "backend auth: at most one of basic, certificate and oauth_client_credentials.")
	}
	return nil
}
