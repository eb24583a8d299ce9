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

// discoveryFailure is a failed discovery, answered from memory for
// discoveryFailureTTL while the configuration stays the same.
type discoveryFailure struct {
	updated time.Time // the configuration's UpdatedAt
	at      time.Time
	err     error
}

// provider returns the ready provider named name (providerConfig, then
// ready).
func (o *OIDC) provider(ctx context.Context, name string) (*oidcProvider, error) {
	cfg, err := o.providerConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	return o.ready(ctx, cfg)
}

// providerConfig returns the stored configuration of the provider named
// name: a refusal with ENOTFOUND when there is none.
func (o *OIDC) providerConfig(ctx context.Context, name string) (*portal.IdentityProvider, error) {
	cfg, err := o.store.FindIdentityProviderByName(ctx, name)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return nil, refuse(errProviderUnknown, "unknown_provider", nil)
	} else if err != nil {
		return nil, fmt.Errorf("find identity provider: %w", err)
	}
	return cfg, nil
}

// cached returns what is remembered of cfg's provider: a discovery
// younger than discoveryTTL, or a failure younger than
// discoveryFailureTTL (ok true), or nothing usable (ok false).
func (o *OIDC) cached(cfg *portal.IdentityProvider) (p *oidcProvider, err error, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if p := o.providers[cfg.Name]; p != nil && p.updated.Equal(cfg.UpdatedAt) && now.Sub(p.fetched) < discoveryTTL {
		return p, nil, true
	}
	if f, found := o.failures[cfg.Name]; found && f.updated.Equal(cfg.UpdatedAt) && now.Sub(f.at) < discoveryFailureTTL {
		return nil, refuse(errProviderDown, "discovery_failed_recently", f.err), true
	}
	return nil, nil, false
}

// ready returns cfg's provider, discovering it when its configuration
// changed or its discovery is older than discoveryTTL. Concurrent calls
// for one provider share one discovery, and a failure is remembered for
// discoveryFailureTTL.
func (o *OIDC) ready(ctx context.Context, cfg *portal.IdentityProvider) (*oidcProvider, error) {
	if p, err, ok := o.cached(cfg); ok {
		return p, err
	}
	o.mu.Lock()
	turn := o.discovering[cfg.Name]
	if turn == nil {
		turn = make(chan struct{}, 1)
		o.discovering[cfg.Name] = turn
	}
	o.mu.Unlock()
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return nil, refuse(errProviderDown, "discovery_wait_cancelled", ctx.Err())
	}
	defer func() { <-turn }()
	// Whoever held the turn may have discovered it meanwhile.
	if p, err, ok := o.cached(cfg); ok {
		return p, err
	}
	o.mu.Lock()
	var keys *keySet
	if old := o.providers[cfg.Name]; old != nil && old.updated.Equal(cfg.UpdatedAt) {
		keys = old.keys // same configuration: keep the keys and their fetch limit
	}
	o.mu.Unlock()
	// Not cancelled with the visitor who happened to ask first: the
	// outcome is shared and remembered (the client's timeout bounds it).
	p, err := o.discover(context.WithoutCancel(ctx), cfg, keys)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.failures[cfg.Name] = discoveryFailure{updated: cfg.UpdatedAt, at: o.now(), err: err}
		return nil, refuse(errProviderDown, "discovery_failed", err)
	}
	delete(o.failures, cfg.Name)
	o.providers[cfg.Name] = p
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
