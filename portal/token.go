package portal

import (
	"context"
	"time"
)

// TokenPurpose says what an emailed account link does.
type TokenPurpose string

const (
	TokenConfirmSignup TokenPurpose = "confirm_signup" // activates a pending account
	TokenResetPassword TokenPurpose = "reset_password" // lets the account choose a new password
	// TokenInvitation lets an invited person accept: choose a password or
	// sign in with an identity provider. Its user is pending until then.
	TokenInvitation TokenPurpose = "invitation"
)

// AccountToken is a one-time link sent by mail. Only a hash of the token is
// stored (Hash), so a copy of the database yields no working link.
type AccountToken struct {
	Hash      string // hex SHA-256 of the token in the link
	Purpose   TokenPurpose
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AccountTokenService stores account tokens. Writes do not change the
// store's Version.
type AccountTokenService interface {
	// CreateAccountToken stores t. Returns EINVALID when a field is
	// missing, ENOTFOUND when the user does not exist, ECONFLICT when the
	// hash is taken.
	CreateAccountToken(ctx context.Context, t *AccountToken) error
	// FindAccountToken returns the live token with hash and purpose
	// without using it up. Returns ENOTFOUND if there is none, or it
	// expired or was used.
	FindAccountToken(ctx context.Context, hash string, purpose TokenPurpose, now time.Time) (*AccountToken, error)
	// TakeAccountToken removes the token with hash and purpose and
	// returns it: a link works once. Returns ENOTFOUND if there is none,
	// or it expired (and is removed) or was already taken.
	TakeAccountToken(ctx context.Context, hash string, purpose TokenPurpose, now time.Time) (*AccountToken, error)
	// FindAccountTokens returns the live tokens with purpose at now,
	// soonest to expire first (the administration lists pending
	// invitations with it).
	FindAccountTokens(ctx context.Context, purpose TokenPurpose, now time.Time) ([]*AccountToken, error)
	// DeleteUserAccountTokens removes every token of the user with
	// purpose, used or not (a password set makes older reset links void).
	DeleteUserAccountTokens(ctx context.Context, userID int64, purpose TokenPurpose) error
	// DeleteExpiredAccountTokens removes the tokens that expired before
	// now and returns how many. Deleting a user deletes their tokens.
	DeleteExpiredAccountTokens(ctx context.Context, now time.Time) (int, error)
	// AcceptInvitation accepts an invitation in one transaction: the
	// link (a.Token, live at a.Now) is used up; its user, who must be
	// pending, loses the identities they had while pending (none was
	// confirmed: see InvitationAcceptance), gets the password or the
	// identity, becomes active, and their other invitation and sign-up
	// confirmation links are voided. Returns the user. Errors, each
	// leaving the link usable unless it is gone: ENOTFOUND for a link
	// that does not work, ErrInvitationAnswered (ENOTFOUND) for an
	// account no longer pending, EFORBIDDEN for a blocked user, ECONFLICT
	// for an identity linked to another account, EINVALID for neither or
	// both of a password and an identity. An identity that is unconfirmed
	// on another pending account moves to this one (the provider just
	// proved who holds it; nobody proved it belongs to that account's
	// address), and that account goes when nothing is left of it (no
	// password, identity or invitation).
	AcceptInvitation(ctx context.Context, a InvitationAcceptance) (*User, error)
	// ConfirmSignup uses the sign-up confirmation link with hash (live at
	// now) in one transaction: a pending user becomes active and their
	// unconfirmed identities confirmed (the link proves the address, and
	// this is the one change that confirms them: see
	// Identity.Unconfirmed), and their other confirmation and invitation
	// links are voided. An active user's link is used up and changes
	// nothing else. Returns the user. Errors: ENOTFOUND for a link that
	// does not work, EFORBIDDEN for a blocked user (the link stays
	// usable).
	ConfirmSignup(ctx context.Context, hash string, now time.Time) (*User, error)
	// DeleteUnconfirmedSignUps removes the accounts that provider
	// sign-ups made before createdBefore and nobody confirmed: pending
	// developers with no password, only unconfirmed identities, no
	// subscription and no invitation or reset link. Returns how many.
	DeleteUnconfirmedSignUps(ctx context.Context, createdBefore time.Time) (int, error)
}

// ErrInvitationAnswered refuses an invitation link whose account is no
// longer waiting for it (accepted another way, or made active). The
// same answer as a link used up by another tab: ENOTFOUND.
var ErrInvitationAnswered = Errorf(ENOTFOUND, "This invitation was already accepted or withdrawn. If you accepted it, sign in.")

// InvitationAcceptance is how an invited person accepts: with a new
// password or with an identity they just signed in with, exactly one.
// Identity.UserID is filled in by the store. Identities on an account
// still pending can only come from a provider sign-up whose address was
// never confirmed, possibly by someone else; accepting drops them.
type InvitationAcceptance struct {
	Token        string // hash of the invitation link's token
	Now          time.Time
	PasswordHash string
	Identity     *Identity
}

// NewInvitation is an invitation recorded by a change set (a config file's
// `invite: true`): the token for the user with Email, written in the same
// transaction as the user. Token.UserID is filled in by the store.
type NewInvitation struct {
	Email string
	Token AccountToken
}
