package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// IdentityProviderAdminStore is what the identity provider pages change.
// portal.Store implements it.
type IdentityProviderAdminStore interface {
	FindIdentityProviderByName(ctx context.Context, name string) (*portal.IdentityProvider, error)
	CreateIdentityProvider(ctx context.Context, p *portal.IdentityProvider) error
	UpdateIdentityProvider(ctx context.Context, name string, p *portal.IdentityProvider) (*portal.IdentityProvider, error)
	DeleteIdentityProvider(ctx context.Context, name string) error
}

// adminIdentityProviders is the identity providers' section of the
// administration.
const adminIdentityProviders = "identity-providers"

const adminIdentityProvidersURL = "/admin/identity-providers"

func adminIdentityProviderURL(name, action string) string {
	return adminIdentityProvidersURL + "/" + url.PathEscape(name) + "/" + action
}

// identityProviderTypes are the kinds of provider, in the order offered.
var identityProviderTypes = []struct {
	typ         portal.IdentityProviderType
	label, text string
}{
	{portal.IdentityProviderEntra, "Microsoft Entra ID", "Work and school accounts of one tenant, of any tenant (organizations) or with personal accounts too (common)."},
	{portal.IdentityProviderExternalID, "Microsoft Entra External ID", "Customer accounts of an External ID (CIAM) tenant."},
	{portal.IdentityProviderOIDC, "OpenID Connect", "Any provider with discovery: Keycloak, Okta, Auth0, Google, Dex, ..."},
}

func identityProviderTypeLabel(t portal.IdentityProviderType) string {
	for _, it := range identityProviderTypes {
		if it.typ == t {
			return it.label
		}
	}
	return string(t)
}

func knownIdentityProviderType(t string) bool {
	for _, it := range identityProviderTypes {
		if string(it.typ) == t {
			return true
		}
	}
	return false
}

// identityProviderCallbackURL is the redirect URI to register at the
// provider named name; "" when the server has no public URL.
func (s *Server) identityProviderCallbackURL(name string) string {
	if s.oidc != nil {
		return s.oidc.RedirectURI(name)
	}
	if s.publicURL == nil {
		return ""
	}
	return strings.TrimRight(s.publicURL.String(), "/") + "/signin/" + url.PathEscape(name) + "/callback"
}

// handleAdminIdentityProviders lists the identity providers.
func (s *Server) handleAdminIdentityProviders(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ps, err := s.store.FindIdentityProviders(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.AdminIdentityProvidersView{
		Frame:   s.adminFrame(w, r, settings, adminIdentityProviders, "Identity providers"),
		Enabled: s.oidc != nil,
	}
	for _, p := range ps {
		row := views.AdminIdentityProviderRow{
			Name:        p.Name,
			Label:       p.Label(),
			Type:        identityProviderTypeLabel(p.Type),
			CallbackURL: s.identityProviderCallbackURL(p.Name),
			EditURL:     adminIdentityProviderURL(p.Name, "edit"),
			TestURL:     adminIdentityProviderURL(p.Name, "test"),
		}
		switch p.Type {
		case portal.IdentityProviderOIDC:
			row.Where = p.Issuer
		default:
			row.Where = p.Tenant
			if row.Where == "" {
				row.Where = p.Authority
			}
		}
		if p.SignUp {
			row.Badges = append(row.Badges, components.Badge{Label: "Sign-up on", Tone: components.ToneSuccess})
		} else {
			row.Badges = append(row.Badges, components.Badge{Label: "Existing accounts only", Tone: components.ToneNeutral})
		}
		v.Providers = append(v.Providers, row)
	}
	s.render(w, r, http.StatusOK, views.AdminIdentityProvidersPage(v))
}

// handleAdminNewIdentityProvider asks for the kind of provider, then shows
// the empty form of that kind (?type=).
func (s *Server) handleAdminNewIdentityProvider(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		settings, err := s.store.FindSettings(r.Context())
		if err != nil {
			s.error(w, r, err)
			return
		}
		v := views.IdentityProviderTypesView{
			Frame: s.adminFrame(w, r, settings, adminIdentityProviders, "New identity provider",
				components.Link{Label: "Identity providers", URL: adminIdentityProvidersURL}),
			CancelURL: adminIdentityProvidersURL,
		}
		for _, it := range identityProviderTypes {
			v.Types = append(v.Types, views.IdentityProviderTypeChoice{
				Label: it.label, Description: it.text, TestID: "idp-type-" + string(it.typ),
				URL: adminIdentityProvidersURL + "/new?type=" + url.QueryEscape(string(it.typ)),
			})
		}
		s.render(w, r, http.StatusOK, views.IdentityProviderTypesPage(v))
		return
	}
	if !knownIdentityProviderType(typ) {
		s.error(w, r, portal.Errorf(portal.EINVALID, "The type must be entra, external-id or oidc."))
		return
	}
	form := views.IdentityProviderForm{Type: typ, SignUp: true}
	s.renderIdentityProviderForm(w, r, http.StatusOK, nil, form, "", nil)
}

