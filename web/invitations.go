package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// InvitationStore is what invitations read and write besides the
// accounts. portal.Store implements it.
type InvitationStore interface {
	auth.InvitationStore
	FindAccountTokens(ctx context.Context, purpose portal.TokenPurpose, now time.Time) ([]*portal.AccountToken, error)
}

const (
	adminInvitations  = "invitations"
	adminInvitationsU = "/admin/invitations"
	acceptInviteURL   = "/confirm/invitation"
	// invitationNext is where an invitation accepted with an identity
	// provider lands: the profile shows the linked identity.
	invitationNext = "/profile"
)

var (
	errNoInvitations      = portal.Errorf(portal.ENOTFOUND, "Invitations are not available on this portal.")
	errInvitationAnswered = portal.ErrInvitationAnswered
	errInviteeBlocked     = portal.Errorf(portal.EFORBIDDEN, "This account is blocked. Contact the portal's administrators.")
)

// handleAdminInvitations shows the invitation form and the invitations
// waiting to be accepted.
func (s *Server) handleAdminInvitations(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoInvitations)
		return
	}
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.renderAdminInvitations(w, r, settings, http.StatusOK, views.InvitationForm{}, portal.RoleDeveloper, "")
}

// handleAdminInvite invites the person of the form and mails them the
// link. Without the mail the invitation could never be accepted, so a
// failure to send withdraws it.
func (s *Server) handleAdminInvite(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoInvitations)
		return
	}
	ctx := r.Context()
	if err := parseAdminForm(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := views.InvitationForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Name: strings.TrimSpace(r.PostForm.Get("name"))}
	role := portal.Role(r.PostForm.Get("role"))
	inv, err := auth.Invite(ctx, s.store, f.Email, f.Name, role, s.auth.Now())
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderAdminInvitations(w, r, settings, status, f, role, message)
		}
		return
	}
	if err := s.sendInvitation(ctx, inv); err != nil {
		if rerr := s.withdrawInvitation(ctx, inv.User.ID); rerr != nil {
			s.logger.ErrorContext(ctx, "withdraw unsent invitation", "request_id", requestIDFrom(ctx), "error", rerr)
		}
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "invited", "request_id", requestIDFrom(ctx), "user_id", inv.User.ID, "role", string(inv.User.Role),
		"by", portal.UserFromContext(ctx).ID)
	s.done(w, r, adminInvitationsU, "Invitation sent to "+inv.User.Email+".")
}

// sendInvitation mails inv's link to the invited person.
func (s *Server) sendInvitation(ctx context.Context, inv *auth.Invitation) error {
	return s.sendMail(ctx, mail.Invitation, inv.User.Email, auth.InvitationPath(inv.Token),
		mail.Data{Name: inv.User.Name, ValidFor: auth.ValidFor(inv.TTL)})
}

// handleAdminRevokeInvitation withdraws the invitation of the user {id}:
// its links stop working, and the account made for it is deleted.
func (s *Server) handleAdminRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoInvitations)
		return
	}
	ctx := r.Context()
	u, err := s.userOfPath(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !auth.Invited(u) {
		s.error(w, r, portal.Errorf(portal.ECONFLICT, "%s has no invitation to revoke: the account is in use.", u.Email))
		return
	}
	if err := s.withdrawInvitation(ctx, u.ID); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "invitation revoked", "request_id", requestIDFrom(ctx), "user_id", u.ID)
	s.done(w, r, adminInvitationsU, "Invitation of "+u.Email+" revoked.")
}

// withdrawInvitation voids the invitation links of userID and deletes the
// account when it exists only for the invitation.
func (s *Server) withdrawInvitation(ctx context.Context, userID int64) error {
	if err := s.store.DeleteUserAccountTokens(ctx, userID, portal.TokenInvitation); err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if auth.Invited(u) {
		return s.store.DeleteUser(ctx, userID)
	}
	return nil
}

