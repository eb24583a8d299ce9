package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/porticoapi/portico/portal"
)

const identityProviderColumns = `id, name, type, display_name, client_id, client_secret, tenant, allowed_tenants,
	authority, issuer, scopes, signup, created_at, updated_at`

func (s *Store) scanIdentityProvider(row scanner) (*portal.IdentityProvider, error) {
	p := &portal.IdentityProvider{}
	var secret []byte
	var tenants, scopes string
	if err := row.Scan(&p.ID, &p.Name, &p.Type, &p.DisplayName, &p.ClientID, &secret, &p.Tenant, &tenants,
		&p.Authority, &p.Issuer, &scopes, &p.SignUp, timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt}); err != nil {
		return nil, err
	}
	if secret != nil {
		b, err := s.keys.Open(secret)
		if err != nil {
			return nil, fmt.Errorf("identity provider %s client secret: %w", p.Name, err)
		}
		p.ClientSecret = string(b)
	}
	if err := json.Unmarshal([]byte(tenants), &p.AllowedTenants); err != nil {
		return nil, fmt.Errorf("identity provider %s allowed tenants: %w", p.Name, err)
	}
	if err := json.Unmarshal([]byte(scopes), &p.Scopes); err != nil {
		return nil, fmt.Errorf("identity provider %s scopes: %w", p.Name, err)
	}
	if len(p.AllowedTenants) == 0 {
		p.AllowedTenants = nil
	}
	if len(p.Scopes) == 0 {
		p.Scopes = nil
	}
	return p, nil
}

// identityProviderArgs are the stored forms of p's columns after the id,
// in identityProviderColumns order, up to created_at.
func (s *Store) identityProviderArgs(p *portal.IdentityProvider) []any {
	var secret any
	if p.ClientSecret != "" {
		secret = s.keys.Seal([]byte(p.ClientSecret))
	}
	return []any{p.Name, p.Type, p.DisplayName, p.ClientID, secret, p.Tenant, jsonStrings(p.AllowedTenants),
		p.Authority, p.Issuer, jsonStrings(p.Scopes), p.SignUp}
}

func jsonStrings(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v) // strings always encode
	return string(b)
}

func identityProviderConflict(err error, op string, p *portal.IdentityProvider) error {
	if _, ok := uniqueTarget(err); ok {
		return portal.Errorf(portal.ECONFLICT, "An identity provider named %s already exists.", p.Name)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// FindIdentityProviderByName returns ENOTFOUND.
func (s *Store) FindIdentityProviderByName(ctx context.Context, name string) (*portal.IdentityProvider, error) {
	var p *portal.IdentityProvider
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		p, err = s.findIdentityProvider(ctx, tx, name)
		return err
	})
	return p, err
}

