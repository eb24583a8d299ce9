package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
)

// InvitationStore is what inviting reads and writes. portal.Store
// implements it.
type InvitationStore interface {
	FindSettings(ctx context.Context) (*portal.Settings, error)
	FindUserByEmail(ctx context.Context, email string) (*portal.User, error)
	CreateUser(ctx context.Context, u *portal.User) error
	UpdateUser(ctx context.Context, id int64, upd portal.UserUpdate) (*portal.User, error)
	CreateAccountToken(ctx context.Context, t *portal.AccountToken) error
	DeleteUserAccountTokens(ctx context.Context, userID int64, purpose portal.TokenPurpose) error
	FindUserIdentities(ctx context.Context, userID int64) ([]*portal.Identity, error)
	DeleteIdentity(ctx context.Context, userID, id int64) error
}

// Invitation is an invitation just made. Token is the secret of the link
// (InvitationPath); only its SHA-256 is stored, so it is shown once.
type Invitation struct {
	User      *portal.User
	Token     string
	ExpiresAt time.Time
	TTL       time.Duration
}

// InvitationPath is the portal path an invitation link leads to.
func InvitationPath(token string) string { return "/confirm/invitation?token=" + token }

// Invited reports whether u exists only as an invitation: pending, with no
// password (a pending self-registration has one). Only such accounts may
// be invited again or accept an invitation, so that an invitation never
// hands over an account someone already holds. A provider sign-up whose
// address is not confirmed yet is one too: nobody proved the address, so
// nobody holds it; its identity is unconfirmed and goes when the
// invitation is accepted (AcceptInvitation).
func Invited(u *portal.User) bool {
	return u != nil && u.State == portal.UserPending && u.PasswordHash == ""
}

var errAlreadyHasAccount = portal.Errorf(portal.ECONFLICT, "This address already has an account; an invitation is only for a new one.")

// Invite invites the person at email with role: a new pending account
// without a password is made (or, for an earlier invitation not yet
// accepted, its name and role are updated and its older links voided) and
// a link valid for the settings' invitation lifetime is issued. An empty
// name takes the part of the address before the @. Errors: EINVALID for a
// bad address, name or role; ECONFLICT when the address has an account
// that is not an open invitation.
func Invite(ctx context.Context, st InvitationStore, email, name string, role portal.Role, now time.Time) (*Invitation, error) {
	email = portal.NormalizeEmail(email)
	if err := portal.ValidateEmail(email); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	settings, err := st.FindSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("find settings: %w", err)
	}
	ttl := settings.InvitationTTL
	if ttl <= 0 {
		ttl = portal.DefaultSettings().InvitationTTL
	}
	u, err := st.FindUserByEmail(ctx, email)
	switch portal.ErrorCode(err) {
	case "":
		if !Invited(u) {
			return nil, errAlreadyHasAccount
		}
		check := portal.User{Email: email, Name: name, Role: role, State: portal.UserPending}
		if err := check.Validate(); err != nil {
			return nil, err
		}
		if err := st.DeleteUserAccountTokens(ctx, u.ID, portal.TokenInvitation); err != nil {
			return nil, fmt.Errorf("void older invitations: %w", err)
		}
		// The account may be a provider sign-up waiting for its address
		// to be confirmed. Its unconfirmed identity goes first: its
		// holder signing in again would be mailed a new confirmation,
		// which the invitee, awaiting an invitation, could well open.
		ids, err := st.FindUserIdentities(ctx, u.ID)
		if err != nil {
			return nil, fmt.Errorf("find identities of invited user: %w", err)
		}
		for _, i := range ids {
			if !i.Unconfirmed {
				continue
			}
			if err := st.DeleteIdentity(ctx, u.ID, i.ID); err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
				return nil, fmt.Errorf("drop unconfirmed identity: %w", err)
			}
		}
		// Then its confirmation links: they would make the account
		// active with the role of this invitation; from here on only the
		// invitation does.
		if err := st.DeleteUserAccountTokens(ctx, u.ID, portal.TokenConfirmSignup); err != nil {
			return nil, fmt.Errorf("void sign-up confirmation links: %w", err)
		}
		// Only now the role: never a pending account with this role and a
		// stranger's identity or a link that would activate it.
		if u, err = st.UpdateUser(ctx, u.ID, portal.UserUpdate{Name: &check.Name, Role: &check.Role}); err != nil {
			return nil, fmt.Errorf("update invited user: %w", err)
		}
	case portal.ENOTFOUND:
		u = &portal.User{Email: email, Name: name, Role: role, State: portal.UserPending}
		if err := st.CreateUser(ctx, u); err != nil {
			if portal.ErrorCode(err) == portal.ECONFLICT {
				return nil, errAlreadyHasAccount
			}
			return nil, err
		}
	default:
		return nil, fmt.Errorf("find user: %w", err)
	}
	token, hash := NewLinkToken()
	t := &portal.AccountToken{Hash: hash, Purpose: portal.TokenInvitation, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := st.CreateAccountToken(ctx, t); err != nil {
		// The pending account stays; inviting again reuses it.
		return nil, fmt.Errorf("create invitation token: %w", err)
	}
	return &Invitation{User: u, Token: token, ExpiresAt: t.ExpiresAt, TTL: ttl}, nil
}