func (s *Server) renderAdminInvitations(w http.ResponseWriter, r *http.Request, settings *portal.Settings, status int, f views.InvitationForm, role portal.Role, message string) {
	ctx := r.Context()
	tokens, err := s.store.FindAccountTokens(ctx, portal.TokenInvitation, s.auth.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	f.Role = components.Select{ID: "invite-role", Name: "role", Label: "Role", TestID: "invitation-role", Choices: choices(string(role),
		components.Choice{Value: string(portal.RoleDeveloper), Label: "Developer"},
		components.Choice{Value: string(portal.RoleAdmin), Label: "Administrator"},
	)}
	v := views.AdminInvitationsView{
		Frame:    s.adminFrame(w, r, settings, adminInvitations, "Invitations", components.Link{Label: "Users", URL: "/admin/users"}),
		Error:    message,
		Form:     f,
		ValidFor: auth.ValidFor(settings.InvitationTTL),
	}
	for _, t := range tokens {
		u, err := s.store.FindUserByID(ctx, t.UserID)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if !auth.Invited(u) {
			continue // accepted on another path meanwhile; the link no longer works
		}
		v.Rows = append(v.Rows, views.AdminInvitationRow{
			Email:   u.Email,
			Name:    u.Name,
			Role:    roleLabel(u.Role),
			Invited: formatTime(t.CreatedAt),
			Expires: formatTime(t.ExpiresAt),
			Revoke: components.PostButton{Action: adminInvitationsU + "/" + strconv.FormatInt(u.ID, 10) + "/revoke", Label: "Revoke",
				Style: components.ButtonDanger, TestID: "invitation-revoke"},
		})
	}
	s.render(w, r, status, views.AdminInvitationsPage(v))
}

// invitation returns the invitation of token and its user, when the link
// still works and the account is still waiting for it.
func (s *Server) invitation(ctx context.Context, token string) (*portal.AccountToken, *portal.User, error) {
	if s.auth == nil {
		return nil, nil, errNoInvitations
	}
	t, err := s.auth.PeekToken(ctx, portal.TokenInvitation, token)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.FindUserByID(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case u.State == portal.UserBlocked:
		return nil, nil, errInviteeBlocked
	case !auth.Invited(u):
		return nil, nil, errInvitationAnswered
	}
	return t, u, nil
}

// handleAcceptInvitationPage is where an invitation link leads: who is
// invited, and the ways to accept. The link is checked, not used up: mail
// scanners open links, and a mistyped password must be correctable.
func (s *Server) handleAcceptInvitationPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	t, u, err := s.invitation(r.Context(), token)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.renderAcceptInvitation(w, r, http.StatusOK, token, t, u, "")
}

// handleAcceptInvitation accepts an invitation with a new password: the
// link is used up, the account becomes active with the password, and the
// caller is signed in on a new session.
func (s *Server) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	token := r.PostForm.Get("token")
	t, u, err := s.invitation(ctx, token)
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !settings.BasicAuth.SignIn {
		s.error(w, r, portal.Errorf(portal.EFORBIDDEN, "Signing in with a password is turned off on this portal; accept the invitation with an identity provider."))
		return
	}
	password, err := newPassword(r.PostForm, settings, u.Email)
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderAcceptInvitation(w, r, status, token, t, u, message)
		}
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// One transaction: the link used up, the identities a pending
	// account may have from a provider sign-up nobody confirmed dropped,
	// the password set, the account active. A refusal (a block made since
	// the link was checked, a concurrent acceptance) changes nothing.
	if u, err = s.auth.AcceptInvitation(ctx, token, portal.InvitationAcceptance{PasswordHash: hash}); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.auth.StartSession(ctx, w, r, u); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "invitation accepted", "request_id", requestIDFrom(ctx), "user_id", u.ID, "with", "password")
	r = r.WithContext(portal.NewContextWithUser(ctx, u))
	s.renderInvitationAccepted(w, r, u)
}