func (s *Store) findIdentityProvider(ctx context.Context, tx *sql.Tx, name string) (*portal.IdentityProvider, error) {
	p, err := s.scanIdentityProvider(tx.QueryRowContext(ctx, `SELECT `+identityProviderColumns+` FROM identity_providers WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Identity provider %s not found.", name)
	} else if err != nil {
		return nil, fmt.Errorf("find identity provider: %w", err)
	}
	return p, nil
}

// FindIdentityProviders returns every provider ordered by name.
func (s *Store) FindIdentityProviders(ctx context.Context) ([]*portal.IdentityProvider, error) {
	var out []*portal.IdentityProvider
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+identityProviderColumns+` FROM identity_providers ORDER BY name`)
		if err != nil {
			return fmt.Errorf("find identity providers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := s.scanIdentityProvider(rows)
			if err != nil {
				return fmt.Errorf("find identity providers: %w", err)
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// CreateIdentityProvider validates p and stores it. Returns EINVALID or
// ECONFLICT.
func (s *Store) CreateIdentityProvider(ctx context.Context, p *portal.IdentityProvider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx) error { return s.insertIdentityProvider(ctx, tx, p) })
}

func (s *Store) insertIdentityProvider(ctx context.Context, tx *sql.Tx, p *portal.IdentityProvider) error {
	now := s.nowUTC()
	args := append(s.identityProviderArgs(p), formatTime(now), formatTime(now))
	res, err := tx.ExecContext(ctx, `INSERT INTO identity_providers (name, type, display_name, client_id, client_secret,
		tenant, allowed_tenants, authority, issuer, scopes, signup, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return identityProviderConflict(err, "insert identity provider", p)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert identity provider: %w", err)
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, now, now
	return nil
}

// UpdateIdentityProvider replaces the provider named name with p; an empty
// ClientSecret keeps the stored one, and a rename moves the identities
// linked through it to the new name in the same transaction. Returns
// ENOTFOUND, EINVALID or ECONFLICT.
func (s *Store) UpdateIdentityProvider(ctx context.Context, name string, p *portal.IdentityProvider) (*portal.IdentityProvider, error) {
	np := *p
	np.AllowedTenants = append([]string(nil), p.AllowedTenants...)
	np.Scopes = append([]string(nil), p.Scopes...)
	if err := np.Validate(); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(tx *sql.Tx) error {
		old, err := s.findIdentityProvider(ctx, tx, name)
		if err != nil {
			return err
		}
		return s.updateIdentityProvider(ctx, tx, old, &np)
	})
	if err != nil {
		return nil, err
	}
	return &np, nil
}

// updateIdentityProvider writes the validated p over old; an empty
// ClientSecret keeps old's.
func (s *Store) updateIdentityProvider(ctx context.Context, tx *sql.Tx, old, p *portal.IdentityProvider) error {
	if p.ClientSecret == "" {
		p.ClientSecret = old.ClientSecret
	}
	p.ID, p.CreatedAt, p.UpdatedAt = old.ID, old.CreatedAt, s.nowUTC()
	args := append(s.identityProviderArgs(p), formatTime(p.UpdatedAt), p.ID)
	if _, err := tx.ExecContext(ctx, `UPDATE identity_providers SET name = ?, type = ?, display_name = ?, client_id = ?,
		client_secret = ?, tenant = ?, allowed_tenants = ?, authority = ?, issuer = ?, scopes = ?, signup = ?, updated_at = ?
		WHERE id = ?`, args...); err != nil {
		return identityProviderConflict(err, "update identity provider", p)
	}
	if old.Name != p.Name {
		// Identities name the provider they were linked through, and the
		// profile and the sign-in checks find it by that name: a rename
		// that left them behind would orphan them.
		if _, err := tx.ExecContext(ctx, `UPDATE identities SET provider = ? WHERE provider = ?`, p.Name, old.Name); err != nil {
			return fmt.Errorf("move identities to renamed provider: %w", err)
		}
	}
	return nil
}

// upsertIdentityProvider matches p by name, for Apply; an empty
// ClientSecret keeps the stored one.
func (s *Store) upsertIdentityProvider(ctx context.Context, tx *sql.Tx, p *portal.IdentityProvider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	old, err := s.findIdentityProvider(ctx, tx, p.Name)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return s.insertIdentityProvider(ctx, tx, p)
	} else if err != nil {
		return err
	}
	return s.updateIdentityProvider(ctx, tx, old, p)
}

// DeleteIdentityProvider removes the provider. Returns ENOTFOUND.
func (s *Store) DeleteIdentityProvider(ctx context.Context, name string) error {
	return s.change(ctx, func(tx *sql.Tx) error { return deleteIdentityProvider(ctx, tx, name) })
}

func deleteIdentityProvider(ctx context.Context, tx *sql.Tx, name string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM identity_providers WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete identity provider: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete identity provider: %w", err)
	} else if n == 0 {
		return notFound("Identity provider %s not found.", name)
	}
	return nil
}

// Identities are written on every sign-in with a provider, so, like
// sessions, they are single statements outside Store.change.

const identityColumns = `id, user_id, provider, issuer, subject, email, confirmed, created_at, last_used`

func scanIdentity(row scanner) (*portal.Identity, error) {
	i := &portal.Identity{}
	var confirmed bool
	if err := row.Scan(&i.ID, &i.UserID, &i.Provider, &i.Issuer, &i.Subject, &i.Email, &confirmed,
		timeDest{&i.CreatedAt}, timeDest{&i.LastUsed}); err != nil {
		return nil, err
	}
	i.Unconfirmed = !confirmed
	return i, nil
}

