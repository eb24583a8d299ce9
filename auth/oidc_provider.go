package auth

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/porticoapi/portico/portal"
	"golang.org/x/oauth2"
)

// oidcProvider is a configured provider with its discovered endpoints,
// cached until its configuration changes or discoveryTTL passes.
type oidcProvider struct {
	name           string
	typ            portal.IdentityProviderType
	clientID       string
	signUp         bool
	allowedTenants []string
	// issuer is the exact issuer ID tokens must carry; for Entra's
	// organizations and common it is the template with "{tenantid}".
	issuer      string
	multitenant bool
	userInfoURL string

	oauth    *oauth2.Config
	oidc     *oidc.Provider
	verifier *oidc.IDTokenVerifier
	keys     *keySet

	updated time.Time // the configuration's UpdatedAt
	fetched time.Time
}

// discoveryDoc is what the portal reads of a discovery document.
type discoveryDoc struct {
	Issuer        string   `json:"issuer"`
	Authorization string   `json:"authorization_endpoint"`
	Token         string   `json:"token_endpoint"`
	UserInfo      string   `json:"userinfo_endpoint"`
	JWKS          string   `json:"jwks_uri"`
	Algorithms    []string `json:"id_token_signing_alg_values_supported"`
}

// DiscoveryURL returns where p's discovery document is: {issuer}/.well-known/openid-configuration
// for oidc; {authority}/{tenant}/v2.0/... for Entra (authority
// DefaultEntraAuthority by default); {authority}/... for External ID, whose
// authority defaults to https://{subdomain}.ciamlogin.com/{tenant}/v2.0,
// the subdomain being the tenant domain's first label.
func DiscoveryURL(p *portal.IdentityProvider) (string, error) {
	const wellKnown = "/.well-known/openid-configuration"
	switch p.Type {
	case portal.IdentityProviderOIDC:
		return strings.TrimRight(p.Issuer, "/") + wellKnown, nil
	case portal.IdentityProviderEntra:
		authority := p.Authority
		if authority == "" {
			authority = portal.DefaultEntraAuthority
		}
		return strings.TrimRight(authority, "/") + "/" + url.PathEscape(p.Tenant) + "/v2.0" + wellKnown, nil
	case portal.IdentityProviderExternalID:
		if p.Authority != "" {
			return strings.TrimRight(p.Authority, "/") + wellKnown, nil
		}
		sub, _, _ := strings.Cut(p.Tenant, ".")
		if sub == "" {
			return "", fmt.Errorf("identity provider %s: External ID needs a tenant or an authority", p.Name)
		}
		return "https://" + sub + ".ciamlogin.com/" + url.PathEscape(p.Tenant) + "/v2.0" + wellKnown, nil
	}
	return "", fmt.Errorf("identity provider %s: unknown type %q", p.Name, p.Type)
}

// provider returns the ready provider named name, discovering it when its
// configuration changed or its discovery is older than discoveryTTL.
func (o *OIDC) provider(ctx context.Context, name string) (*oidcProvider, error) {
	cfg, err := o.store.FindIdentityProviderByName(ctx, name)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return nil, refuse(errProviderUnknown, "unknown_provider", nil)
	} else if err != nil {
		return nil, fmt.Errorf("find identity provider: %w", err)
	}
	o.mu.Lock()
	p := o.providers[name]
	o.mu.Unlock()
	if p != nil && p.updated.Equal(cfg.UpdatedAt) && o.now().Sub(p.fetched) < discoveryTTL {
		return p, nil
	}
	var keys *keySet
	if p != nil && p.updated.Equal(cfg.UpdatedAt) {
		keys = p.keys // same configuration: keep the keys and their fetch limit
	}
	p, err = o.discover(ctx, cfg, keys)
	if err != nil {
		return nil, refuse(errProviderDown, "discovery_failed", err)
	}
	o.mu.Lock()
	o.providers[name] = p
	o.mu.Unlock()
	return p, nil
}

// discover fetches cfg's discovery document and builds the provider. For
// oidc the document's issuer must be the configured one, exactly (OpenID
// Connect Discovery 4.3). For Entra and External ID the configured values
// are an authority and a tenant, whose issuer is only known from the
// document fetched from that authority: its issuer is taken, and for
// Entra's organizations and common it must be the {tenantid} template.
func (o *OIDC) discover(ctx context.Context, cfg *portal.IdentityProvider, keys *keySet) (*oidcProvider, error) {
	u, err := DiscoveryURL(cfg)
	if err != nil {
		return nil, err
	}
	var d discoveryDoc
	if err := getJSON(ctx, o.client, u, &d); err != nil {
		return nil, err
	}
	multitenant := cfg.Multitenant()
	switch {
	case d.Issuer == "":
		return nil, fmt.Errorf("%s has no issuer", u)
	case cfg.Type == portal.IdentityProviderOIDC && d.Issuer != cfg.Issuer:
		return nil, fmt.Errorf("%s names issuer %q, not the configured %q", u, d.Issuer, cfg.Issuer)
	case multitenant && strings.Count(d.Issuer, "{tenantid}") != 1:
		return nil, fmt.Errorf("%s names issuer %q, without the {tenantid} template of a multi-tenant authority", u, d.Issuer)
	case !multitenant && strings.Contains(d.Issuer, "{"):
		return nil, fmt.Errorf("%s names a templated issuer %q for a single tenant", u, d.Issuer)
	}
	for _, e := range []string{d.Authorization, d.Token, d.JWKS} {
		if !httpURL(e) {
			return nil, fmt.Errorf("%s lacks an http(s) authorization, token or jwks endpoint", u)
		}
	}
	if d.UserInfo != "" && !httpURL(d.UserInfo) {
		return nil, fmt.Errorf("%s has a bad userinfo endpoint", u)
	}
	var algs []string
	for _, a := range d.Algorithms {
		if slices.ContainsFunc(asymmetricAlgs, func(s jose.SignatureAlgorithm) bool { return string(s) == a }) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	if keys == nil || keys.url != d.JWKS {
		keys = newKeySet(d.JWKS, o.client, o.refetch, o.now)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = portal.DefaultIdentityScopes
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	p := &oidcProvider{
		name:           cfg.Name,
		typ:            cfg.Type,
		clientID:       cfg.ClientID,
		signUp:         cfg.SignUp,
		allowedTenants: cfg.AllowedTenants,
		issuer:         d.Issuer,
		multitenant:    multitenant,
		userInfoURL:    d.UserInfo,
		keys:           keys,
		updated:        cfg.UpdatedAt,
		fetched:        o.now(),
		oauth: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: d.Authorization, TokenURL: d.Token},
			RedirectURL:  o.RedirectURI(cfg.Name),
			Scopes:       scopes,
		},
	}
	p.oidc = (&oidc.ProviderConfig{
		IssuerURL: d.Issuer, AuthURL: d.Authorization, TokenURL: d.Token, UserInfoURL: d.UserInfo,
		JWKSURL: d.JWKS, Algorithms: algs,
	}).NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), o.client))
	p.verifier = oidc.NewVerifier(d.Issuer, keys, &oidc.Config{
		ClientID:             cfg.ClientID,
		SupportedSigningAlgs: algs,
		Now:                  o.now,
		// The multi-tenant template cannot match; verify checks the
		// issuer against the template filled with the token's tid.
		SkipIssuerCheck: multitenant,
	})
	return p, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
