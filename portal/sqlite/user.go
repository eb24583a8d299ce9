package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/porticoapi/portico/portal"
)

const userColumns = `id, email, name, role, state, password_hash, created_at, updated_at`

func scanUser(row scanner, extra ...any) (*portal.User, error) {
	u := &portal.User{}
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.State, &u.PasswordHash,
		timeDest{&u.CreatedAt}, timeDest{&u.UpdatedAt}}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return u, nil
}

// FindUserByID returns ENOTFOUND if no user has this id.
func (s *Store) FindUserByID(ctx context.Context, id int64) (*portal.User, error) {
	var u *portal.User
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		u, err = findUser(ctx, tx, "id = ?", id)
		return err
	})
	return u, err
}

// FindUserByEmail matches the normalized address. Returns ENOTFOUND.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*portal.User, error) {
	var u *portal.User
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		u, err = findUser(ctx, tx, "email = ?", portal.NormalizeEmail(email))
		return err
	})
	return u, err
}

func findUser(ctx context.Context, tx *sql.Tx, cond string, arg any) (*portal.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("User not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindUsers returns a page of users ordered by email, and the total.
func (s *Store) FindUsers(ctx context.Context, f portal.UserFilter) ([]*portal.User, int, error) {
	var conds []string
	var args []any
	if f.Role != "" {
		conds, args = append(conds, "role = ?"), append(args, f.Role)
	}
	if f.State != "" {
		conds, args = append(conds, "state = ?"), append(args, f.State)
	}
	if q := searchText(f.Query); q != "" {
		conds, args = append(conds, "(instr(email, ?) > 0 OR instr(lower(name), ?) > 0)"), append(args, q, q)
	}
	var users []*portal.User
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+`, count(*) OVER () FROM users`+
			where(conds)+` ORDER BY email`+page(f.Offset, f.Limit), args...)
		if err != nil {
			return fmt.Errorf("find users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows, &total)
			if err != nil {
				return fmt.Errorf("find users: %w", err)
			}
			users = append(users, u)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find users: %w", err)
		}
		if len(users) == 0 && f.Offset > 0 {
			return countRows(ctx, tx, &total, `SELECT count(*) FROM users`+where(conds), args)
		}
		return nil
	})
	return users, total, err
}

// countRows fills the total of a page that came back empty because its
// offset is past the end, where count(*) OVER () has no row to ride on.
func countRows(ctx context.Context, tx *sql.Tx, total *int, query string, args []any) error {
	if err := tx.QueryRowContext(ctx, query, args...).Scan(total); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	return nil
}

// CreateUser validates u and stores it. Returns EINVALID or ECONFLICT.
func (s *Store) CreateUser(ctx context.Context, u *portal.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx) error { return s.insertUser(ctx, tx, u) })
}

func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *portal.User) error {
	now := s.nowUTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, role, state, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.Email, u.Name, u.Role, u.State, u.PasswordHash, formatTime(now), formatTime(now))
	if err != nil {
		return conflict(ctx, tx, err, "insert user", u)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt = id, now, now
	return nil
}