// AcceptInvitation accepts the invitation of the link token with acc's
// password hash or identity (portal.AccountTokenService.AcceptInvitation:
// one transaction, so that a refusal leaves the link usable). It does not
// start a session. Errors: ENOTFOUND (the one invalid-link answer) for a
// link that does not work, and the store's ErrInvitationAnswered,
// EFORBIDDEN, ECONFLICT.
func (a *Auth) AcceptInvitation(ctx context.Context, token string, acc portal.InvitationAcceptance) (*portal.User, error) {
	if a.tokens == nil {
		return nil, errTokensUnavailable
	}
	if _, ok := parseToken(token); !ok {
		return nil, errInvalidLink
	}
	acc.Token, acc.Now = tokenID(token), a.now()
	u, err := a.tokens.AcceptInvitation(ctx, acc)
	if portal.ErrorCode(err) == portal.ENOTFOUND && !errors.Is(err, portal.ErrInvitationAnswered) {
		return nil, errInvalidLink
	}
	return u, err
}

// ConfirmSignup uses the sign-up confirmation link token: in one store
// transaction (portal.AccountTokenService.ConfirmSignup) a pending account
// becomes active with its identities confirmed. It does not start a
// session. Errors: ENOTFOUND (the one invalid-link answer) for a link
// that does not work, EFORBIDDEN for a blocked account (the link stays
// usable).
func (a *Auth) ConfirmSignup(ctx context.Context, token string) (*portal.User, error) {
	if a.tokens == nil {
		return nil, errTokensUnavailable
	}
	if _, ok := parseToken(token); !ok {
		return nil, errInvalidLink
	}
	u, err := a.tokens.ConfirmSignup(ctx, tokenID(token), a.now())
	switch portal.ErrorCode(err) {
	case "":
		return u, nil
	case portal.ENOTFOUND:
		return nil, errInvalidLink
	case portal.EFORBIDDEN:
		return nil, err
	}
	return nil, fmt.Errorf("confirm sign-up: %w", err)
}

// Now is the clock of Auth: the time links are issued and checked at.
func (a *Auth) Now() time.Time { return a.now() }

// NewLinkToken returns a new one-time link token and the hash under which
// it is stored (portal.AccountToken.Hash), for links made outside Auth
// (a config file's invitations).
func NewLinkToken() (token, hash string) {
	token = newToken()
	return token, tokenID(token)
}

// ValidFor says how long a link works, for mail and pages: "48 hours",
// "1 hour", "30 minutes".
func ValidFor(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	if d >= time.Hour && d%time.Hour == 0 {
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64(max(d.Round(time.Minute), time.Minute)/time.Minute), "minute")
}
