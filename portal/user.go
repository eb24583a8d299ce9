package portal

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a user may do in the portal.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleDeveloper Role = "developer"
)

// UserState says whether a user may sign in and whether their
// subscriptions' keys pass the gateway.
type UserState string

const (
	UserActive  UserState = "active"
	UserBlocked UserState = "blocked" // cannot sign in; their keys stop passing
	UserPending UserState = "pending" // signed up or invited, address not yet confirmed
)

// User is an account of the portal.
type User struct {
	ID    int64
	Email string // stored lower-case; unique
	Name  string
	Role  Role
	State UserState

	// PasswordHash is an argon2id hash in PHC string form; empty when the
	// user has no password (invited, or signs in through a provider only).
	PasswordHash string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// IsAdmin reports whether u is an active administrator.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin && u.State == UserActive }

// NormalizeEmail trims and lower-cases an address so that lookups by email
// do not depend on how it was typed.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Validate normalizes the email and checks the fields a store relies on.
func (u *User) Validate() error {
	u.Email = NormalizeEmail(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	if err := ValidateEmail(u.Email); err != nil {
		return err
	}
	if err := ValidateUserName(u.Name); err != nil {
		return err
	}
	switch u.Role {
	case RoleAdmin, RoleDeveloper:
	default:
		return Errorf(EINVALID, "Role %q must be admin or developer.", u.Role)
	}
	switch u.State {
	case UserActive, UserBlocked, UserPending:
	default:
		return Errorf(EINVALID, "User state %q must be active, blocked or pending.", u.State)
	}
	return nil
}

// maxNameLength bounds a user's name, in characters.
const maxNameLength = 200

// ValidateUserName refuses control characters (line breaks, tabs, ...) as well
// as an empty or overlong name: the name is written into the plain-text
// mail the portal sends, and a line break there would let someone who
// signs up with another person's address put their own paragraphs and
// links into a mail that comes from the portal.
func ValidateUserName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "Name required.")
	}
	if !utf8.ValidString(name) {
		return Errorf(EINVALID, "Name must be valid text.")
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Errorf(EINVALID, "Name must be on one line, without tabs or other control characters.")
	}
	if utf8.RuneCountInString(name) > maxNameLength {
		return Errorf(EINVALID, "Name must be at most %d characters.", maxNameLength)
	}
	return nil
}

// CleanName makes s fit the rule ValidateUserName checks, for names the
// portal did not get from a form (an identity provider's claims, rows
// stored before the rule): valid UTF-8, control characters (line breaks,
// tabs) and runs of spaces turned into single spaces, trimmed, and cut
// to at most maxNameLength characters. It may return "", which the
// caller replaces with a name of its own.
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxNameLength {
		n := 0
		for i := range s {
			if n == maxNameLength {
				s = strings.TrimSpace(s[:i])
				break
			}
			n++
		}
	}
	return s
}

// ValidateEmail checks that s is a bare address (no display name).
func ValidateEmail(s string) error {
	if s == "" {
		return Errorf(EINVALID, "Email required.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return Errorf(EINVALID, "Email %q is not a valid address.", s)
	}
	return nil
}

// UserService manages accounts.
type UserService interface {
	// FindUserByID returns ENOTFOUND if no user has this id.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail matches the normalized address. Returns ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// FindUsers returns a page of users ordered by email, and the total
	// count matching the filter.
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, int, error)
	// CreateUser sets ID, CreatedAt and UpdatedAt on u. Returns EINVALID,
	// or ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser changes the fields set in upd. A pending user made
	// active loses their unconfirmed identities and sign-up confirmation
	// links in the same transaction (only the confirmation link confirms
	// them: AccountTokenService.ConfirmSignup). Returns ENOTFOUND, EINVALID
	// or ECONFLICT (email taken, or LastAdminError when the change would
	// leave no active administrator).
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	// DeleteUser removes the user, their subscriptions and sessions.
	// Returns ENOTFOUND, or ECONFLICT (LastAdminError) when the user is the
	// last active administrator.
	DeleteUser(ctx context.Context, id int64) error
	// SetPassword changes a user's password in one transaction with what
	// must go with it (see PasswordChange), so that a failure leaves
	// everything as it was: a reset link is not used up by a change that
	// did not happen, and a new password never lives beside the sessions
	// it was meant to end. Activating a pending user
	// (PasswordChange.Activate) deletes their unconfirmed identities
	// (Identity.Unconfirmed: a provider sign-up whose address the
	// provider did not vouch for links one before anybody proved the
	// address) in the same transaction, so that whoever linked them
	// cannot sign in to the account its owner takes up. Returns ENOTFOUND
	// when the user does not exist or ch.ResetToken is not a live reset
	// link of theirs, EINVALID.
	SetPassword(ctx context.Context, id int64, ch PasswordChange) (*User, error)
}

// PasswordChange is a new password and what goes with it.
type PasswordChange struct {
	PasswordHash string
	// ResetToken, when set, is the hash of the reset link that allows the
	// change: it must be live at Now and belong to the user, and it is
	// used up.
	ResetToken string
	Now        time.Time
	// Activate makes a pending user active: a reset link proves the
	// address, as a confirmation link would. The user's unconfirmed
	// identities are deleted with it: nobody proved they belong to the
	// owner of the address (see SetPassword).
	Activate bool
	// KeepSession is the one session of the user that stays (the caller's
	// own, after a password change); every other one ends, and with ""
	// every one does. Every reset link of the user is voided as well.
	KeepSession string
}

// LastAdminError refuses a change that would leave the portal without an
// active administrator: nobody could administer it from the portal any
// more. Stores check it inside the transaction of the change, so that two
// administrators stepping down at once cannot both pass.
func LastAdminError(u *User) error {
	return Errorf(ECONFLICT, "%s is the last active administrator. Make another user an administrator first.", u.Email)
}

// UserFilter selects users; zero fields do not filter.
type UserFilter struct {
	Role  Role
	State UserState
	Query string // substring of email or name, case-insensitive

	Offset int
	Limit  int // 0: no limit
}

// UserUpdate lists the fields of a user to change; nil fields are kept.
type UserUpdate struct {
	Email        *string
	Name         *string
	Role         *Role
	State        *UserState
	PasswordHash *string
}
