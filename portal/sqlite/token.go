package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/porticoapi/portico/portal"
)

// Account tokens are single statements outside Store.change: they do not
// bump the store version.

// CreateAccountToken stores t. Returns EINVALID, ENOTFOUND (no such
// user) or ECONFLICT (hash taken).
func (s *Store) CreateAccountToken(ctx context.Context, t *portal.AccountToken) error {
	if t.Hash == "" || t.Purpose == "" || t.UserID == 0 || t.ExpiresAt.IsZero() {
		return portal.Errorf(portal.EINVALID, "Token hash, purpose, user and expiry required.")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.nowUTC()
	}
	_, err := s.writer.ExecContext(ctx, `INSERT INTO account_tokens (hash, purpose, user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, t.Hash, string(t.Purpose), t.UserID, formatTime(t.CreatedAt), formatTime(t.ExpiresAt))
	switch {
	case err == nil:
		return nil
	case isForeignKeyViolation(err):
		return notFound("User not found.")
	}
	if _, ok := uniqueTarget(err); ok {
		return portal.Errorf(portal.ECONFLICT, "A token with this hash already exists.")
	}
	return fmt.Errorf("create account token: %w", err)
}

// FindAccountToken returns the live token without using it. Returns
// ENOTFOUND.
func (s *Store) FindAccountToken(ctx context.Context, hash string, purpose portal.TokenPurpose, now time.Time) (*portal.AccountToken, error) {
	t := &portal.AccountToken{}
	err := s.reader.QueryRowContext(ctx, `SELECT hash, purpose, user_id, created_at, expires_at
		FROM account_tokens WHERE hash = ? AND purpose = ? AND expires_at > ?`, hash, string(purpose), formatTime(now)).
		Scan(&t.Hash, (*string)(&t.Purpose), &t.UserID, timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Token not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find account token: %w", err)
	}
	return t, nil
}

// TakeAccountToken removes the token and returns it if it was live at
// now, in one statement so that it works once even across instances.
// Returns ENOTFOUND.
func (s *Store) TakeAccountToken(ctx context.Context, hash string, purpose portal.TokenPurpose, now time.Time) (*portal.AccountToken, error) {
	t := &portal.AccountToken{}
	err := s.writer.QueryRowContext(ctx, `DELETE FROM account_tokens WHERE hash = ? AND purpose = ?
		RETURNING hash, purpose, user_id, created_at, expires_at`, hash, string(purpose)).
		Scan(&t.Hash, (*string)(&t.Purpose), &t.UserID, timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Token not found.")
	} else if err != nil {
		return nil, fmt.Errorf("take account token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, notFound("Token expired.")
	}
	return t, nil
}

// FindAccountTokens returns the live tokens with purpose, soonest to
// expire first.
func (s *Store) FindAccountTokens(ctx context.Context, purpose portal.TokenPurpose, now time.Time) ([]*portal.AccountToken, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT hash, purpose, user_id, created_at, expires_at
		FROM account_tokens WHERE purpose = ? AND expires_at > ? ORDER BY expires_at, user_id`, string(purpose), formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("find account tokens: %w", err)
	}
	defer rows.Close()
	var out []*portal.AccountToken
	for rows.Next() {
		t := &portal.AccountToken{}
		if err := rows.Scan(&t.Hash, (*string)(&t.Purpose), &t.UserID, timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}); err != nil {
			return nil, fmt.Errorf("find account tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find account tokens: %w", err)
	}
	return out, nil
}

// recordInvitation writes a change set's invitation for the user with
// its email, replacing the user's older invitations; Apply calls it in
// its transaction.
func (s *Store) recordInvitation(ctx context.Context, tx *sql.Tx, inv *portal.NewInvitation) error {
	email := portal.NormalizeEmail(inv.Email)
	t := &inv.Token
	if t.Hash == "" || t.ExpiresAt.IsZero() {
		return portal.Errorf(portal.EINVALID, "Invitation of %s: token hash and expiry required.", email)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("User %s not found.", email)
	} else if err != nil {
		return fmt.Errorf("find invited user: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?`, id, string(portal.TokenInvitation)); err != nil {
		return fmt.Errorf("replace invitation: %w", err)
	}
	t.UserID, t.Purpose = id, portal.TokenInvitation
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.nowUTC()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO account_tokens (hash, purpose, user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, t.Hash, string(t.Purpose), t.UserID, formatTime(t.CreatedAt), formatTime(t.ExpiresAt))
	if err != nil {
		if _, ok := uniqueTarget(err); ok {
			return portal.Errorf(portal.ECONFLICT, "Invitation of %s: a token with this hash already exists.", email)
		}
		return fmt.Errorf("record invitation: %w", err)
	}
	return nil
}

// DeleteUserAccountTokens removes every token of the user with purpose.
func (s *Store) DeleteUserAccountTokens(ctx context.Context, userID int64, purpose portal.TokenPurpose) error {
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?`, userID, string(purpose)); err != nil {
		return fmt.Errorf("delete account tokens: %w", err)
	}
	return nil
}

// DeleteExpiredAccountTokens removes the tokens that expired before now
// and returns how many.
func (s *Store) DeleteExpiredAccountTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM account_tokens WHERE expires_at <= ?`, formatTime(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired account tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired account tokens: %w", err)
	}
	return int(n), nil
}

// DeleteUnconfirmedSignUps removes the pending accounts of provider
// sign-ups nobody confirmed, made before createdBefore; the schema's
// cascades take their identities and links with them. It runs from the
// periodic clean-up, so the store's version moves only when it removed
// something (a move would make every cache reload).
func (s *Store) DeleteUnconfirmedSignUps(ctx context.Context, createdBefore time.Time) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM users
		WHERE state = ? AND password_hash = '' AND role = ? AND created_at < ?
		AND EXISTS (SELECT 1 FROM identities i WHERE i.user_id = users.id AND i.confirmed = 0)
		AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = users.id AND i.confirmed = 1)
		AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.owner_id = users.id)
		AND NOT EXISTS (SELECT 1 FROM account_tokens t WHERE t.user_id = users.id AND t.purpose IN (?, ?))`,
		string(portal.UserPending), string(portal.RoleDeveloper), formatTime(createdBefore),
		string(portal.TokenInvitation), string(portal.TokenResetPassword))
	if err != nil {
		return 0, fmt.Errorf("delete unconfirmed sign-ups: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete unconfirmed sign-ups: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := bumpVersion(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return int(n), nil
}
