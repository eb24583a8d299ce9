package configfile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// The diff of an API's policies and backend authentication: one line per
// changed field, as for the API's other fields. Secrets (a password, a
// client secret, a private key, a symmetric signing key) are only said to
// change.

func authKind(b *portal.BackendAuth) string {
	switch {
	case b.Empty():
		return "none"
	case b.Basic != nil:
		return "basic"
	case b.Certificate != nil:
		return "certificate"
	}
	return "oauth_client_credentials"
}

func backendAuthDiff(d *diff, have, want *portal.BackendAuth) {
	hk, wk := authKind(have), authKind(want)
	if hk != wk {
		d.text("backend.auth " + hk + " -> " + wk)
		return
	}
	const p = "backend.auth."
	before := len(d.lines)
	defer func() {
		if len(d.lines) == before && !sameValue(reflect.ValueOf(have), reflect.ValueOf(want)) {
			d.text("backend.auth (changed)")
		}
	}()
	switch wk {
	case "basic":
		d.str(p+"basic.username", have.Basic.Username, want.Basic.Username)
		d.secret(p+"basic.password", have.Basic.Password != want.Basic.Password)
	case "certificate":
		if have.Certificate.CertificatePEM != want.Certificate.CertificatePEM {
			d.text(p + "certificate.cert (changed)")
		}
		d.secret(p+"certificate.key", have.Certificate.KeyPEM != want.Certificate.KeyPEM)
	case "oauth_client_credentials":
		h, w := have.OAuthClientCredentials, want.OAuthClientCredentials
		d.str(p+"oauth_client_credentials.token_url", h.TokenURL, w.TokenURL)
		d.str(p+"oauth_client_credentials.client_id", h.ClientID, w.ClientID)
		d.secret(p+"oauth_client_credentials.client_secret", h.ClientSecret != w.ClientSecret)
		d.str(p+"oauth_client_credentials.scope", h.Scope, w.Scope)
		d.str(p+"oauth_client_credentials.resource", h.Resource, w.Resource)
	}
}

// both records that a policy is added or removed and reports whether it is
// in both, to be compared field by field.
func both(d *diff, field string, have, want bool) bool {
	switch {
	case !have && want:
		d.text(field + " added")
	case have && !want:
		d.text(field + " removed")
	}
	return have && want
}

func policiesDiff(d *diff, have, want *portal.Policies) {
	before := len(d.lines)
	if both(d, "policies.validate_jwt", have.ValidateJWT != nil, want.ValidateJWT != nil) {
		validateJWTDiff(d, have.ValidateJWT, want.ValidateJWT)
	}
	if both(d, "policies.ip_filter", have.IPFilter != nil, want.IPFilter != nil) {
		const p = "policies.ip_filter."
		h, w := have.IPFilter, want.IPFilter
		d.str(p+"action", h.Action, w.Action)
		d.list(p+"addresses", h.Addresses, w.Addresses)
		d.list(p+"ranges", showRanges(h.Ranges), showRanges(w.Ranges))
	}
	if both(d, "policies.client_certificate", have.ClientCertificate != nil, want.ClientCertificate != nil) {
		const p = "policies.client_certificate."
		h, w := have.ClientCertificate, want.ClientCertificate
		d.boolean(p+"validate_trust", h.ValidateTrust, w.ValidateTrust)
		d.boolean(p+"validate_not_before", h.ValidateNotBefore, w.ValidateNotBefore)
		d.boolean(p+"validate_not_after", h.ValidateNotAfter, w.ValidateNotAfter)
		if !slices.Equal(h.CACertificates, w.CACertificates) {
			d.text(fmt.Sprintf("%sca_certificates %d -> %d certificates (changed)", p, len(h.CACertificates), len(w.CACertificates)))
		}
		d.list(p+"identities", showIdentities(h.Identities), showIdentities(w.Identities))
	}
	if have.RateLimit != nil || want.RateLimit != nil {
		d.str("policies.rate_limit", showRateLimit(have.RateLimit), showRateLimit(want.RateLimit))
	}
	// A field this diff does not know yet must still show as a change, or
	// the plan would skip it.
	if len(d.lines) == before && !sameValue(reflect.ValueOf(*have), reflect.ValueOf(*want)) {
		d.text("policies (changed)")
	}
}

func validateJWTDiff(d *diff, h, w *portal.ValidateJWT) {
	const p = "policies.validate_jwt."
	d.str(p+"header", h.Header, w.Header)
	d.str(p+"query", h.Query, w.Query)
	d.str(p+"require_scheme", h.RequireScheme, w.RequireScheme)
	d.list(p+"openid_config", h.OpenIDConfig, w.OpenIDConfig)
	hPub, hSym := splitKeys(h.SigningKeys)
	wPub, wSym := splitKeys(w.SigningKeys)
	if !slices.Equal(hPub, wPub) {
		d.text(fmt.Sprintf("%ssigning_keys: public keys %d -> %d (changed)", p, len(hPub), len(wPub)))
	}
	if !slices.Equal(hSym, wSym) {
		d.text(fmt.Sprintf("%ssigning_keys: symmetric keys %d -> %d (changed)", p, len(hSym), len(wSym)))
	}
	d.list(p+"issuers", h.Issuers, w.Issuers)
	d.list(p+"audiences", h.Audiences, w.Audiences)
	d.list(p+"required_claims", showClaims(h.RequiredClaims), showClaims(w.RequiredClaims))
	d.duration(p+"clock_skew", h.ClockSkew, w.ClockSkew)
	d.boolean(p+"require_expiration_time", h.RequireExpirationTime, w.RequireExpirationTime)
	d.boolean(p+"require_signed_tokens", h.RequireSignedTokens, w.RequireSignedTokens)
	d.integer(p+"failed_status", h.FailedStatus, w.FailedStatus)
	d.str(p+"failed_message", h.FailedMessage, w.FailedMessage)
}

// splitKeys parts signing keys into public ones and secret ones.
func splitKeys(keys []string) (public, symmetric []string) {
	for _, k := range keys {
		if symmetricKey(k) {
			symmetric = append(symmetric, k)
		} else {
			public = append(public, k)
		}
	}
	return public, symmetric
}

func showRanges(rs []portal.IPRange) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.From+"-"+r.To)
	}
	return out
}

func showClaims(cs []portal.RequiredClaim) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		s := c.Name + " " + c.Match + " {" + strings.Join(c.Values, ", ") + "}"
		if c.Separator != "" {
			s += " separator " + show(c.Separator)
		}
		out = append(out, s)
	}
	return out
}

func showIdentities(ids []portal.CertificateIdentity) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		var parts []string
		for _, f := range []struct{ k, v string }{
			{"thumbprint", id.Thumbprint}, {"serial_number", id.SerialNumber}, {"common_name", id.CommonName},
			{"subject", id.Subject}, {"dns_name", id.DNSName}, {"issuer_subject", id.IssuerSubject},
			{"issuer_thumbprint", id.IssuerThumbprint},
		} {
			if f.v != "" {
				parts = append(parts, f.k+"="+show(f.v))
			}
		}
		out = append(out, "{"+strings.Join(parts, " ")+"}")
	}
	return out
}
