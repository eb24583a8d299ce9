package views

import "github.com/porticoapi/portico/web/components"

// AdminInvitationsView is the administration's invitations page: the form
// that invites someone, and the invitations not yet accepted.
type AdminInvitationsView struct {
	Frame AdminFrame
	Error string
	Form  InvitationForm
	Rows  []AdminInvitationRow
	// ValidFor is the invitation lifetime of the settings ("48 hours").
	ValidFor string
}

// InvitationForm holds the invitation form as typed.
type InvitationForm struct {
	Email string
	Name  string
	Role  components.Select
}

// AdminInvitationRow is one pending invitation.
type AdminInvitationRow struct {
	Email   string
	Name    string
	Role    string
	Invited string
	Expires string
	Revoke  components.PostButton
}

// AcceptInvitationView is the page an invitation link leads to: who is
// invited, and how they may accept (a password, or an identity
// provider's button, each a POST carrying the link's token).
type AcceptInvitationView struct {
	Shell             components.Shell
	Token             string
	Name              string
	Email             string
	Role              string
	Expires           string
	PasswordAllowed   bool // password sign-in is on
	MinPasswordLength int
	Providers         []InvitationProviderButton
	Error             string
}

// InvitationProviderButton accepts an invitation by signing in with an
// identity provider.
type InvitationProviderButton struct {
	Name   string
	Label  string
	Action string // POST target
}

// AdminUserListView lists the portal's accounts with what an
// administrator may do to each.
type AdminUserListView struct {
	Frame      AdminFrame
	Query      string
	Role       components.Select
	State      components.Select
	ClearURL   string
	Rows       []AdminUserListRow
	Total      int
	Pagination components.Pagination
}

// AdminUserListRow is one account and its actions.
type AdminUserListRow struct {
	Email   string
	Name    string
	Role    string
	State   components.Badge
	Created string
	// You marks the signed-in administrator's own row.
	You       bool
	Actions   []components.PostButton
	DeleteURL string
}