// updateUser writes every field of u to the row with u.ID.
func (s *Store) updateUser(ctx context.Context, tx *sql.Tx, u *portal.User) error {
	u.UpdatedAt = s.nowUTC()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, role = ?, state = ?, password_hash = ?, updated_at = ?
		WHERE id = ?`, u.Email, u.Name, u.Role, u.State, u.PasswordHash, formatTime(u.UpdatedAt), u.ID); err != nil {
		return conflict(ctx, tx, err, "update user", u)
	}
	return nil
}

// UpdateUser changes the fields set in upd; a user made active loses
// their unconfirmed identities and confirmation links (dropUnconfirmed).
// Returns ENOTFOUND, EINVALID or ECONFLICT.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd portal.UserUpdate) (*portal.User, error) {
	var u *portal.User
	err := s.change(ctx, func(tx *sql.Tx) (err error) {
		if u, err = findUser(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		wasAdmin, wasActive := u.IsAdmin(), u.State == portal.UserActive
		if upd.Email != nil {
			u.Email = *upd.Email
		}
		if upd.Name != nil {
			u.Name = *upd.Name
		} else {
			cleanStoredName(u)
		}
		if upd.Role != nil {
			u.Role = *upd.Role
		}
		if upd.State != nil {
			u.State = *upd.State
		}
		if upd.PasswordHash != nil {
			u.PasswordHash = *upd.PasswordHash
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := s.updateUser(ctx, tx, u); err != nil {
			return err
		}
		if !wasActive && u.State == portal.UserActive {
			if err := dropUnconfirmed(ctx, tx, id); err != nil {
				return err
			}
		}
		if wasAdmin && !u.IsAdmin() {
			return keepAnAdmin(ctx, tx, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// cleanStoredName makes the name of a row read back for a change that
// does not set it pass portal's name rule: rows stored before the rule
// refused control characters would otherwise fail Validate, and with it
// every change that re-validates the whole row (blocking the user, a
// password reset) for a reason that has nothing to do with the change.
func cleanStoredName(u *portal.User) {
	u.Name = portal.CleanName(u.Name)
	if u.Name == "" {
		u.Name, _, _ = strings.Cut(u.Email, "@")
	}
}

// keepAnAdmin returns portal.LastAdminError for u when, after a change in
// tx that made u no longer an active administrator, none is left. It runs
// inside the change's transaction, on the one write connection, so two
// administrators stepping down at the same time cannot both pass; the
// error rolls the change back.
func keepAnAdmin(ctx context.Context, tx *sql.Tx, u *portal.User) error {
	n, err := countActiveAdmins(ctx, tx)
	if err != nil {
		return err
	}
	if n == 0 {
		return portal.LastAdminError(u)
	}
	return nil
}

// countActiveAdmins counts the active administrators as tx sees them.
func countActiveAdmins(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = ? AND state = ?`,
		portal.RoleAdmin, portal.UserActive).Scan(&n); err != nil {
		return 0, fmt.Errorf("count administrators: %w", err)
	}
	return n, nil
}

// SetPassword sets the password with what goes with it in one
// transaction: the reset link used up (ENOTFOUND when it is not live), a
// pending user activated (and their unconfirmed identities and
// confirmation links deleted: dropUnconfirmed), the
// user's reset links voided and their sessions but ch.KeepSession
// deleted.
func (s *Store) SetPassword(ctx context.Context, id int64, ch portal.PasswordChange) (*portal.User, error) {
	if ch.PasswordHash == "" {
		return nil, portal.Errorf(portal.EINVALID, "Password required.")
	}
	if ch.Now.IsZero() {
		ch.Now = s.nowUTC()
	}
	reset := string(portal.TokenResetPassword)
	var u *portal.User
	err := s.change(ctx, func(tx *sql.Tx) (err error) {
		if u, err = findUser(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if ch.ResetToken != "" {
			res, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE hash = ? AND purpose = ? AND user_id = ? AND expires_at > ?`,
				ch.ResetToken, reset, id, formatTime(ch.Now))
			if err != nil {
				return fmt.Errorf("take reset token: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("take reset token: %w", err)
			} else if n == 0 {
				return notFound("Reset link not found.")
			}
		}
		u.PasswordHash = ch.PasswordHash
		activated := ch.Activate && u.State == portal.UserPending
		if activated {
			u.State = portal.UserActive
		}
		cleanStoredName(u)
		if err := u.Validate(); err != nil {
			return err
		}
		if err := s.updateUser(ctx, tx, u); err != nil {
			return err
		}
		if activated {
			// A reset link proves the address to its owner, who may not
			// be the one who linked an unconfirmed identity.
			if err := dropUnconfirmed(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?`, id, reset); err != nil {
			return fmt.Errorf("void reset tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, id, ch.KeepSession); err != nil {
			return fmt.Errorf("delete user sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser removes the user; the schema's cascades remove their
// subscriptions (with their keys) and sessions. Returns ENOTFOUND.
// Deleting the last active administrator returns portal.LastAdminError.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.change(ctx, func(tx *sql.Tx) error {
		u, err := findUser(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if err := deleteUser(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if u.IsAdmin() {
			return keepAnAdmin(ctx, tx, u)
		}
		return nil
	})
}

func deleteUser(ctx context.Context, tx *sql.Tx, cond string, arg any) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE `+cond, arg)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete user: %w", err)
	} else if n == 0 {
		return notFound("User not found.")
	}
	return nil
}
