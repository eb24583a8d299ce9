package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/porticoapi/portico/portal"
)

// CAPTCHA challenges, like sessions, are single statements outside
// Store.change: they do not bump the store version.

// CreateCaptcha stores c. Returns EINVALID when a field is missing,
// ENOTFOUND when its session does not exist, ECONFLICT when the id is
// taken.
func (s *Store) CreateCaptcha(ctx context.Context, c *portal.Captcha) error {
	if c.ID == "" || c.SessionID == "" || c.Digits == "" || c.ExpiresAt.IsZero() {
		return portal.Errorf(portal.EINVALID, "CAPTCHA id, session, digits and expiry required.")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.nowUTC()
	}
	_, err := s.writer.ExecContext(ctx, `INSERT INTO captchas (id, session_id, digits, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, c.ID, c.SessionID, c.Digits, formatTime(c.CreatedAt), formatTime(c.ExpiresAt))
	switch {
	case err == nil:
		return nil
	case isForeignKeyViolation(err):
		return notFound("Session not found.")
	}
	if _, ok := uniqueTarget(err); ok {
		return portal.Errorf(portal.ECONFLICT, "A CAPTCHA with this id already exists.")
	}
	return fmt.Errorf("create captcha: %w", err)
}

// FindCaptcha returns the challenge while it is live at now. Returns
// ENOTFOUND.
func (s *Store) FindCaptcha(ctx context.Context, id string, now time.Time) (*portal.Captcha, error) {
	c := &portal.Captcha{}
	err := s.reader.QueryRowContext(ctx, `SELECT id, session_id, digits, created_at, expires_at
		FROM captchas WHERE id = ? AND expires_at > ?`, id, formatTime(now)).
		Scan(&c.ID, &c.SessionID, &c.Digits, timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("CAPTCHA not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find captcha: %w", err)
	}
	return c, nil
}

// TakeCaptcha removes the challenge and returns it if it was live at now.
// Deleting and reading in one statement means two instances answering at
// once cannot both take it. Returns ENOTFOUND.
func (s *Store) TakeCaptcha(ctx context.Context, id string, now time.Time) (*portal.Captcha, error) {
	c := &portal.Captcha{}
	err := s.writer.QueryRowContext(ctx, `DELETE FROM captchas WHERE id = ?
		RETURNING id, session_id, digits, created_at, expires_at`, id).
		Scan(&c.ID, &c.SessionID, &c.Digits, timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("CAPTCHA not found.")
	} else if err != nil {
		return nil, fmt.Errorf("take captcha: %w", err)
	}
	if !now.Before(c.ExpiresAt) {
		return nil, notFound("CAPTCHA expired.")
	}
	return c, nil
}

// DeleteExpiredCaptchas removes the challenges FindCaptcha no longer
// returns at now, and returns how many.
func (s *Store) DeleteExpiredCaptchas(ctx context.Context, now time.Time) (int, error) {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM captchas WHERE expires_at <= ?`, formatTime(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired captchas: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired captchas: %w", err)
	}
	return int(n), nil
}

// isForeignKeyViolation reports whether err is SQLite's refusal of a row
// that points at a missing parent.
func isForeignKeyViolation(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || strings.Contains(e.Error(), "FOREIGN KEY constraint failed")
}