func (s *Server) renderInvitationAccepted(w http.ResponseWriter, r *http.Request, u *portal.User) {
	links := []components.Link{{Label: "Browse APIs", URL: catalogueURL("", "", 1)}, {Label: "Your profile", URL: "/profile"}}
	if u.IsAdmin() {
		links = append(links, components.Link{Label: "Administration", URL: adminURL})
	}
	s.renderMessage(w, r, views.MessageView{
		Heading:    "Welcome, " + u.Name,
		Paragraphs: []string{"Your invitation is accepted: your account is active and you are signed in."},
		TestID:     "invitation-accepted",
		Links:      links,
	})
}

// handleAcceptInvitationWithProvider accepts an invitation by signing in
// with the identity provider {idp}: the flow carries the token, and the
// callback (acceptInvitationCallback) uses it up and links the identity.
func (s *Server) handleAcceptInvitationWithProvider(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.error(w, r, errNoIdentityProviders)
		return
	}
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	token := r.PostForm.Get("token")
	_, u, err := s.invitation(r.Context(), token)
	if err != nil {
		s.error(w, r, err)
		return
	}
	to, err := s.oidc.Start(w, r, r.PathValue("idp"), auth.StartOptions{Next: invitationNext, Invitation: token, LoginHint: u.Email})
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// acceptInvitationCallback finishes an invitation flow whose identity the
// provider has proven: the store links it to the invited account, makes
// the account active and uses the link up, in one transaction (identities
// the pending account had are dropped, since nobody confirmed them); then
// the invitee is signed in. A refusal (the identity belongs to another
// account, the account was blocked or accepted meanwhile) changes
// nothing.
func (s *Server) acceptInvitationCallback(w http.ResponseWriter, r *http.Request, res *auth.Result) {
	ctx := r.Context()
	_, u, err := s.invitation(ctx, res.Invitation)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// One transaction, as with a password: the identity linked, the
	// account active, the link used up; an identity linked to another
	// account meanwhile, a block or a concurrent acceptance changes
	// nothing, and the link stays usable unless it was used.
	if u, err = s.auth.AcceptInvitation(ctx, res.Invitation, portal.InvitationAcceptance{Identity: res.Identity}); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.oidc.CompleteInvitation(ctx, w, r, res, u.ID); err != nil {
		// The invitation is accepted; only the session failed to start:
		// signing in with the identity works from here on.
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "invitation accepted", "request_id", requestIDFrom(ctx), "user_id", u.ID, "with", res.Identity.Provider)
	s.done(w, r, safeNext(res.Next), "Welcome, "+u.Name+". Your invitation is accepted and you are signed in.")
}

func (s *Server) renderAcceptInvitation(w http.ResponseWriter, r *http.Request, status int, token string, t *portal.AccountToken, u *portal.User, message string) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.AcceptInvitationView{
		Shell:             s.shell(r, settings, "Accept your invitation", ""),
		Token:             token,
		Name:              u.Name,
		Email:             u.Email,
		Role:              strings.ToLower(roleLabel(u.Role)),
		Expires:           formatTime(t.ExpiresAt),
		PasswordAllowed:   settings.BasicAuth.SignIn,
		MinPasswordLength: minPasswordLength(settings),
		Error:             message,
	}
	if s.oidc != nil {
		ps, err := s.store.FindIdentityProviders(ctx)
		if err != nil {
			s.error(w, r, err)
			return
		}
		for _, p := range ps {
			v.Providers = append(v.Providers, views.InvitationProviderButton{
				Name: p.Name, Label: p.Label(), Action: acceptInviteURL + "/idp/" + url.PathEscape(p.Name),
			})
		}
	}
	s.render(w, r, status, views.AcceptInvitationPage(v))
}

// userOfPath returns the user whose id is the {id} of the path.
func (s *Server) userOfPath(r *http.Request) (*portal.User, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, portal.Errorf(portal.ENOTFOUND, "User not found.")
	}
	return s.store.FindUserByID(r.Context(), id)
}

func adminUserURL(id int64) string { return "/admin/users/" + strconv.FormatInt(id, 10) }
