package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
			return errAccountBlocked
		case u.State != portal.UserPending || u.PasswordHash != "":
			return portal.ErrInvitationAnswered
		}
		if err := dropUnconfirmed(ctx, tx, id); err != nil {
			return err
		}
		if a.Identity != nil {
			i := *a.Identity
			i.UserID, i.Unconfirmed = id, false
			if err := linkProvenIdentity(ctx, tx, &i, a.Now); err != nil {
				if portal.ErrorCode(err) == portal.ECONFLICT {
					return portal.Errorf(portal.ECONFLICT, "This identity is already linked to another account of this portal. Accept the invitation with another identity or with a password.")
				}
				return err
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

// errAccountBlocked refuses a link whose account was blocked since it was
// sent; the link stays usable should the block be lifted.
var errAccountBlocked = portal.Errorf(portal.EFORBIDDEN, "This account is blocked. Contact the portal's administrators.")

// linkProvenIdentity links i, which its holder has just proven at the
// provider, confirmed, to i.UserID in tx. An identity unconfirmed on
// another pending account moves here: that account's provider sign-up
// never proved its address, while this link did prove who holds the
// identity (typically the same person, who signed up unverified with one
// address and was then invited at another). The other account loses the
// identity and its confirmation links, and goes if nothing else is left
// of it.
// Returns ECONFLICT when the identity is linked to another account in
// any other way.
func linkProvenIdentity(ctx context.Context, tx *sql.Tx, i *portal.Identity, now time.Time) error {
	have, err := scanIdentity(tx.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE issuer = ? AND subject = ?`, i.Issuer, i.Subject))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return insertIdentity(ctx, tx, i, now)
	case err != nil:
		return fmt.Errorf("find identity: %w", err)
	case have.UserID == i.UserID:
		if _, err := tx.ExecContext(ctx, `UPDATE identities SET confirmed = 1 WHERE id = ?`, have.ID); err != nil {
			return fmt.Errorf("confirm identity: %w", err)
		}
		i.ID, i.CreatedAt, i.LastUsed = have.ID, have.CreatedAt, have.LastUsed
		return nil
	}
	taken := portal.Errorf(portal.ECONFLICT, "This identity is already linked to an account.")
	if !have.Unconfirmed {
		return taken
	}
	other, err := findUser(ctx, tx, "id = ?", have.UserID)
	if err != nil {
		return err
	}
	if other.State != portal.UserPending {
		return taken
	}
	if err := i.Validate(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE identities SET user_id = ?, provider = ?, email = ?, confirmed = 1, created_at = ?, last_used = ?
		WHERE id = ?`, i.UserID, i.Provider, i.Email, formatTime(now), formatTime(now), have.ID); err != nil {
		return fmt.Errorf("move identity: %w", err)
	}
	i.ID, i.CreatedAt, i.LastUsed = have.ID, now, now
	// The confirmation links of the account the identity left were about
	// the identity, and go. The account goes too when nothing else is
	// left of it (on a portal with provider sign-in only, its owner
	// could never get into it); one holding anything an administrator
	// or its owner gave it (a password, another identity, a live link,
	// a subscription, a role) stays, pending.
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?`,
		other.ID, string(portal.TokenConfirmSignup)); err != nil {
		return fmt.Errorf("void the confirmation links of the account the identity left: %w", err)
	}
	if other.PasswordHash != "" || other.Role != portal.RoleDeveloper {
		return nil
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM identities WHERE user_id = ?)
		+ (SELECT count(*) FROM account_tokens WHERE user_id = ? AND expires_at > ?)
		+ (SELECT count(*) FROM subscriptions WHERE owner_id = ?)`,
		other.ID, other.ID, formatTime(now), other.ID).Scan(&left); err != nil {
		return fmt.Errorf("count what is left of the account the identity left: %w", err)
	}
	if left == 0 {
		if err := deleteUser(ctx, tx, "id = ?", other.ID); err != nil {
			return fmt.Errorf("delete the account the identity left: %w", err)
		}
	}
	return nil
}

// ConfirmSignup uses the confirmation link up and, for a pending user,
// makes them active and confirms their identities in one transaction: an
// active account is never without the identity that signs in to it, and a
// block refuses the link without using it up.
func (s *Store) ConfirmSignup(ctx context.Context, hash string, now time.Time) (*portal.User, error) {
	if now.IsZero() {
		now = s.nowUTC()
	}
	confirm := string(portal.TokenConfirmSignup)
	var u *portal.User
	err := s.change(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM account_tokens WHERE hash = ? AND purpose = ? AND expires_at > ?`,
			hash, confirm, formatTime(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Confirmation link not found.")
		} else if err != nil {
			return fmt.Errorf("find confirmation token: %w", err)
		}
		if u, err = findUser(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if u.State == portal.UserBlocked {
			return errAccountBlocked
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE hash = ? AND purpose = ?`, hash, confirm); err != nil {
			return fmt.Errorf("take confirmation token: %w", err)
		}
		if u.State != portal.UserPending {
			// Made active another way, which dropped the identities the
			// link would have confirmed (dropUnconfirmed): the link only
			// proves the address, as a reset link does.
			return nil
		}
		u.State = portal.UserActive
		cleanStoredName(u)
		if err := u.Validate(); err != nil {
			return err
		}
		if err := s.updateUser(ctx, tx, u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identities SET confirmed = 1 WHERE user_id = ? AND confirmed = 0`, id); err != nil {
			return fmt.Errorf("confirm identities: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose IN (?, ?)`,
			id, confirm, string(portal.TokenInvitation)); err != nil {
			return fmt.Errorf("void confirmation links: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
