package portal

import (
	"context"
	"net/mail"
	"strings"
	"time"
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
	if u.Name == "" {
		return Errorf(EINVALID, "Name required.")
	} else if len(u.Name) > 200 {
		return Errorf(EINVALID, "Name must be at most 200 characters.")
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
	// UpdateUser changes the fields set in upd. Returns ENOTFOUND, EINVALID
	// or ECONFLICT (email taken).
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	// DeleteUser removes the user, their subscriptions and sessions.
	// Returns ENOTFOUND.
	DeleteUser(ctx context.Context, id int64) error
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
