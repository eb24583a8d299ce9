package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/porticoapi/portico/portal"
)

// Sessions are written on every sign-in and many requests, so they are
// single statements outside Store.change: they do not bump the store
// version, which caches would otherwise reload for.

// FindSession returns ENOTFOUND, also once ExpiresAt has passed.
func (s *Store) FindSession(ctx context.Context, id string, now time.Time) (*portal.Session, error) {
	sess := &portal.Session{}
	err := s.reader.QueryRowContext(ctx, `SELECT id, coalesce(user_id, 0), data, created_at, expires_at
		FROM sessions WHERE id = ? AND expires_at > ?`, id, formatTime(now)).
		Scan(&sess.ID, &sess.UserID, &sess.Data, timeDest{&sess.CreatedAt}, timeDest{&sess.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Session not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return sess, nil
}

// SaveSession inserts or replaces the session with sess.ID. A zero
// CreatedAt is set to now.
func (s *Store) SaveSession(ctx context.Context, sess *portal.Session) error {
	if sess.ID == "" {
		return portal.Errorf(portal.EINVALID, "Session id required.")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.nowUTC()
	}
	var userID any
	if sess.UserID != 0 {
		userID = sess.UserID
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO sessions (id, user_id, data, created_at, expires_at)
		VALUES (?, ?, coalesce(?, x''), ?, ?)
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		sess.ID, userID, sess.Data, formatTime(sess.CreatedAt), formatTime(sess.ExpiresAt)); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// UpdateSession writes sess over the existing row with sess.ID. Returns
// ENOTFOUND, and writes nothing, when the row is gone: unlike SaveSession
// it never brings back a session deleted since it was loaded.
func (s *Store) UpdateSession(ctx context.Context, sess *portal.Session) error {
	var userID any
	if sess.UserID != 0 {
		userID = sess.UserID
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE sessions SET user_id = ?, data = coalesce(?, x''), created_at = ?, expires_at = ?
		WHERE id = ?`, userID, sess.Data, formatTime(sess.CreatedAt), formatTime(sess.ExpiresAt), sess.ID)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update session: %w", err)
	} else if n == 0 {
		return notFound("Session not found.")
	}
	return nil
}

// DeleteSession removes one session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session of the user but exceptID.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, exceptID string) error {
	return deleteUserSessions(ctx, s.writer, userID, exceptID)
}

// execer is a *sql.DB or a *sql.Tx: sessions are written outside change
// (no version bump), except when a change ends them with what it changes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// deleteUserSessions removes every session of userID but exceptID ("":
// all of them, no session id being empty), on its own or inside the
// transaction of the change that ends them.
func deleteUserSessions(ctx context.Context, db execer, userID int64, exceptID string) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, exceptID); err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions FindSession no longer returns
// at now, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}
