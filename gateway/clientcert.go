package gateway

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
)

const msgInvalidClientCert = "Invalid client certificate"

// certPolicy is an API's client_certificate, compiled once per route: the
// CA certificates parsed into a pool, the identities normalised.
type certPolicy struct {
	trust, notBefore, notAfter bool
	roots                      *x509.CertPool
	cas                        []*x509.Certificate
	ids                        []certIdentity
	needIssuer                 bool // an identity names the issuer's thumbprint
}

// certIdentity is a portal.CertificateIdentity ready for comparison.
type certIdentity struct {
	thumbprint       string   // lower-case hex
	serial           *big.Int // nil: not set
	badSerial        bool     // set but not hex: matches nothing
	commonName       string
	subject          string
	dnsName          string
	issuerSubject    string
	issuerThumbprint string // lower-case hex
}

// clientCertCheck refuses a request whose TLS connection did not present
// a client certificate that passes the API's client_certificate policy.
// The certificate is only ever the one of the TLS handshake: headers such
// as X-ARR-ClientCert are the client's word and are never read.
func (g *Gateway) clientCertCheck(rt *route, api *portal.API) check {
	c := api.Policies.ClientCertificate
	if c == nil {
		return nil
	}
	deny := func(reason string) *denial { return g.policyDenial(403, msgInvalidClientCert, reason) }
	missing, untrusted := deny("client_cert_missing"), deny("client_cert_untrusted")
	notYetValid, expired, identity := deny("client_cert_not_yet_valid"), deny("client_cert_expired"), deny("client_cert_identity")

	p, err := compileCertPolicy(c)
	if err != nil {
		g.log.Warn("API refuses every request: its client_certificate does not compile", "api", rt.name, "error", err)
		return func(rq *request) *denial {
			rq.detail = "client_certificate of the API does not compile"
			return untrusted
		}
	}
	return func(rq *request) *denial {
		cs := rq.r.TLS
		if cs == nil || len(cs.PeerCertificates) == 0 {
			if cs == nil {
				rq.detail = "no client certificate: not a TLS connection"
			} else {
				rq.detail = "no client certificate"
			}
			return missing
		}
		leaf, now := cs.PeerCertificates[0], g.now()
		if p.notBefore && now.Before(leaf.NotBefore) {
			rq.detail = certName(leaf) + " not valid before " + leaf.NotBefore.UTC().Format(time.RFC3339)
			return notYetValid
		}
		if p.notAfter && now.After(leaf.NotAfter) {
			rq.detail = certName(leaf) + " expired at " + leaf.NotAfter.UTC().Format(time.RFC3339)
			return expired
		}
		var chain []*x509.Certificate
		if p.trust {
			var err error
			if chain, err = p.verify(leaf, cs.PeerCertificates[1:], now); err != nil {
				rq.detail = certName(leaf) + " not trusted: " + err.Error()
				return untrusted
			}
		}
		if len(p.ids) > 0 && !p.matchIdentity(leaf, chain, cs.PeerCertificates[1:]) {
			rq.detail = certName(leaf) + " matches no identity of the API"
			return identity
		}
		return nil
	}
}

