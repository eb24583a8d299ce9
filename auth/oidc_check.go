package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// ProviderCheck is what testing an identity provider's configuration
// found: the endpoints its discovery document names, or Problem.
type ProviderCheck struct {
	DiscoveryURL string
	// Problem says, in words safe to show an administrator, why the
	// provider cannot be used as configured; empty when it can.
	Problem string
	// Detail is the underlying error, for the log only: it may quote
	// whatever the provider answered.
	Detail error

	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	UserInfoEndpoint      string
	JWKSURI               string
	SigningKeys           int // public signature keys in the key set
}

// OK reports whether the provider answered as sign-in needs.
func (c *ProviderCheck) OK() bool { return c.Problem == "" }

// CheckProvider fetches p's discovery document and key set with the
// provider client, as a sign-in would, and reports whether they name the
// issuer p expects and the endpoints sign-in uses. It never sends the
// client secret.
func (o *OIDC) CheckProvider(ctx context.Context, p *portal.IdentityProvider) *ProviderCheck {
	return CheckProvider(ctx, o.client, p)
}

// CheckProvider is OIDC.CheckProvider with the given client, for a server
// without OIDC sign-in.
func CheckProvider(ctx context.Context, client *http.Client, p *portal.IdentityProvider) *ProviderCheck {
	c := &ProviderCheck{}
	u, err := DiscoveryURL(p)
	if err != nil {
		c.Problem, c.Detail = "The provider's configuration is incomplete: it needs a tenant or an authority.", err
		return c
	}
	c.DiscoveryURL = u
	var d discoveryDoc
	if problem, err := fetchJSON(ctx, client, u, "discovery document", &d); err != nil {
		c.Problem, c.Detail = problem, err
		return c
	}
	c.Issuer, c.AuthorizationEndpoint, c.TokenEndpoint, c.UserInfoEndpoint, c.JWKSURI = d.Issuer, d.Authorization, d.Token, d.UserInfo, d.JWKS
	multitenant := p.Multitenant()
	switch {
	case d.Issuer == "":
		c.Problem = "The discovery document names no issuer."
	case p.Type == portal.IdentityProviderOIDC && d.Issuer != p.Issuer:
		c.Problem = fmt.Sprintf("The discovery document names the issuer %q, not the configured %q; they must match exactly.", d.Issuer, p.Issuer)
	case multitenant && strings.Count(d.Issuer, "{tenantid}") != 1:
		c.Problem = fmt.Sprintf("The discovery document names the issuer %q, without the {tenantid} template of a multi-tenant authority.", d.Issuer)
	case !multitenant && strings.Contains(d.Issuer, "{"):
		c.Problem = fmt.Sprintf("The discovery document names a templated issuer %q for a single tenant.", d.Issuer)
	case !httpURL(d.Authorization):
		c.Problem = "The discovery document names no http(s) authorization_endpoint."
	case !httpURL(d.Token):
		c.Problem = "The discovery document names no http(s) token_endpoint."
	case !httpURL(d.JWKS):
		c.Problem = "The discovery document names no http(s) jwks_uri."
	case d.UserInfo != "" && !httpURL(d.UserInfo):
		c.Problem = "The discovery document's userinfo_endpoint is not an http(s) URL."
	}
	if c.Problem != "" {
		return c
	}
	var keys struct {
		Keys []struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if problem, err := fetchJSON(ctx, client, d.JWKS, "key set", &keys); err != nil {
		c.Problem, c.Detail = problem, err
		return c
	}
	for _, k := range keys.Keys {
		if (k.Kty == "RSA" || k.Kty == "EC" || k.Kty == "OKP") && (k.Use == "" || k.Use == "sig") && k.D == "" {
			c.SigningKeys++
		}
	}
	if c.SigningKeys == 0 {
		c.Problem = "The key set at the jwks_uri holds no public signing key."
	}
	return c
}

// fetchJSON GETs u and decodes it into v. On failure it returns a message
// about what (the discovery document, the key set) that is safe to show,
// and the error itself for the log.
func fetchJSON(ctx context.Context, client *http.Client, u, what string, v any) (string, error) {
	host := u
	if pu, err := url.Parse(u); err == nil {
		host = pu.Host
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Sprintf("The %s URL is not valid.", what), err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, errResponseTooLarge):
			return fmt.Sprintf("The %s is larger than the %d bytes allowed.", what, MaxProviderResponse), err
		case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
			return fmt.Sprintf("%s did not answer in time for the %s.", host, what), err
		}
		return fmt.Sprintf("%s could not be reached for the %s.", host, what), err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if errors.Is(err, errResponseTooLarge) {
		return fmt.Sprintf("The %s is larger than the %d bytes allowed.", what, MaxProviderResponse), err
	} else if err != nil {
		return fmt.Sprintf("The %s could not be read from %s.", what, host), err
	}
	if res.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("%s answered the %s request with HTTP %d.", host, what, res.StatusCode)
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			msg = fmt.Sprintf("%s answered the %s request with a redirect (HTTP %d); redirects are not followed.", host, what, res.StatusCode)
		}
		return msg, fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Sprintf("The %s from %s is not valid JSON.", what, host), err
	}
	return "", nil
}
