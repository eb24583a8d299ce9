package portal

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// IdentityProviderType says how the portal talks to an identity provider.
type IdentityProviderType string

const (
	// IdentityProviderEntra is Microsoft Entra ID: single-tenant (a tenant
	// id or domain) or multi-tenant (organizations, common).
	IdentityProviderEntra IdentityProviderType = "entra"
	// IdentityProviderExternalID is Microsoft Entra External ID (CIAM).
	IdentityProviderExternalID IdentityProviderType = "external-id"
	// IdentityProviderOIDC is any OpenID Connect provider with discovery.
	IdentityProviderOIDC IdentityProviderType = "oidc"
)

// DefaultEntraAuthority is the authority of the Entra public cloud.
const DefaultEntraAuthority = "https://login.microsoftonline.com"

// DefaultIdentityScopes are the scopes asked for when a provider lists none.
var DefaultIdentityScopes = []string{"openid", "profile", "email"}

// IdentityProvider is an OpenID Connect provider developers sign in with.
// Its sign-in callback is {public-url}/signin/{Name}/callback.
type IdentityProvider struct {
	ID          int64
	Name        string // URL-safe, unique
	Type        IdentityProviderType
	DisplayName string // on the sign-in button; Name when empty

	ClientID string
	// ClientSecret is a secret: stores keep it sealed, exports redact it.
	ClientSecret string

	// Tenant is Entra's sign-in tenant (a tenant id, a domain,
	// "organizations" or "common") and External ID's tenant (id or
	// domain).
	Tenant string
	// AllowedTenants are the tenant ids accepted in an Entra token's tid
	// claim; empty accepts any (for a multi-tenant app, only when that is
	// really meant).
	AllowedTenants []string
	// Authority overrides the base URL: Entra's default is
	// DefaultEntraAuthority (sovereign clouds and tests change it);
	// External ID's default is https://{subdomain}.ciamlogin.com/{tenant}/v2.0
	// (then the authority is the whole issuer base, ending in /v2.0).
	Authority string
	// Issuer is the oidc type's issuer URL; discovery is at
	// {Issuer}/.well-known/openid-configuration.
	Issuer string
	// Scopes asked for; DefaultIdentityScopes when empty. openid is always
	// asked for.
	Scopes []string
	// SignUp lets a first sign-in create an account (when the portal's
	// settings allow sign-up); false admits only linked or invited users.
	SignUp bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Label is what the sign-in button says.
func (p *IdentityProvider) Label() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

// Multitenant reports whether an Entra provider signs in users of any
// tenant (organizations or common), so that the issuer depends on the
// token's tid.
func (p *IdentityProvider) Multitenant() bool {
	t := strings.ToLower(p.Tenant)
	return p.Type == IdentityProviderEntra && (t == "organizations" || t == "common")
}

// Validate trims the fields and checks what the sign-in flow relies on.
func (p *IdentityProvider) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	p.ClientID = strings.TrimSpace(p.ClientID)
	p.Tenant = strings.TrimSpace(p.Tenant)
	p.Authority = strings.TrimRight(strings.TrimSpace(p.Authority), "/")
	p.Issuer = strings.TrimSpace(p.Issuer)
	if err := validateName("Identity provider", p.Name); err != nil {
		return err
	}
	if len(p.DisplayName) > 100 {
		return Errorf(EINVALID, "Identity provider %s: display name must be at most 100 characters.", p.Name)
	}
	if p.ClientID == "" || len(p.ClientID) > 200 {
		return Errorf(EINVALID, "Identity provider %s: client id required (at most 200 characters).", p.Name)
	}
	if len(p.ClientSecret) > 1000 {
		return Errorf(EINVALID, "Identity provider %s: client secret must be at most 1000 characters.", p.Name)
	}
	if p.Authority != "" {
		if err := validateProviderURL(p.Authority); err != nil {
			return Errorf(EINVALID, "Identity provider %s: authority %s", p.Name, err.Message)
		}
	}
	if len(p.Tenant) > 200 || strings.ContainsAny(p.Tenant, "/?#% ") {
		return Errorf(EINVALID, "Identity provider %s: tenant %q must be a tenant id or domain.", p.Name, p.Tenant)
	}
	switch p.Type {
	case IdentityProviderEntra:
		if p.Tenant == "" {
			return Errorf(EINVALID, "Identity provider %s: an Entra provider needs a tenant (id, domain, organizations or common).", p.Name)
		}
		if p.Issuer != "" {
			return Errorf(EINVALID, "Identity provider %s: an Entra provider takes a tenant and an authority, not an issuer.", p.Name)
		}
	case IdentityProviderExternalID:
		if p.Tenant == "" && p.Authority == "" {
			return Errorf(EINVALID, "Identity provider %s: an External ID provider needs a tenant or an authority.", p.Name)
		}
		if p.Issuer != "" {
			return Errorf(EINVALID, "Identity provider %s: an External ID provider takes a tenant or an authority, not an issuer.", p.Name)
		}
	case IdentityProviderOIDC:
		if p.Issuer == "" {
			return Errorf(EINVALID, "Identity provider %s: an oidc provider needs an issuer URL.", p.Name)
		}
		if err := validateProviderURL(p.Issuer); err != nil {
			return Errorf(EINVALID, "Identity provider %s: issuer %s", p.Name, err.Message)
		}
		if p.Tenant != "" || p.Authority != "" || len(p.AllowedTenants) > 0 {
			return Errorf(EINVALID, "Identity provider %s: tenant, allowed tenants and authority are for entra and external-id providers.", p.Name)
		}
	default:
		return Errorf(EINVALID, "Identity provider %s: type %q must be entra, external-id or oidc.", p.Name, p.Type)
	}
	for i, t := range p.AllowedTenants {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || len(t) > 100 || strings.ContainsAny(t, "/?#% ") {
			return Errorf(EINVALID, "Identity provider %s: allowed tenant %q must be a tenant id.", p.Name, p.AllowedTenants[i])
		}
		p.AllowedTenants[i] = t
	}
	if len(p.AllowedTenants) > 0 && p.Type != IdentityProviderEntra {
		return Errorf(EINVALID, "Identity provider %s: allowed tenants are for entra providers.", p.Name)
	}
	for _, s := range p.Scopes {
		if s == "" || len(s) > 200 || strings.ContainsAny(s, " \t\r\n\"\\") {
			return Errorf(EINVALID, "Identity provider %s: scope %q is not a scope token.", p.Name, s)
		}
	}
	return nil
}

