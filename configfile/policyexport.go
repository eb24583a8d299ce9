package configfile

import (
	"github.com/porticoapi/portico/portal"
)

// The exported shape of an API's policies and backend authentication. It
// is what Load reads back as the same values: defaults are written out,
// secrets are left out (Plan keeps the stored ones), files are inlined.
type (
	xPolicies struct {
		ValidateJWT       *xValidateJWT `yaml:"validate_jwt,omitempty"`
		IPFilter          *xIPFilter    `yaml:"ip_filter,omitempty"`
		ClientCertificate *xClientCert  `yaml:"client_certificate,omitempty"`
		RateLimit         *xRateLimit   `yaml:"rate_limit,omitempty"`
	}
	xValidateJWT struct {
		Header                string   `yaml:"header,omitempty"`
		Query                 string   `yaml:"query,omitempty"`
		RequireScheme         string   `yaml:"require_scheme,omitempty"`
		OpenIDConfig          []string `yaml:"openid_config,omitempty"`
		SigningKeys           []string `yaml:"signing_keys,omitempty"`
		Issuers               []string `yaml:"issuers,omitempty"`
		Audiences             []string `yaml:"audiences,omitempty"`
		RequiredClaims        []xClaim `yaml:"required_claims,omitempty"`
		ClockSkew             string   `yaml:"clock_skew"`
		RequireExpirationTime bool     `yaml:"require_expiration_time"`
		RequireSignedTokens   bool     `yaml:"require_signed_tokens"`
		FailedStatus          int      `yaml:"failed_status"`
		FailedMessage         string   `yaml:"failed_message,omitempty"`
	}
	xClaim struct {
		Name      string   `yaml:"name"`
		Match     string   `yaml:"match"`
		Values    []string `yaml:"values,omitempty"`
		Separator string   `yaml:"separator,omitempty"`
	}
	xIPFilter struct {
		Action    string     `yaml:"action"`
		Addresses []string   `yaml:"addresses,omitempty"`
		Ranges    []xIPRange `yaml:"ranges,omitempty"`
	}
	xIPRange struct {
		From string `yaml:"from"`
		To   string `yaml:"to"`
	}
	xClientCert struct {
		ValidateTrust     bool        `yaml:"validate_trust"`
		ValidateNotBefore bool        `yaml:"validate_not_before"`
		ValidateNotAfter  bool        `yaml:"validate_not_after"`
		CACertificates    []string    `yaml:"ca_certificates,omitempty"`
		Identities        []xIdentity `yaml:"identities,omitempty"`
	}
	xIdentity struct {
		Thumbprint       string `yaml:"thumbprint,omitempty"`
		SerialNumber     string `yaml:"serial_number,omitempty"`
		CommonName       string `yaml:"common_name,omitempty"`
		Subject          string `yaml:"subject,omitempty"`
		DNSName          string `yaml:"dns_name,omitempty"`
		IssuerSubject    string `yaml:"issuer_subject,omitempty"`
		IssuerThumbprint string `yaml:"issuer_thumbprint,omitempty"`
	}
	xBackendAuth struct {
		Basic       *xBasic    `yaml:"basic,omitempty"`
		Certificate *xCertAuth `yaml:"certificate,omitempty"`
		OAuth       *xOAuth    `yaml:"oauth_client_credentials,omitempty"`
	}
	xBasic struct {
		Username string `yaml:"username"`
	}
	xCertAuth struct {
		CertPEM string `yaml:"cert_pem"`
	}
	xOAuth struct {
		TokenURL string `yaml:"token_url"`
		ClientID string `yaml:"client_id"`
		Scope    string `yaml:"scope,omitempty"`
		Resource string `yaml:"resource,omitempty"`
	}
)

func exportPolicies(p *portal.Policies) *xPolicies {
	if p.Empty() {
		return nil
	}
	x := &xPolicies{}
	if v := p.ValidateJWT; v != nil {
		j := &xValidateJWT{
			Header: esc(v.Header), Query: esc(v.Query), RequireScheme: esc(v.RequireScheme),
			OpenIDConfig: escAll(v.OpenIDConfig), Issuers: escAll(v.Issuers), Audiences: escAll(v.Audiences),
			ClockSkew:             formatDuration(v.ClockSkew),
			RequireExpirationTime: v.RequireExpirationTime, RequireSignedTokens: v.RequireSignedTokens,
			FailedStatus: v.FailedStatus, FailedMessage: esc(v.FailedMessage),
		}
		n := 0
		for _, k := range v.SigningKeys {
			if symmetricKey(k) {
				n++
				j.SigningKeys = append(j.SigningKeys, storedKeyText(n))
				continue
			}
			j.SigningKeys = append(j.SigningKeys, esc(k))
		}
		for _, c := range v.RequiredClaims {
			j.RequiredClaims = append(j.RequiredClaims, xClaim{Name: esc(c.Name), Match: c.Match, Values: escAll(c.Values), Separator: esc(c.Separator)})
		}
		x.ValidateJWT = j
	}
	if f := p.IPFilter; f != nil {
		xf := &xIPFilter{Action: f.Action, Addresses: escAll(f.Addresses)}
		for _, r := range f.Ranges {
			xf.Ranges = append(xf.Ranges, xIPRange{From: esc(r.From), To: esc(r.To)})
		}
		x.IPFilter = xf
	}
	if c := p.ClientCertificate; c != nil {
		xc := &xClientCert{
			ValidateTrust: c.ValidateTrust, ValidateNotBefore: c.ValidateNotBefore, ValidateNotAfter: c.ValidateNotAfter,
			CACertificates: escAll(c.CACertificates),
		}
		for _, id := range c.Identities {
			xc.Identities = append(xc.Identities, xIdentity{
				Thumbprint: esc(id.Thumbprint), SerialNumber: esc(id.SerialNumber), CommonName: esc(id.CommonName),
				Subject: esc(id.Subject), DNSName: esc(id.DNSName), IssuerSubject: esc(id.IssuerSubject),
				IssuerThumbprint: esc(id.IssuerThumbprint),
			})
		}
		x.ClientCertificate = xc
	}
	if rl := p.RateLimit; rl != nil {
		x.RateLimit = &xRateLimit{Calls: rl.Calls, Period: formatDuration(rl.Period)}
	}
	return x
}

func exportBackendAuth(b *portal.BackendAuth) *xBackendAuth {
	switch {
	case b.Empty():
		return nil
	case b.Basic != nil:
		return &xBackendAuth{Basic: &xBasic{Username: esc(b.Basic.Username)}}
	case b.Certificate != nil:
		return &xBackendAuth{Certificate: &xCertAuth{CertPEM: esc(b.Certificate.CertificatePEM)}}
	}
	o := b.OAuthClientCredentials
	return &xBackendAuth{OAuth: &xOAuth{TokenURL: esc(o.TokenURL), ClientID: esc(o.ClientID), Scope: esc(o.Scope), Resource: esc(o.Resource)}}
}
