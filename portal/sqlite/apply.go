package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/porticoapi/portico/portal"
)

// Apply writes cs in one transaction, in the order that lets later parts
// refer to earlier ones (products to APIs, subscriptions to users and
// products), then the deletions. Any error rolls back all of it, the
// version included. An empty change set writes nothing.
func (s *Store) Apply(ctx context.Context, cs *portal.ChangeSet) error {
	if cs == nil || cs.Empty() {
		return nil
	}
	return s.change(ctx, func(tx *sql.Tx) error {
		adminsBefore, err := countActiveAdmins(ctx, tx)
		if err != nil {
			return err
		}
		if cs.Settings != nil {
			if err := cs.Settings.Validate(); err != nil {
				return err
			}
			if err := saveSettings(ctx, tx, cs.Settings); err != nil {
				return err
			}
		}
		for _, u := range cs.Users {
			if err := s.upsertUser(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, a := range cs.APIs {
			if err := s.upsertAPI(ctx, tx, a); err != nil {
				return err
			}
		}
		for _, p := range cs.Products {
			if err := s.upsertProduct(ctx, tx, p); err != nil {
				return err
			}
		}
		for _, sub := range cs.Subscriptions {
			if err := s.upsertSubscription(ctx, tx, sub); err != nil {
				return err
			}
		}
		for _, inv := range cs.Invitations {
			if err := s.recordInvitation(ctx, tx, inv); err != nil {
				return err
			}
		}
		for _, p := range cs.IdentityProviders {
			if err := s.upsertIdentityProvider(ctx, tx, p); err != nil {
				return err
			}
		}
		for _, name := range cs.DeleteSubscriptions {
			if err := deleteSubscription(ctx, tx, "name = ?", name, "Subscription "+name+" not found."); err != nil {
				return err
			}
		}
		for _, name := range cs.DeleteProducts {
			if err := deleteProduct(ctx, tx, name); err != nil {
				return err
			}
		}
		for _, name := range cs.DeleteAPIs {
			if err := deleteAPI(ctx, tx, name); err != nil {
				return err
			}
		}
		for _, email := range cs.DeleteUsers {
			email = portal.NormalizeEmail(email)
			if err := deleteUser(ctx, tx, "email = ?", email); err != nil {
				if portal.ErrorCode(err) == portal.ENOTFOUND {
					return notFound("User %s not found.", email)
				}
				return err
			}
		}
		for _, name := range cs.DeleteIdentityProviders {
			if err := deleteIdentityProvider(ctx, tx, name); err != nil {
				return err
			}
		}
		// As on the users page: a file may not demote, block or prune the
		// last active administrator (a store that never had one, before
		// its first `portico user add --admin`, may stay without).
		if adminsBefore > 0 {
			n, err := countActiveAdmins(ctx, tx)
			if err != nil {
				return err
			}
			if n == 0 {
				return portal.Errorf(portal.ECONFLICT, "This change would leave no active administrator. Keep at least one user with role admin and state active.")
			}
		}
		return nil
	})
}

// upsertUser matches u by email. An empty PasswordHash keeps the stored
// one. A user made active loses their unconfirmed identities and
// confirmation links (dropUnconfirmed).
func (s *Store) upsertUser(ctx context.Context, tx *sql.Tx, u *portal.User) error {
	if err := u.Validate(); err != nil {
		// The user's own messages ("Name required.") are written for a form
		// beside the field; a change set needs to say which user.
		return portal.Errorf(portal.ErrorCode(err), "User %s: %s", u.Email, portal.ErrorMessage(err))
	}
	stored, err := findUser(ctx, tx, "email = ?", u.Email)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return s.insertUser(ctx, tx, u)
	} else if err != nil {
		return err
	}
	u.ID, u.CreatedAt = stored.ID, stored.CreatedAt
	if u.PasswordHash == "" {
		u.PasswordHash = stored.PasswordHash
	}
	if err := s.updateUser(ctx, tx, u); err != nil {
		return err
	}
	if stored.State != portal.UserActive && u.State == portal.UserActive {
		// A file's state: active proves nobody's address.
		if err := dropUnconfirmed(ctx, tx, u.ID); err != nil {
			return fmt.Errorf("user %s: %w", u.Email, err)
		}
	}
	if u.Role != stored.Role || u.State != stored.State || u.PasswordHash != stored.PasswordHash {
		// As on the users page and the password forms: no session
		// outlives the role, state or password it was started with (a
		// blocked user is signed out at once). In this transaction, so
		// that a failed apply signs nobody out.
		if err := deleteUserSessions(ctx, tx, u.ID, ""); err != nil {
			return fmt.Errorf("end sessions of user %s: %w", u.Email, err)
		}
	}
	return nil
}

// upsertAPI matches a by name. Nil Operations keep the stored ones, a nil
// SpecDocument the stored document.
func (s *Store) upsertAPI(ctx context.Context, tx *sql.Tx, a *portal.API) error {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return err
	}
	id, err := apiID(ctx, tx, a.Name)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return s.insertAPI(ctx, tx, a)
	} else if err != nil {
		return err
	}
	return s.updateAPI(ctx, tx, id, a)
}

// upsertProduct matches p by name and keeps its subscriptions.
func (s *Store) upsertProduct(ctx context.Context, tx *sql.Tx, p *portal.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	id, err := productID(ctx, tx, p.Name)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return s.insertProduct(ctx, tx, p)
	} else if err != nil {
		return err
	}
	return s.updateProduct(ctx, tx, id, p)
}

// upsertSubscription matches sub by name; its owner is OwnerEmail (empty:
// none). Empty keys keep the stored keys, or are generated for a new
// subscription.
func (s *Store) upsertSubscription(ctx context.Context, tx *sql.Tx, sub *portal.Subscription) error {
	sub.OwnerID = 0
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM subscriptions WHERE name = ?`, sub.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return s.insertSubscription(ctx, tx, sub)
	} else if err != nil {
		return fmt.Errorf("find subscription: %w", err)
	}
	if err := sub.Validate(); err != nil {
		return err
	}
	ref, err := resolveSubscription(ctx, tx, sub)
	if err != nil {
		return err
	}
	if err := s.updateSubscription(ctx, tx, id, sub, &ref); err != nil {
		return err
	}
	if err := s.setKeys(ctx, tx, id, sub, sub.PrimaryKey, sub.SecondaryKey); err != nil {
		return err
	}
	return fillSubscription(ctx, tx, id, sub)
}
