package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// SettingsStore saves the portal settings, besides what Store reads.
// portal.Store implements it.
type SettingsStore interface {
	// UpdateSettings validates and replaces the settings; EINVALID.
	UpdateSettings(ctx context.Context, s *portal.Settings) error
}

// adminSettings is the settings' section of the administration.
const adminSettings = "settings"

// adminSettingsURL is the settings page.
const adminSettingsURL = "/admin/settings"

// handleAdminSettings shows the portal settings.
func (s *Server) handleAdminSettings(w http.ResponseWriter, r *http.Request) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.renderSettingsForm(w, r, http.StatusOK, settings, settingsForm(settings), "")
}

// handleAdminSaveSettings saves the settings form. The store validates
// them; a refusal shows the form again as typed, with the message. The
// settings apply at once: pages, sign-in and sessions read them on every
// request.
func (s *Server) handleAdminSaveSettings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stored, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// A form that cannot be read shows the settings in force beside the
	// message, not empty fields that saving would write.
	form := settingsForm(stored)
	err = parseAdminForm(w, r)
	if err == nil {
		form = readSettingsForm(r)
		var next portal.Settings
		if next, err = applySettingsForm(form); err == nil {
			err = s.checkSignInLeft(ctx, &next)
		}
		if err == nil {
			err = next.CheckSignUp()
		}
		if err == nil {
			err = s.store.UpdateSettings(ctx, &next)
		}
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderSettingsForm(w, r, status, stored, form, message)
		}
		return
	}
	s.done(w, r, adminSettingsURL, "Settings saved.")
}

// checkSignInLeft refuses to turn password sign-in off while the
// administrator saving the settings has no identity to sign in with
// (at a configured provider): they would lock themselves out, and with no
// provider at all, everyone.
func (s *Server) checkSignInLeft(ctx context.Context, next *portal.Settings) error {
	switch who, err := s.lockedOut(ctx, next, ""); {
	case err != nil:
		return err
	case who == lockedOutEveryone:
		return portal.Errorf(portal.EINVALID, "Sign-in with email and password cannot be turned off while there is no identity provider to sign in with: nobody could sign in.")
	case who == lockedOutCaller:
		return portal.Errorf(portal.EINVALID, "Sign-in with email and password cannot be turned off before you link an identity to your account (on your profile): you could not sign in again.")
	}
	return nil
}

// lockout is whom a change leaves without a way to sign in.
type lockout int

const (
	lockedOutNobody   lockout = iota
	lockedOutEveryone         // password sign-in off and no provider left
	lockedOutCaller           // the administrator making the change
)

// lockedOut reports whom settings next, with the provider named gone
// deleted ("": none), would leave without a way to sign in: the settings
// page and the provider delete share it, so that neither can do what the
// other refuses.
func (s *Server) lockedOut(ctx context.Context, next *portal.Settings, gone string) (lockout, error) {
	if next.BasicAuth.SignIn {
		return lockedOutNobody, nil
	}
	ways, err := s.signInWays(ctx, portal.UserFromContext(ctx), next)
	if err != nil {
		return lockedOutNobody, err
	}
	if gone != "" {
		ways = ways.without(gone)
	}
	if len(ways.providers) == 0 {
		return lockedOutEveryone, nil
	}
	if !ways.canUnlink(0) {
		return lockedOutCaller, nil
	}
	return lockedOutNobody, nil
}

// settingsForm is the form showing settings.
func settingsForm(st *portal.Settings) views.SettingsForm {
	f := views.SettingsForm{
		Title:               st.Title,
		AnonymousAccess:     string(st.AnonymousAccess),
		SignIn:              st.BasicAuth.SignIn,
		SignUp:              st.BasicAuth.SignUp,
		EmailConfirmation:   st.BasicAuth.EmailConfirmation,
		AllowedEmailDomains: strings.Join(st.BasicAuth.AllowedEmailDomains, "\n"),
		TermsOfUse:          st.TermsOfUse,
		InvitationTTL:       shortDuration(st.InvitationTTL),
		IdleTimeout:         shortDuration(st.Session.IdleTimeout),
		AbsoluteTimeout:     shortDuration(st.Session.AbsoluteTimeout),
	}
	if n := st.BasicAuth.MinPasswordLength; n != 0 {
		f.MinPasswordLength = strconv.Itoa(n)
	}
	return f
}

// readSettingsForm reads the parsed settings form.
func readSettingsForm(r *http.Request) views.SettingsForm {
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	text := func(k string) string { return strings.TrimSpace(strings.ReplaceAll(f.Get(k), "\r\n", "\n")) }
	return views.SettingsForm{
		Title:               get("title"),
		AnonymousAccess:     get("anonymous_access"),
		SignIn:              get("signin") != "",
		SignUp:              get("signup") != "",
		EmailConfirmation:   get("email_confirmation") != "",
		AllowedEmailDomains: text("allowed_email_domains"),
		MinPasswordLength:   get("min_password_length"),
		TermsOfUse:          text("terms_of_use"),
		InvitationTTL:       get("invitation_ttl"),
		IdleTimeout:         get("idle_timeout"),
		AbsoluteTimeout:     get("absolute_timeout"),
	}
}

// applySettingsForm turns the form into settings; the store validates
// them.
func applySettingsForm(f views.SettingsForm) (portal.Settings, error) {
	var st portal.Settings
	minLength, err := parseCount("Minimum password length", f.MinPasswordLength)
	if err != nil {
		return st, err
	}
	ttl, err := parseDuration("Invitation lifetime", f.InvitationTTL)
	if err != nil {
		return st, err
	}
	idle, err := parseDuration("Session idle timeout", f.IdleTimeout)
	if err != nil {
		return st, err
	}
	absolute, err := parseDuration("Session absolute timeout", f.AbsoluteTimeout)
	if err != nil {
		return st, err
	}
	st = portal.Settings{
		Title:           f.Title,
		AnonymousAccess: portal.AnonymousAccess(f.AnonymousAccess),
		BasicAuth: portal.BasicAuthSettings{
			SignIn:              f.SignIn,
			SignUp:              f.SignUp,
			EmailConfirmation:   f.EmailConfirmation,
			AllowedEmailDomains: []string{},
			MinPasswordLength:   minLength,
		},
		TermsOfUse:    f.TermsOfUse,
		InvitationTTL: ttl,
		Session:       portal.SessionSettings{IdleTimeout: idle, AbsoluteTimeout: absolute},
	}
	// The field asks for one domain per line; commas and spaces separate
	// too, as people paste lists ("contoso.com, fabrikam.com").
	st.BasicAuth.AllowedEmailDomains = append(st.BasicAuth.AllowedEmailDomains, splitList(f.AllowedEmailDomains)...)
	return st, nil
}

// renderSettingsForm shows the settings form; stored are the settings in
// force, for the page's frame.
func (s *Server) renderSettingsForm(w http.ResponseWriter, r *http.Request, status int, stored *portal.Settings, form views.SettingsForm, message string) {
	v := views.SettingsView{
		Frame:  s.adminFrame(w, r, stored, adminSettings, "Settings"),
		Form:   form,
		Error:  message,
		Action: adminSettingsURL,
		Anonymous: choices(form.AnonymousAccess,
			components.Choice{Value: string(portal.AnonymousAllow), Label: "Browse the portal without signing in"},
			components.Choice{Value: string(portal.AnonymousRedirect), Label: "Redirect to sign-in"},
		),
	}
	s.render(w, r, status, views.SettingsPage(v))
}