// handleAdminCreateIdentityProvider creates a provider from the form.
func (s *Server) handleAdminCreateIdentityProvider(w http.ResponseWriter, r *http.Request) {
	var form views.IdentityProviderForm
	p := &portal.IdentityProvider{}
	err := parseAdminForm(w, r)
	if err == nil {
		form = readIdentityProviderForm(r)
		err = applyIdentityProviderForm(form, r.PostForm.Get("client_secret"), p)
	}
	if err == nil {
		err = s.store.CreateIdentityProvider(r.Context(), p)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderIdentityProviderForm(w, r, status, nil, form, message, nil)
		}
		return
	}
	s.done(w, r, adminIdentityProvidersURL, "Identity provider "+p.Name+" created. Register its callback URL at the provider.")
}

// handleAdminEditIdentityProvider shows a provider's form; ?type= shows
// the form of another type, to change it.
func (s *Server) handleAdminEditIdentityProvider(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.FindIdentityProviderByName(r.Context(), r.PathValue("idp"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	form := identityProviderFormOf(p)
	if typ := r.URL.Query().Get("type"); typ != "" {
		if !knownIdentityProviderType(typ) {
			s.error(w, r, portal.Errorf(portal.EINVALID, "The type must be entra, external-id or oidc."))
			return
		}
		form.Type = typ
	}
	s.renderIdentityProviderForm(w, r, http.StatusOK, p, form, "", nil)
}

// handleAdminUpdateIdentityProvider saves a provider's form. An empty
// client secret keeps the stored one.
func (s *Server) handleAdminUpdateIdentityProvider(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stored, err := s.store.FindIdentityProviderByName(ctx, r.PathValue("idp"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var form views.IdentityProviderForm
	p := &portal.IdentityProvider{}
	err = parseAdminForm(w, r)
	if err == nil {
		form = readIdentityProviderForm(r)
		err = applyIdentityProviderForm(form, r.PostForm.Get("client_secret"), p)
	}
	if err == nil {
		_, err = s.store.UpdateIdentityProvider(ctx, stored.Name, p)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderIdentityProviderForm(w, r, status, stored, form, message, nil)
		}
		return
	}
	s.done(w, r, adminIdentityProvidersURL, "Identity provider "+p.Name+" saved.")
}

// handleAdminTestIdentityProvider fetches the stored provider's discovery
// document and key set and shows what they say beside its form. The
// problem shown is worded for the page; the error behind it goes to the
// log.
func (s *Server) handleAdminTestIdentityProvider(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.store.FindIdentityProviderByName(ctx, r.PathValue("idp"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var c *auth.ProviderCheck
	if s.oidc != nil {
		c = s.oidc.CheckProvider(ctx, p)
	} else {
		c = auth.CheckProvider(ctx, auth.NewProviderClient(0), p)
	}
	if c.Detail != nil {
		s.logger.WarnContext(ctx, "identity provider test failed", "request_id", requestIDFrom(ctx), "provider", p.Name, "error", c.Detail)
	}
	check := &views.IdentityProviderCheck{OK: c.OK(), Problem: c.Problem, DiscoveryURL: c.DiscoveryURL}
	for _, f := range []components.Fact{
		{Label: "Issuer", Value: c.Issuer},
		{Label: "Authorization endpoint", Value: c.AuthorizationEndpoint},
		{Label: "Token endpoint", Value: c.TokenEndpoint},
		{Label: "Userinfo endpoint", Value: c.UserInfoEndpoint},
		{Label: "Key set", Value: c.JWKSURI},
	} {
		if f.Value != "" {
			check.Facts = append(check.Facts, f)
		}
	}
	if c.OK() {
		check.Facts = append(check.Facts, components.Fact{Label: "Signing keys", Value: countOf(c.SigningKeys, "key", "keys")})
	}
	s.renderIdentityProviderForm(w, r, http.StatusOK, p, identityProviderFormOf(p), "", check)
}

// handleAdminConfirmDeleteIdentityProvider asks before deleting a
// provider, or says why it cannot be deleted.
func (s *Server) handleAdminConfirmDeleteIdentityProvider(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.store.FindIdentityProviderByName(ctx, r.PathValue("idp"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.checkProviderDeletable(ctx, settings, p); err != nil {
		if _, message, ok := s.formError(w, r, err); ok {
			// The page that would ask shows the refusal instead, with no
			// button: the question has no answer that works.
			s.renderIdentityProviderDeleteRefused(w, r, http.StatusOK, settings, p, message)
		}
		return
	}
	v := views.ConfirmView{
		Frame: s.adminFrame(w, r, settings, adminIdentityProviders, "Delete "+p.Label(),
			components.Link{Label: "Identity providers", URL: adminIdentityProvidersURL},
			components.Link{Label: p.Label(), URL: adminIdentityProviderURL(p.Name, "edit")}),
		Question: "Delete the identity provider " + p.Label() + " (" + p.Name + ")?",
		Consequences: []string{
			"Its button leaves the sign-in page, and sign-ins already started with it fail.",
			"Accounts that signed in with it stay; they can sign in with a password or another provider.",
		},
		Action:    adminIdentityProviderURL(p.Name, "delete"),
		Button:    "Delete identity provider",
		CancelURL: adminIdentityProviderURL(p.Name, "edit"),
	}
	s.render(w, r, http.StatusOK, views.ConfirmPage(v))
}

// handleAdminDeleteIdentityProvider deletes a provider, unless that would
// leave nobody, or the administrator deleting it, a way to sign in.
func (s *Server) handleAdminDeleteIdentityProvider(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.store.FindIdentityProviderByName(ctx, r.PathValue("idp"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	err = s.checkProviderDeletable(ctx, settings, p)
	if err == nil {
		err = s.store.DeleteIdentityProvider(ctx, p.Name)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok && portal.ErrorCode(err) == portal.ECONFLICT {
			s.renderIdentityProviderDeleteRefused(w, r, status, settings, p, message)
		} else if ok {
			s.errorPage(w, r, status, message) // gone meanwhile
		}
		return
	}
	s.done(w, r, adminIdentityProvidersURL, "Identity provider "+p.Name+" deleted.")
}

// checkProviderDeletable refuses to delete p while password sign-in is
// off when it is the last provider, or the only one the calling
// administrator signs in with: the settings page refuses turning password
// sign-in off in the same cases (lockedOut). Without OIDC sign-in no
// provider signs anyone in, so deleting one locks nobody out.
func (s *Server) checkProviderDeletable(ctx context.Context, settings *portal.Settings, p *portal.IdentityProvider) error {
	if s.oidc == nil {
		return nil
	}
	switch who, err := s.lockedOut(ctx, settings, p.Name); {
	case err != nil:
		return err
	case who == lockedOutEveryone:
		return portal.Errorf(portal.ECONFLICT, "%s cannot be deleted while sign-in with email and password is off: it is the last identity provider, so nobody could sign in. Turn password sign-in on in Settings first.", p.Label())
	case who == lockedOutCaller:
		return portal.Errorf(portal.ECONFLICT, "%s cannot be deleted while sign-in with email and password is off: it is the only way you sign in. Link an identity at another provider to your account (on your profile), or turn password sign-in on in Settings, first.", p.Label())
	}
	return nil
}

// renderIdentityProviderDeleteRefused says why p cannot be deleted.
func (s *Server) renderIdentityProviderDeleteRefused(w http.ResponseWriter, r *http.Request, status int, settings *portal.Settings, p *portal.IdentityProvider, message string) {
	v := views.IdentityProviderDeleteRefusedView{
		Frame: s.adminFrame(w, r, settings, adminIdentityProviders, "Delete "+p.Label(),
			components.Link{Label: "Identity providers", URL: adminIdentityProvidersURL},
			components.Link{Label: p.Label(), URL: adminIdentityProviderURL(p.Name, "edit")}),
		Message:     message,
		SettingsURL: adminSettingsURL,
		BackURL:     adminIdentityProviderURL(p.Name, "edit"),
	}
	s.render(w, r, status, views.IdentityProviderDeleteRefusedPage(v))
}

// identityProviderFormOf fills the form from a stored provider, without
// its secret.
func identityProviderFormOf(p *portal.IdentityProvider) views.IdentityProviderForm {
	return views.IdentityProviderForm{
		Name:           p.Name,
		Type:           string(p.Type),
		DisplayName:    p.DisplayName,
		ClientID:       p.ClientID,
		Tenant:         p.Tenant,
		AllowedTenants: strings.Join(p.AllowedTenants, ", "),
		Authority:      p.Authority,
		Issuer:         p.Issuer,
		Scopes:         strings.Join(p.Scopes, " "),
		SignUp:         p.SignUp,
	}
}

// readIdentityProviderForm reads the parsed form; the client secret is
// read apart, so that it never reaches a re-rendered form.
func readIdentityProviderForm(r *http.Request) views.IdentityProviderForm {
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	form := views.IdentityProviderForm{
		Name:        get("name"),
		Type:        get("type"),
		DisplayName: get("display_name"),
		ClientID:    get("client_id"),
		Scopes:      get("scopes"),
		SignUp:      get("signup") != "",
	}
	// Only the fields of the type are read: a form switched from another
	// type does not carry the old type's values along.
	if form.ShowsTenant() {
		form.Tenant = get("tenant")
	}
	if form.ShowsAllowedTenants() {
		form.AllowedTenants = get("allowed_tenants")
	}
	if form.ShowsAuthority() {
		form.Authority = get("authority")
	}
	if form.ShowsIssuer() {
		form.Issuer = get("issuer")
	}
	return form
}

// applyIdentityProviderForm copies the form and secret into p; the store
// validates them. An empty secret keeps the stored one on update.
func applyIdentityProviderForm(f views.IdentityProviderForm, secret string, p *portal.IdentityProvider) error {
	if !knownIdentityProviderType(f.Type) {
		return portal.Errorf(portal.EINVALID, "The type must be entra, external-id or oidc.")
	}
	p.Name = f.Name
	p.Type = portal.IdentityProviderType(f.Type)
	p.DisplayName = f.DisplayName
	p.ClientID = f.ClientID
	p.ClientSecret = strings.TrimSpace(secret)
	p.Tenant = f.Tenant
	p.AllowedTenants = splitList(f.AllowedTenants)
	p.Authority = f.Authority
	p.Issuer = f.Issuer
	p.Scopes = strings.Fields(f.Scopes)
	p.SignUp = f.SignUp
	return nil
}

// splitList splits text at commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// renderIdentityProviderForm shows the provider form of form.Type: for a
// new provider when stored is nil. check, when set, is a test's result.
func (s *Server) renderIdentityProviderForm(w http.ResponseWriter, r *http.Request, status int, stored *portal.IdentityProvider, form views.IdentityProviderForm, message string, check *views.IdentityProviderCheck) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	typ := portal.IdentityProviderType(form.Type)
	v := views.IdentityProviderFormView{
		Form:      form,
		Error:     message,
		CancelURL: adminIdentityProvidersURL,
		TypeLabel: identityProviderTypeLabel(typ),
		Check:     check,
	}
	trail := components.Link{Label: "Identity providers", URL: adminIdentityProvidersURL}
	base := adminIdentityProvidersURL + "/new"
	if stored == nil {
		v.Create = true
		v.Action = adminIdentityProvidersURL
		v.CallbackURL = s.identityProviderCallbackURL("{name}")
		v.CallbackURL = strings.Replace(v.CallbackURL, url.PathEscape("{name}"), "{name}", 1)
		v.Frame = s.adminFrame(w, r, settings, adminIdentityProviders, "New "+v.TypeLabel+" provider", trail)
	} else {
		base = adminIdentityProviderURL(stored.Name, "edit")
		v.Action = adminIdentityProviderURL(stored.Name, "edit")
		v.DeleteURL = adminIdentityProviderURL(stored.Name, "delete")
		v.TestURL = adminIdentityProviderURL(stored.Name, "test")
		v.SecretStored = stored.ClientSecret != ""
		v.CallbackURL = s.identityProviderCallbackURL(stored.Name)
		v.Frame = s.adminFrame(w, r, settings, adminIdentityProviders, "Edit "+stored.Label(), trail)
	}
	for _, it := range identityProviderTypes {
		if it.typ != typ {
			v.TypeURLs = append(v.TypeURLs, components.Link{Label: it.label, URL: base + "?type=" + url.QueryEscape(string(it.typ))})
		}
	}
	s.render(w, r, status, views.IdentityProviderFormPage(v))
}
