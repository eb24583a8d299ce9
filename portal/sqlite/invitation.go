package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/porticoapi/portico/portal"
)

// AcceptInvitation uses the invitation link up and makes its pending user
// active with a password or an identity, in one transaction, so that a
// refusal at any step (an identity linked elsewhere, a block made since the
// link was checked) leaves the link and the account as they were.
func (s *Store) AcceptInvitation(ctx context.Context, a portal.InvitationAcceptance) (*portal.User, error) {
	if (a.PasswordHash == "") == (a.Identity == nil) {
		return nil, portal.Errorf(portal.EINVALID, "An invitation is accepted with a password or with an identity.")
	}
	if a.Now.IsZero() {
		a.Now = s.nowUTC()
	}
	var u *portal.User
	err := s.change(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `DELETE FROM account_tokens WHERE hash = ? AND purpose = ? AND expires_at > ? RETURNING user_id`,
			a.Token, string(portal.TokenInvitation), formatTime(a.Now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Invitation link not found.")
		} else if err != nil {
			return fmt.Errorf("take invitation token: %w", err)
		}
		if u, err = findUser(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		switch {
		case u.State == portal.UserBlocked:
			return portal.Errorf(portal.EFORBIDDEN, "This account is blocked. Contact the portal's administrators.")
		case u.State != portal.UserPending || u.PasswordHash != "":
			return portal.Errorf(portal.ECONFLICT, "This invitation was already accepted or withdrawn. If you accepted it, sign in.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE user_id = ? AND confirmed = 0`, id); err != nil {
			return fmt.Errorf("delete unconfirmed identities: %w", err)
		}
		if a.Identity != nil {
			i := *a.Identity
			i.UserID = id
			if err := i.Validate(); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO identities (user_id, provider, issuer, subject, email, created_at, last_used)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, id, i.Provider, i.Issuer, i.Subject, i.Email, formatTime(a.Now), formatTime(a.Now))
			if _, ok := uniqueTarget(err); ok {
				return portal.Errorf(portal.ECONFLICT, "This identity is already linked to another account of this portal. Accept the invitation with another identity or with a password.")
			} else if err != nil {
				return fmt.Errorf("link identity: %w", err)
			}
		} else {
			u.PasswordHash = a.PasswordHash
		}
		u.State = portal.UserActive
		cleanStoredName(u)
		if err := u.Validate(); err != nil {
			return err
		}
		if err := s.updateUser(ctx, tx, u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose IN (?, ?)`,
			id, string(portal.TokenInvitation), string(portal.TokenConfirmSignup)); err != nil {
			return fmt.Errorf("void invitation links: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
