package portal

import (
	"context"
	"time"
)

// Session is a browser session kept server-side; the cookie holds only a
// random token, and stores keep only a hash of it (ID), so a copy of the
// database does not yield live sessions.
type Session struct {
	ID        string // hex SHA-256 of the cookie token
	UserID    int64  // 0 while anonymous
	Data      []byte // the encoded session values
	CreatedAt time.Time
	ExpiresAt time.Time // the earlier of the idle and absolute deadlines
}

// SessionService stores sessions.
type SessionService interface {
	// FindSession returns ENOTFOUND, also once ExpiresAt has passed.
	FindSession(ctx context.Context, id string, now time.Time) (*Session, error)
	// SaveSession inserts or replaces the session with s.ID. For a new
	// token only: a session loaded earlier is written with UpdateSession.
	SaveSession(ctx context.Context, s *Session) error
	// UpdateSession writes s over the existing session with s.ID. Returns
	// ENOTFOUND, and writes nothing, when there is none: the session was
	// revoked (or expired and removed) since it was loaded, and must not
	// come back.
	UpdateSession(ctx context.Context, s *Session) error
	// DeleteSession removes one session; a missing one is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of the user but exceptID
	// (sign-out everywhere, password change, block).
	DeleteUserSessions(ctx context.Context, userID int64, exceptID string) error
	// DeleteExpiredSessions removes sessions that expired before now and
	// returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
