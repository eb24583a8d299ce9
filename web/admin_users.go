package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// handleAdminUsers lists accounts, filtered by ?q=, ?role= and ?state=,
// each with its actions.
func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("q"))
	role, state := portal.Role(q.Get("role")), portal.UserState(q.Get("state"))
	if len(query) > maxQueryLength {
		s.error(w, r, portal.Errorf(portal.EINVALID, "Search text must be at most %d characters.", maxQueryLength))
		return
	}
	page, err := pageNumber(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	users, total, err := s.store.FindUsers(ctx, portal.UserFilter{
		Query: query, Role: role, State: state, Offset: (page - 1) * adminPageSize, Limit: adminPageSize,
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	link := func(page int) string { return adminUsersURL(query, string(role), string(state), page) }
	v := views.AdminUserListView{
		Frame: s.adminFrame(w, r, settings, adminUsers, "Users"),
		Query: query,
		Role: components.Select{ID: "filter-role", Name: "role", Label: "Role", Choices: choices(string(role),
			components.Choice{Value: "", Label: "Any role"},
			components.Choice{Value: string(portal.RoleAdmin), Label: "Administrator"},
			components.Choice{Value: string(portal.RoleDeveloper), Label: "Developer"},
		)},
		State: components.Select{ID: "filter-state", Name: "state", Label: "State", Choices: choices(string(state),
			components.Choice{Value: "", Label: "Any state"},
			components.Choice{Value: string(portal.UserActive), Label: "Active"},
			components.Choice{Value: string(portal.UserPending), Label: "Pending"},
			components.Choice{Value: string(portal.UserBlocked), Label: "Blocked"},
		)},
		Total:      total,
		Pagination: pagination(page, total, link),
	}
	if query != "" || role != "" || state != "" {
		v.ClearURL = "/admin/users"
	}
	me := portal.UserFromContext(ctx)
	for _, u := range users {
		v.Rows = append(v.Rows, adminUserRow(u, me))
	}
	s.render(w, r, http.StatusOK, views.AdminUserListPage(v))
}

// adminUserRow is u's row, with the actions that apply to its state.
func adminUserRow(u, me *portal.User) views.AdminUserListRow {
	row := views.AdminUserListRow{
		Email:     u.Email,
		Name:      u.Name,
		Role:      roleLabel(u.Role),
		State:     userStateBadge(u.State),
		Created:   formatTime(u.CreatedAt),
		You:       me != nil && me.ID == u.ID,
		DeleteURL: adminUserURL(u.ID) + "/delete",
	}
	if auth.Invited(u) {
		row.State = components.Badge{Label: "Invited", Tone: components.ToneInfo}
	}
	base := adminUserURL(u.ID)
	switch u.State {
	case portal.UserBlocked:
		row.Actions = append(row.Actions, components.PostButton{Action: base + "/unblock", Label: "Unblock", Style: components.ButtonSecondary, TestID: "user-unblock"})
	default:
		row.Actions = append(row.Actions, components.PostButton{Action: base + "/block", Label: "Block", Style: components.ButtonSecondary, TestID: "user-block"})
	}
	if u.Role == portal.RoleAdmin {
		row.Actions = append(row.Actions, components.PostButton{Action: base + "/role/developer", Label: "Make developer", Style: components.ButtonQuiet, TestID: "user-make-developer"})
	} else {
		row.Actions = append(row.Actions, components.PostButton{Action: base + "/role/admin", Label: "Make administrator", Style: components.ButtonQuiet, TestID: "user-make-admin"})
	}
	return row
}

// keepsAnAdmin returns portal.LastAdminError when u is the only active
// administrator, so that blocking, demoting or deleting u is refused
// before anything else is done. It is a courtesy: the store makes the same
// check inside the transaction of the change, which two administrators
// acting on each other at the same instant cannot both pass.
func (s *Server) keepsAnAdmin(ctx context.Context, u *portal.User) error {
	if !u.IsAdmin() {
		return nil
	}
	_, n, err := s.store.FindUsers(ctx, portal.UserFilter{Role: portal.RoleAdmin, State: portal.UserActive, Limit: 1})
	if err != nil {
		return err
	}
	if n <= 1 {
		return portal.LastAdminError(u)
	}
	return nil
}

// handleAdminUserAction blocks or unblocks the user {id}. Blocking ends
// every session of the user at once; their keys stop passing the gateway
// because the gateway checks the owner's state (portal.Subscription.
// KeysPass) and reloads when the store's version moves.
func (s *Server) handleAdminUserAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := s.userOfPath(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var to portal.UserState
	var notice string
	switch r.PathValue("action") {
	case "block":
		if err := s.keepsAnAdmin(ctx, u); err != nil {
			s.error(w, r, err)
			return
		}
		to, notice = portal.UserBlocked, u.Email+" is blocked and signed out everywhere."
	case "unblock":
		if u.State != portal.UserBlocked {
			s.error(w, r, portal.Errorf(portal.ECONFLICT, "%s is not blocked.", u.Email))
			return
		}
		// An account nobody can sign in to yet stays pending: an
		// invitation not yet accepted, or a provider sign-up whose
		// address is not confirmed (its identity is unconfirmed and
		// only the confirmation link mailed to the address makes it
		// sign in).
		to, notice = portal.UserActive, u.Email+" is unblocked."
		if u.PasswordHash == "" && !s.hasConfirmedIdentity(ctx, u.ID) {
			to = portal.UserPending
		}
	default:
		s.handleNotFound(w, r)
		return
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &to}); err != nil {
		s.error(w, r, err)
		return
	}
	if to == portal.UserBlocked {
		if err := s.revokeSessions(ctx, u.ID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.logger.InfoContext(ctx, "user state changed", "request_id", requestIDFrom(ctx), "user_id", u.ID, "state", string(to),
		"by", portal.UserFromContext(ctx).ID)
	s.doneWithUser(w, r, u, notice)
}

// hasConfirmedIdentity reports whether the user signs in with an
// identity provider; a failure to tell reads as yes (the account is made
// active; an unconfirmed identity still does not sign in to it).
func (s *Server) hasConfirmedIdentity(ctx context.Context, userID int64) bool {
	ids, err := s.store.FindUserIdentities(ctx, userID)
	if err != nil {
		return true
	}
	for _, i := range ids {
		if !i.Unconfirmed {
			return true
		}
	}
	return false
}

// handleAdminUserRole makes the user {id} an administrator or a developer.
// Their sessions end, so that no session outlives the role it was
// started with; an administrator changing their own role is moved to a
// new session instead of being signed out.
func (s *Server) handleAdminUserRole(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := s.userOfPath(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	role := portal.Role(r.PathValue("role"))
	switch role {
	case portal.RoleAdmin, portal.RoleDeveloper:
	default:
		s.error(w, r, portal.Errorf(portal.EINVALID, "Role %q must be admin or developer.", role))
		return
	}
	if role == u.Role {
		s.done(w, r, "/admin/users", u.Email+" is already "+strings.ToLower(roleLabel(role))+".")
		return
	}
	if role != portal.RoleAdmin {
		if err := s.keepsAnAdmin(ctx, u); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, portal.UserUpdate{Role: &role}); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.revokeSessions(ctx, u.ID); err != nil {
		s.error(w, r, err)
		return
	}
	me := portal.UserFromContext(ctx)
	s.logger.InfoContext(ctx, "user role changed", "request_id", requestIDFrom(ctx), "user_id", u.ID, "role", string(role),
		"by", me.ID)
	if me.ID == u.ID && s.auth != nil {
		// An administrator stepping down stays signed in, on a new
		// session: the one that carried the old role is gone with the
		// others.
		u.Role = role
		if err := s.auth.StartSession(ctx, w, r, u); err != nil {
			s.error(w, r, err)
			return
		}
		s.done(w, r, "/", "You are now "+strings.ToLower(roleLabel(role))+"; your other sessions were ended.")
		return
	}
	s.doneWithUser(w, r, u, u.Email+" is now "+strings.ToLower(roleLabel(role))+"; their sessions were ended.")
}

// handleAdminConfirmDeleteUser asks before deleting the user {id}.
func (s *Server) handleAdminConfirmDeleteUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := s.userOfPath(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.keepsAnAdmin(ctx, u); err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, subs, err := s.store.FindSubscriptions(ctx, portal.SubscriptionFilter{OwnerID: u.ID, Limit: 1})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.ConfirmView{
		Frame: s.adminFrame(w, r, settings, adminUsers, "Delete "+u.Email,
			components.Link{Label: "Users", URL: "/admin/users"}),
		Question: "Delete the account of " + u.Name + " (" + u.Email + ")?",
		Consequences: []string{
			"They are signed out everywhere and cannot sign in again.",
			"Their " + countOf(subs, "subscription is", "subscriptions are") + " deleted with the keys, which stop passing the gateway.",
			"Their linked identities and pending links are deleted. The address may be invited again.",
		},
		Action:    adminUserURL(u.ID) + "/delete",
		Button:    "Delete account",
		CancelURL: "/admin/users",
	}
	s.render(w, r, http.StatusOK, views.ConfirmPage(v))
}

// handleAdminDeleteUser deletes the user {id} with their subscriptions,
// identities and sessions.
func (s *Server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := s.userOfPath(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.keepsAnAdmin(ctx, u); err != nil {
		s.error(w, r, err)
		return
	}
	// Deleted first: the store may refuse (the last administrator), and
	// the sessions go with the user (the schema cascades) in any case.
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.revokeSessions(ctx, u.ID); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "user deleted", "request_id", requestIDFrom(ctx), "user_id", u.ID, "by", portal.UserFromContext(ctx).ID)
	s.doneWithUser(w, r, u, "The account of "+u.Email+" is deleted.")
}

// revokeSessions ends every session of userID at once (not only on their
// next request, as Authenticate would).
func (s *Server) revokeSessions(ctx context.Context, userID int64) error {
	if s.auth == nil {
		return nil
	}
	return s.auth.RevokeSessions(ctx, userID)
}

// doneWithUser ends an action on u's account. When u is the caller, their
// session was just revoked: saving a notice in it would write it back, so
// they go to the home page (and sign in again) without one.
func (s *Server) doneWithUser(w http.ResponseWriter, r *http.Request, u *portal.User, notice string) {
	if me := portal.UserFromContext(r.Context()); me != nil && me.ID == u.ID {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.done(w, r, "/admin/users", notice)
}
