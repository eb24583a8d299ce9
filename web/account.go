package web

import (
	"net/http"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// The signed-in user's own account: change the password
// (GET/POST /profile/password) and close the account
// (GET/POST /profile/close). Both routes pass auth.RequireUser.

// handleChangePasswordPage shows the password form.
func (s *Server) handleChangePasswordPage(w http.ResponseWriter, r *http.Request) {
	notice := s.takeFlash(w, r, flashNotice)
	s.renderChangePassword(w, r, http.StatusOK, notice, "")
}

// handleChangePassword checks the current password (a wrong one counts
// against the sign-in limits), sets the new one, ends every other session
// of the account and voids its reset links.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	u := portal.UserFromContext(ctx)
	fail := func(err error) {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderChangePassword(w, r, status, "", message)
		}
	}
	if u.PasswordHash == "" {
		fail(portal.Errorf(portal.EFORBIDDEN, "Your account has no password to change. Ask for a reset link to set one."))
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	current := r.PostForm.Get("current")
	if err := s.auth.CheckPassword(r, u, current); err != nil {
		fail(err)
		return
	}
	password, err := newPassword(r.PostForm, settings, u.Email)
	if err != nil {
		fail(err)
		return
	}
	if password == current {
		fail(portal.Errorf(portal.EINVALID, "The new password is the same as the current one."))
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// One store transaction sets the password, ends the other sessions
	// and voids the reset links: a failure changes nothing, and the new
	// password never lives beside the sessions it should have ended.
	if _, err := s.auth.ChangePassword(ctx, r, s.store, u, hash); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "password changed", "user_id", u.ID)
	s.done(w, r, changePasswordURL, "Your password is changed. Every other browser or device signed in to your account has been signed out.")
}

func (s *Server) renderChangePassword(w http.ResponseWriter, r *http.Request, status int, notice, message string) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	u := portal.UserFromContext(r.Context())
	s.render(w, r, status, views.ChangePasswordPage(views.ChangePasswordView{
		Shell:             s.shell(r, settings, "Change your password", ""),
		HasPassword:       u.PasswordHash != "",
		MinPasswordLength: minPasswordLength(settings),
		Error:             message,
		Notice:            notice,
		ResetURL:          resetPasswordURL,
		CloseURL:          closeAccountURL,
	}))
}

// handleCloseAccountPage asks for confirmation.
func (s *Server) handleCloseAccountPage(w http.ResponseWriter, r *http.Request) {
	s.renderCloseAccount(w, r, http.StatusOK, "")
}

// handleCloseAccount deletes the signed-in user's account, as APIM does
// when a developer closes theirs: the store deletes the user with their
// subscriptions (so their keys stop passing at once), sessions and links.
// It needs the box ticked and, for an account with a password, the
// password; the portal's last active administrator cannot close theirs.
func (s *Server) handleCloseAccount(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	u := portal.UserFromContext(ctx)
	fail := func(err error) {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderCloseAccount(w, r, status, message)
		}
	}
	if r.PostForm.Get("confirm") == "" {
		fail(portal.Errorf(portal.EINVALID, "Tick the box to confirm that you want your account deleted."))
		return
	}
	if u.PasswordHash != "" {
		if err := s.auth.CheckPassword(r, u, r.PostForm.Get("password")); err != nil {
			fail(err)
			return
		}
	}
	if u.IsAdmin() {
		_, admins, err := s.store.FindUsers(ctx, portal.UserFilter{Role: portal.RoleAdmin, State: portal.UserActive, Limit: 1})
		if err != nil {
			s.error(w, r, err)
			return
		}
		if admins <= 1 {
			fail(portal.Errorf(portal.ECONFLICT, "You are the portal's only administrator. Make someone else an administrator before closing your account."))
			return
		}
	}
	// The check above gives the usual answer a friendly wording; the
	// store refuses (ECONFLICT) when two administrators close their
	// accounts at the same time.
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		fail(err)
		return
	}
	if err := s.auth.SignOut(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "account closed", "user_id", u.ID)
	r = r.WithContext(portal.NewContextWithUser(ctx, nil))
	s.renderMessage(w, r, views.MessageView{
		Heading:    "Your account is closed",
		Paragraphs: []string{"Your account and its subscriptions are deleted, and you are signed out. Thank you for using the portal."},
		TestID:     "account-closed",
		Links:      []components.Link{{Label: "Go to the home page", URL: "/"}},
	})
}

func (s *Server) renderCloseAccount(w http.ResponseWriter, r *http.Request, status int, message string) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	u := portal.UserFromContext(r.Context())
	s.render(w, r, status, views.CloseAccountPage(views.CloseAccountView{
		Shell:       s.shell(r, settings, "Close your account", ""),
		HasPassword: u.PasswordHash != "",
		Error:       message,
		PasswordURL: changePasswordURL,
	}))
}