// FindIdentity returns the identity with this issuer and subject. Returns
// ENOTFOUND.
func (s *Store) FindIdentity(ctx context.Context, issuer, subject string) (*portal.Identity, error) {
	i, err := scanIdentity(s.reader.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities
		WHERE issuer = ? AND subject = ?`, issuer, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Identity not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return i, nil
}

// FindUserIdentities returns a user's identities, oldest first.
func (s *Store) FindUserIdentities(ctx context.Context, userID int64) ([]*portal.Identity, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("find user identities: %w", err)
	}
	defer rows.Close()
	var out []*portal.Identity
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("find user identities: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find user identities: %w", err)
	}
	return out, nil
}

// CreateIdentity links i to its user. The user's existence is checked in
// the same statement. Returns EINVALID, ENOTFOUND or ECONFLICT.
func (s *Store) CreateIdentity(ctx context.Context, i *portal.Identity) error {
	return insertIdentity(ctx, s.writer, i, s.nowUTC())
}

// insertIdentity links i to its user, on its own or inside a change's
// transaction (AcceptInvitation), and fills ID, CreatedAt and LastUsed.
// The user's existence is checked in the same statement. Returns
// EINVALID, ENOTFOUND or ECONFLICT.
func insertIdentity(ctx context.Context, ex execer, i *portal.Identity, now time.Time) error {
	if err := i.Validate(); err != nil {
		return err
	}
	res, err := ex.ExecContext(ctx, `INSERT INTO identities (user_id, provider, issuer, subject, email, confirmed, created_at, last_used)
		SELECT id, ?, ?, ?, ?, ?, ?, ? FROM users WHERE id = ?`,
		i.Provider, i.Issuer, i.Subject, i.Email, !i.Unconfirmed, formatTime(now), formatTime(now), i.UserID)
	if err != nil {
		if _, ok := uniqueTarget(err); ok {
			return portal.Errorf(portal.ECONFLICT, "This identity is already linked to an account.")
		}
		return fmt.Errorf("insert identity: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert identity: %w", err)
	} else if n == 0 {
		return notFound("User not found.")
	}
	if i.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert identity: %w", err)
	}
	i.CreatedAt, i.LastUsed = now, now
	return nil
}

// dropUnconfirmed deletes the unconfirmed identities of user id and voids
// their sign-up confirmation links, in tx. Every change that makes a
// pending account active, but the confirmation link itself, calls it in
// its transaction: an unconfirmed identity comes from a provider sign-up
// whose address nobody proved, and whoever makes the account active (an
// administrator, a config file, a reset or invitation link) has not
// proven that identity's holder owns it; a confirmation link left live
// would let the address's owner confirm it later, unaware.
func dropUnconfirmed(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE user_id = ? AND confirmed = 0`, id); err != nil {
		return fmt.Errorf("delete unconfirmed identities: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?`, id, string(portal.TokenConfirmSignup)); err != nil {
		return fmt.Errorf("void confirmation links: %w", err)
	}
	return nil
}

// TouchIdentity records a sign-in with the identity. Returns ENOTFOUND.
func (s *Store) TouchIdentity(ctx context.Context, id int64, email string, at time.Time) error {
	res, err := s.writer.ExecContext(ctx, `UPDATE identities SET email = ?, last_used = ? WHERE id = ?`, email, formatTime(at), id)
	if err != nil {
		return fmt.Errorf("touch identity: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("touch identity: %w", err)
	} else if n == 0 {
		return notFound("Identity not found.")
	}
	return nil
}

// DeleteIdentity unlinks one identity of a user. Returns ENOTFOUND.
func (s *Store) DeleteIdentity(ctx context.Context, userID, id int64) error {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM identities WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("delete identity: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete identity: %w", err)
	} else if n == 0 {
		return notFound("Identity not found.")
	}
	return nil
}

// ConfirmIdentity confirms one identity of a user. Returns ENOTFOUND.
func (s *Store) ConfirmIdentity(ctx context.Context, userID, id int64) error {
	res, err := s.writer.ExecContext(ctx, `UPDATE identities SET confirmed = 1 WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("confirm identity: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("confirm identity: %w", err)
	} else if n == 0 {
		return notFound("Identity not found.")
	}
	return nil
}