func compileCertPolicy(c *portal.ClientCertificate) (*certPolicy, error) {
	p := &certPolicy{trust: c.ValidateTrust, notBefore: c.ValidateNotBefore, notAfter: c.ValidateNotAfter, roots: x509.NewCertPool()}
	for i, s := range c.CACertificates {
		rest := []byte(s)
		n := 0
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			ca, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("CA certificate %d: %w", i+1, err)
			}
			p.roots.AddCert(ca)
			p.cas = append(p.cas, ca)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("CA certificate %d: no PEM certificate", i+1)
		}
	}
	if p.trust && len(p.cas) == 0 {
		return nil, errors.New("validate_trust without CA certificates")
	}
	for _, id := range c.Identities {
		if id.Empty() {
			return nil, errors.New("an identity without fields")
		}
		ci := certIdentity{
			thumbprint:       strings.ToLower(strings.TrimSpace(id.Thumbprint)),
			commonName:       id.CommonName,
			subject:          id.Subject,
			dnsName:          id.DNSName,
			issuerSubject:    id.IssuerSubject,
			issuerThumbprint: strings.ToLower(strings.TrimSpace(id.IssuerThumbprint)),
		}
		if s := strings.TrimSpace(id.SerialNumber); s != "" {
			n, ok := new(big.Int).SetString(s, 16)
			ci.serial, ci.badSerial = n, !ok
		}
		p.needIssuer = p.needIssuer || ci.issuerThumbprint != ""
		p.ids = append(p.ids, ci)
	}
	return p, nil
}

// verify builds a chain from leaf to a configured CA, with the
// intermediates the client sent, for client authentication. The leaf's
// own dates are validate_not_before's and validate_not_after's business,
// already decided: the chain is judged at now moved into the leaf's
// validity, so that turning one of those off is not undone here.
func (p *certPolicy) verify(leaf *x509.Certificate, sent []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	at := now
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	var inter *x509.CertPool
	if len(sent) > 0 {
		inter = x509.NewCertPool()
		for _, c := range sent {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         p.roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return nil, errors.New("issuer " + leaf.Issuer.String() + " is not a configured CA")
		}
		return nil, err
	}
	return chains[0], nil
}

// matchIdentity reports whether leaf matches every set field of at least
// one identity. chain is the verified chain when trust was validated.
func (p *certPolicy) matchIdentity(leaf *x509.Certificate, chain, sent []*x509.Certificate) bool {
	thumb := thumbprint(leaf)
	var issuerThumb string
	if p.needIssuer {
		if issuer := p.issuerOf(leaf, chain, sent); issuer != nil {
			issuerThumb = thumbprint(issuer)
		}
	}
	subject, issuerSubject := leaf.Subject.String(), leaf.Issuer.String()
	for i := range p.ids {
		id := &p.ids[i]
		if id.thumbprint != "" && id.thumbprint != thumb ||
			id.badSerial || id.serial != nil && id.serial.Cmp(leaf.SerialNumber) != 0 ||
			id.commonName != "" && id.commonName != leaf.Subject.CommonName ||
			id.subject != "" && id.subject != subject ||
			id.dnsName != "" && !hasDNSName(leaf, id.dnsName) ||
			id.issuerSubject != "" && id.issuerSubject != issuerSubject ||
			id.issuerThumbprint != "" && (issuerThumb == "" || id.issuerThumbprint != issuerThumb) {
			continue
		}
		return true
	}
	return false
}

// issuerOf returns the certificate that issued leaf: the next one in the
// verified chain, or else a configured CA or a certificate the client
// sent whose key signed leaf. A certificate whose key did not sign leaf
// is never taken, so its thumbprint cannot be borrowed.
func (p *certPolicy) issuerOf(leaf *x509.Certificate, chain, sent []*x509.Certificate) *x509.Certificate {
	if len(chain) > 1 {
		return chain[1]
	}
	for _, group := range [][]*x509.Certificate{p.cas, sent} {
		for _, c := range group {
			if bytes.Equal(leaf.RawIssuer, c.RawSubject) && leaf.CheckSignatureFrom(c) == nil {
				return c
			}
		}
	}
	return nil
}

// hasDNSName compares without case, as DNS names are.
func hasDNSName(c *x509.Certificate, name string) bool {
	for _, n := range c.DNSNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// thumbprint is APIM's: hex SHA-1 of the DER certificate, lower case here.
func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}

// certName names a certificate in a denial's detail: its subject and
// thumbprint, both public.
func certName(c *x509.Certificate) string {
	return "certificate " + c.Subject.String() + " (thumbprint " + thumbprint(c) + ")"
}
