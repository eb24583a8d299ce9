package web

import (
	"net/http"

	"github.com/porticoapi/portico/portal"
)

// The signed-in user's own details on /profile: the form there posts back
// to /profile, as the password and closing forms post back to their own
// pages (account.go). Only the name can be changed: the email address is
// the account's identity (sign-in, invitations, the subscriptions' owner
// in the config file), so the profile shows it read-only.

// maxProfileForm bounds the body of the profile form.
const maxProfileForm = 16 << 10

// handleSaveProfile changes the signed-in user's display name. The store
// checks it with portal.User.Validate (required, length, no control
// characters); a refused name comes back in the form with the message.
func (s *Server) handleSaveProfile(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxProfileForm) {
		return
	}
	ctx := r.Context()
	u := portal.UserFromContext(ctx)
	typed := r.PostForm.Get("name")
	saved, err := s.store.UpdateUser(ctx, u.ID, portal.UserUpdate{Name: &typed})
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderProfileName(w, r, status, typed, message)
		}
		return
	}
	s.logger.InfoContext(ctx, "profile changed", "user_id", u.ID)
	s.done(w, r, profileURL, "Your name is saved: "+saved.Name+".")
}