// validateProviderURL accepts an absolute https URL without query or
// fragment, or http for loopback hosts (development and tests).
func validateProviderURL(s string) *Error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Errorf(EINVALID, "%q must be an absolute https URL without query or fragment.", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			return nil
		}
	}
	return Errorf(EINVALID, "%q must be an https URL (http only for localhost).", s)
}

// Identity links an account at an identity provider to a portal user. It
// is keyed by (Issuer, Subject): for OpenID Connect providers the token's
// iss and sub, for Entra (whose sub differs per application) the tenant
// and the object id, Issuer "entra:{tid}" and Subject the oid. An email
// address never links an identity to a user.
type Identity struct {
	ID       int64
	UserID   int64
	Provider string // the identity provider's name when it was linked
	Issuer   string
	Subject  string
	// Email is the address the provider claimed at the last sign-in, for
	// display only.
	Email string
	// Unconfirmed marks the identity of a provider sign-up whose address
	// the provider did not vouch for: nobody has proven that whoever
	// holds the identity owns the account's address, so it never signs
	// in. Only that sign-up's confirmation link (a mail to the address,
	// AccountTokenService.ConfirmSignup) or its holder linking it again
	// while signed in to the account (ConfirmIdentity) confirms it; every
	// other way the account becomes active (a password reset, an
	// invitation accepted, an administrator or a config file) removes it.
	// Identities linked any other way are confirmed (the zero value).
	Unconfirmed bool
	CreatedAt   time.Time
	LastUsed    time.Time
}

// EntraIssuerKey is the Issuer of an Entra identity of tenant tid.
func EntraIssuerKey(tid string) string { return "entra:" + strings.ToLower(tid) }

// Validate checks the identity's key and user.
func (i *Identity) Validate() error {
	switch {
	case i.UserID == 0:
		return Errorf(EINVALID, "Identity user required.")
	case i.Issuer == "" || len(i.Issuer) > 500:
		return Errorf(EINVALID, "Identity issuer required (at most 500 characters).")
	case i.Subject == "" || len(i.Subject) > 500:
		return Errorf(EINVALID, "Identity subject required (at most 500 characters).")
	case len(i.Provider) > MaxNameLength || len(i.Email) > 254:
		return Errorf(EINVALID, "Identity provider name or email too long.")
	}
	return nil
}

// IdentityProviderService manages identity providers and the identities
// linked to users.
type IdentityProviderService interface {
	// FindIdentityProviderByName returns ENOTFOUND.
	FindIdentityProviderByName(ctx context.Context, name string) (*IdentityProvider, error)
	// FindIdentityProviders returns every provider ordered by name.
	FindIdentityProviders(ctx context.Context) ([]*IdentityProvider, error)
	// CreateIdentityProvider sets ID, CreatedAt and UpdatedAt on p.
	// Returns EINVALID or ECONFLICT (name taken).
	CreateIdentityProvider(ctx context.Context, p *IdentityProvider) error
	// UpdateIdentityProvider replaces the provider named name with p (whose
	// Name may differ, renaming it: the identities linked through it then
	// name the new one, in the same transaction). An empty ClientSecret
	// keeps the stored one. Returns ENOTFOUND, EINVALID or ECONFLICT.
	UpdateIdentityProvider(ctx context.Context, name string, p *IdentityProvider) (*IdentityProvider, error)
	// DeleteIdentityProvider removes the provider; identities linked
	// through it stay (they are keyed by issuer). Returns ENOTFOUND.
	DeleteIdentityProvider(ctx context.Context, name string) error

	// FindIdentity returns the identity with this issuer and subject.
	// Returns ENOTFOUND.
	FindIdentity(ctx context.Context, issuer, subject string) (*Identity, error)
	// FindUserIdentities returns a user's identities, oldest first.
	FindUserIdentities(ctx context.Context, userID int64) ([]*Identity, error)
	// CreateIdentity links i to its user, confirmed or not as
	// i.Unconfirmed says; sets ID, CreatedAt and LastUsed.
	// Returns EINVALID, ENOTFOUND (no such user) or ECONFLICT (the
	// identity is linked already, to this or another user).
	CreateIdentity(ctx context.Context, i *Identity) error
	// TouchIdentity records a sign-in with the identity: LastUsed and the
	// claimed email. Returns ENOTFOUND.
	TouchIdentity(ctx context.Context, id int64, email string, at time.Time) error
	// DeleteIdentity unlinks one identity of a user. Returns ENOTFOUND
	// (also when it belongs to another user).
	DeleteIdentity(ctx context.Context, userID, id int64) error
	// ConfirmIdentity confirms the identity id of the user (see
	// Identity.Unconfirmed): its signed-in owner has just signed in with
	// it at the provider. Returns ENOTFOUND (also when it belongs to
	// another user).
	ConfirmIdentity(ctx context.Context, userID, id int64) error
}
