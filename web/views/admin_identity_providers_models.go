package views

import "github.com/porticoapi/portico/web/components"

// AdminIdentityProvidersView lists the identity providers developers sign
// in with.
type AdminIdentityProvidersView struct {
	Frame     AdminFrame
	Providers []AdminIdentityProviderRow
	// Enabled is false when the portal runs without OIDC sign-in: the
	// providers are kept but no sign-in button is shown.
	Enabled bool
}

// AdminIdentityProviderRow is one provider in the administration list.
type AdminIdentityProviderRow struct {
	Name        string
	Label       string
	Type        string // "Microsoft Entra ID", ...
	Where       string // the tenant or issuer it signs in against
	CallbackURL string
	EditURL     string
	TestURL     string // POST: check the discovery document
	Badges      []components.Badge
}

// IdentityProviderTypeChoice is one type offered when adding a provider.
type IdentityProviderTypeChoice struct {
	Label       string
	Description string
	URL         string // the form for this type
	TestID      string
}

// IdentityProviderTypesView asks which kind of provider to add.
type IdentityProviderTypesView struct {
	Frame     AdminFrame
	Types     []IdentityProviderTypeChoice
	CancelURL string
}

// IdentityProviderForm holds the values of the provider form as typed.
// The client secret is never among them: it is never rendered back.
type IdentityProviderForm struct {
	Name           string
	Type           string // entra, external-id or oidc; fixes the fields shown
	DisplayName    string
	ClientID       string
	Tenant         string
	AllowedTenants string // separated by commas or spaces
	Authority      string
	Issuer         string
	Scopes         string // separated by spaces
	SignUp         bool
}

// IdentityProviderFormView creates (Create) or edits a provider of
// Form.Type, showing the fields that type uses.
type IdentityProviderFormView struct {
	Frame     AdminFrame
	Create    bool
	Action    string
	CancelURL string
	DeleteURL string // edit only
	TestURL   string // edit only
	Error     string
	Form      IdentityProviderForm
	TypeLabel string
	// TypeURLs switch the form to another type (the typed values that the
	// other type uses are kept only on the stored provider).
	TypeURLs []components.Link
	// SecretStored says the provider has a client secret: an empty field
	// keeps it.
	SecretStored bool
	// CallbackURL is the redirect URI to register at the provider: the
	// stored name's on edit, the public URL's pattern on create.
	CallbackURL string
	// Check is the result of the last "Test", when the page answers one.
	Check *IdentityProviderCheck
}

// IdentityProviderCheck shows what fetching a provider's discovery
// document found.
type IdentityProviderCheck struct {
	OK           bool
	Problem      string
	DiscoveryURL string
	Facts        []components.Fact // issuer and endpoints found
}

// ShowsTenant and the others say which fields Form.Type uses.
func (f IdentityProviderForm) ShowsTenant() bool { return f.Type == "entra" || f.Type == "external-id" }

// ShowsAllowedTenants reports whether the type has allowed tenants (Entra).
func (f IdentityProviderForm) ShowsAllowedTenants() bool { return f.Type == "entra" }

// ShowsAuthority reports whether the type has an authority (both Entra kinds).
func (f IdentityProviderForm) ShowsAuthority() bool {
	return f.Type == "entra" || f.Type == "external-id"
}

// ShowsIssuer reports whether the type has an issuer (oidc).
func (f IdentityProviderForm) ShowsIssuer() bool { return f.Type == "oidc" }

// IdentityProviderDeleteRefusedView says why a provider cannot be deleted
// now, in place of the question.
type IdentityProviderDeleteRefusedView struct {
	Frame       AdminFrame
	Message     string
	SettingsURL string
	BackURL     string // the provider's form
}
