package configfile

import (
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

// Invitation is an invitation of a user the file declares with
// `invite: true`: recorded by Apply in the same transaction as the user,
// and to be delivered by the caller afterwards (printed, mailed), since
// the token exists nowhere else (only its hash is stored).
type Invitation struct {
	Email     string
	Name      string
	Role      portal.Role
	Token     string // the secret of the link auth.InvitationPath(Token)
	ExpiresAt time.Time
	TTL       time.Duration
}

// Invitations returns the invitations the plan records: after a
// successful Apply they are in the store, and their links work. Only new
// users are invited; a user already in the store keeps their state and
// their invitation, if any.
func (p *Plan) Invitations() []Invitation { return p.invites }

// invite records an invitation of the new user u, valid for ttl from now.
func (p *Plan) invite(u *portal.User, ttl time.Duration) {
	token, hash := auth.NewLinkToken()
	now := time.Now()
	p.cs.Invitations = append(p.cs.Invitations, &portal.NewInvitation{Email: u.Email, Token: portal.AccountToken{
		Hash: hash, Purpose: portal.TokenInvitation, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}})
	p.invites = append(p.invites, Invitation{Email: u.Email, Name: u.Name, Role: u.Role, Token: token, ExpiresAt: now.Add(ttl), TTL: ttl})
}

// invitationTTL is the invitation lifetime the store will have once the
// file is applied: the file's portal section's, or the store's.
func (f *File) invitationTTL(st *storeState) time.Duration {
	if f.settings != nil && f.settings.settings.InvitationTTL > 0 {
		return f.settings.settings.InvitationTTL
	}
	if st.settings != nil && st.settings.InvitationTTL > 0 {
		return st.settings.InvitationTTL
	}
	return portal.DefaultSettings().InvitationTTL
}
