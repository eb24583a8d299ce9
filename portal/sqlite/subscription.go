package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/porticoapi/portico/portal"
)

const subscriptionColumns = `s.id, s.name, s.display_name, coalesce(s.owner_id, 0), coalesce(u.email, ''),
	coalesce(u.name, ''), coalesce(u.state, ''), s.scope_kind, coalesce(p.name, a.name, ''), s.state, s.state_comment,
	s.expires_at, s.created_at, s.updated_at`

// subscriptionFrom joins what reads fill besides the row: the owner's
// email, name and state, and the scope's name.
const subscriptionFrom = ` FROM subscriptions s
	LEFT JOIN users u ON u.id = s.owner_id
	LEFT JOIN products p ON p.id = s.product_id
	LEFT JOIN apis a ON a.id = s.api_id`

func scanSubscription(row scanner, extra ...any) (*portal.Subscription, error) {
	s := &portal.Subscription{}
	dest := append([]any{&s.ID, &s.Name, &s.DisplayName, &s.OwnerID, &s.OwnerEmail, &s.OwnerName, &s.OwnerState,
		&s.Scope.Kind, &s.Scope.Name, &s.State, &s.StateComment, nullTimeDest{&s.ExpiresAt},
		timeDest{&s.CreatedAt}, timeDest{&s.UpdatedAt}}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return s, nil
}

// subscriptionCountedStates are the states that count towards a product's
// subscriptions limit: the ones that hold, or may come to hold, working keys.
const subscriptionCountedStates = `('submitted', 'active', 'suspended')`

// FindSubscriptionByID returns ENOTFOUND.
func (s *Store) FindSubscriptionByID(ctx context.Context, id int64) (*portal.Subscription, error) {
	var sub *portal.Subscription
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		sub, err = findSubscription(ctx, tx, "s.id = ?", id)
		return err
	})
	return sub, err
}

// FindSubscriptionByName returns ENOTFOUND.
func (s *Store) FindSubscriptionByName(ctx context.Context, name string) (*portal.Subscription, error) {
	var sub *portal.Subscription
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		sub, err = findSubscription(ctx, tx, "s.name = ?", name)
		return err
	})
	return sub, err
}

func findSubscription(ctx context.Context, tx *sql.Tx, cond string, arg any) (*portal.Subscription, error) {
	sub, err := scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+subscriptionFrom+` WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Subscription not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find subscription: %w", err)
	}
	return sub, nil
}

// FindSubscriptionByKey returns the subscription holding key and which of
// its keys it is. Returns ENOTFOUND.
func (s *Store) FindSubscriptionByKey(ctx context.Context, key string) (*portal.Subscription, portal.KeyKind, error) {
	if key == "" {
		return nil, "", notFound("Subscription not found.")
	}
	var sub *portal.Subscription
	var kind portal.KeyKind
	err := s.view(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT subscription_id, kind FROM subscription_keys WHERE hash = ?`,
			s.keys.KeyHash(key)).Scan(&id, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Subscription not found.")
		} else if err != nil {
			return fmt.Errorf("find subscription key: %w", err)
		}
		sub, err = findSubscription(ctx, tx, "s.id = ?", id)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return sub, kind, nil
}

// FindSubscriptions returns subscriptions, newest first, and the total.
func (s *Store) FindSubscriptions(ctx context.Context, f portal.SubscriptionFilter) ([]*portal.Subscription, int, error) {
	var conds []string
	var args []any
	if f.OwnerID != 0 {
		conds, args = append(conds, "s.owner_id = ?"), append(args, f.OwnerID)
	}
	if f.State != "" {
		conds, args = append(conds, "s.state = ?"), append(args, f.State)
	}
	if sc := f.Scope; sc != nil {
		switch sc.Kind {
		case portal.ScopeProduct:
			conds, args = append(conds, "s.scope_kind = 'product' AND p.name = ?"), append(args, sc.Name)
		case portal.ScopeAPI:
			conds, args = append(conds, "s.scope_kind = 'api' AND a.name = ?"), append(args, sc.Name)
		default:
			conds, args = append(conds, "s.scope_kind = ?"), append(args, sc.Kind)
		}
	}
	var subs []*portal.Subscription
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionColumns+`, count(*) OVER ()`+subscriptionFrom+
			where(conds)+` ORDER BY s.created_at DESC, s.id DESC`+page(f.Offset, f.Limit), args...)
		if err != nil {
			return fmt.Errorf("find subscriptions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			sub, err := scanSubscription(rows, &total)
			if err != nil {
				return fmt.Errorf("find subscriptions: %w", err)
			}
			subs = append(subs, sub)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find subscriptions: %w", err)
		}
		if len(subs) == 0 && f.Offset > 0 {
			return countRows(ctx, tx, &total, `SELECT count(*)`+subscriptionFrom+where(conds), args)
		}
		return nil
	})
	return subs, total, err
}

// CreateSubscription validates sub, resolves its owner and scope, enforces
// the product's subscriptions limit, generates the keys left empty and
// stores it. Returns EINVALID or ECONFLICT.
func (s *Store) CreateSubscription(ctx context.Context, sub *portal.Subscription) error {
	return s.change(ctx, func(tx *sql.Tx) error { return s.insertSubscription(ctx, tx, sub) })
}

func (s *Store) insertSubscription(ctx context.Context, tx *sql.Tx, sub *portal.Subscription) error {
	if sub.PrimaryKey == "" {
		sub.PrimaryKey = portal.GenerateKey()
	}
	if sub.SecondaryKey == "" {
		sub.SecondaryKey = portal.GenerateKey()
	}
	if err := sub.Validate(); err != nil {
		return err
	}
	ref, err := resolveSubscription(ctx, tx, sub)
	if err != nil {
		return err
	}
	if err := checkSubscriptionsLimit(ctx, tx, sub, ref); err != nil {
		return err
	}
	now := s.nowUTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (name, display_name, owner_id, scope_kind, product_id,
		api_id, state, state_comment, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sub.Name, sub.DisplayName, ref.owner, sub.Scope.Kind, ref.product, ref.api, sub.State, sub.StateComment,
		formatNullTime(sub.ExpiresAt), formatTime(now), formatTime(now))
	if err != nil {
		return conflict(ctx, tx, err, "insert subscription", sub)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert subscription: %w", err)
	}
	if err := s.setKeys(ctx, tx, id, sub, sub.PrimaryKey, sub.SecondaryKey); err != nil {
		return err
	}
	return fillSubscription(ctx, tx, id, sub)
}

// fillSubscription copies the stored subscription id into sub, keeping the
// plaintext keys it carries, so that a writer gets what a reader would.
func fillSubscription(ctx context.Context, tx *sql.Tx, id int64, sub *portal.Subscription) error {
	stored, err := findSubscription(ctx, tx, "s.id = ?", id)
	if err != nil {
		return err
	}
	stored.PrimaryKey, stored.SecondaryKey = sub.PrimaryKey, sub.SecondaryKey
	*sub = *stored
	return nil
}

// subscriptionRef is a subscription's owner and scope as stored: ids, or nil.
type subscriptionRef struct {
	owner, product, api any
	limit               int    // the product's subscriptions limit
	productTitle        string // for the limit's message
}

// resolveSubscription finds the owner (by OwnerID, else OwnerEmail; neither
// means no owner) and the scope's product or API. Returns EINVALID when
// either does not exist.
func resolveSubscription(ctx context.Context, tx *sql.Tx, sub *portal.Subscription) (subscriptionRef, error) {
	var ref subscriptionRef
	var ownerID int64
	var err error
	switch {
	case sub.OwnerID != 0:
		err = tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = ?`, sub.OwnerID).Scan(&ownerID)
	case sub.OwnerEmail != "":
		err = tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, portal.NormalizeEmail(sub.OwnerEmail)).Scan(&ownerID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		owner := sub.OwnerEmail
		if sub.OwnerID != 0 {
			owner = fmt.Sprint("#", sub.OwnerID)
		}
		return ref, portal.Errorf(portal.EINVALID, "Subscription %s: owner %s does not exist.", sub.Name, owner)
	} else if err != nil {
		return ref, fmt.Errorf("find subscription owner: %w", err)
	}
	if ownerID != 0 {
		ref.owner = ownerID
	}

	switch sub.Scope.Kind {
	case portal.ScopeProduct:
		var id int64
		var display string
		err = tx.QueryRowContext(ctx, `SELECT id, display_name, subscriptions_limit FROM products WHERE name = ?`,
			sub.Scope.Name).Scan(&id, &display, &ref.limit)
		ref.product, ref.productTitle = id, (&portal.Product{Name: sub.Scope.Name, DisplayName: display}).Title()
	case portal.ScopeAPI:
		var id int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM apis WHERE name = ?`, sub.Scope.Name).Scan(&id)
		ref.api = id
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ref, portal.Errorf(portal.EINVALID, "Subscription %s: %s %s does not exist.", sub.Name, sub.Scope.Kind, sub.Scope.Name)
	} else if err != nil {
		return ref, fmt.Errorf("find subscription scope: %w", err)
	}
	return ref, nil
}

// checkSubscriptionsLimit refuses a new subscription that would take its
// owner past the product's limit. Subscriptions without an owner belong to
// automation and are not limited.
func checkSubscriptionsLimit(ctx context.Context, tx *sql.Tx, sub *portal.Subscription, ref subscriptionRef) error {
	if ref.limit <= 0 || ref.owner == nil {
		return nil
	}
	switch sub.State {
	case portal.SubscriptionSubmitted, portal.SubscriptionActive, portal.SubscriptionSuspended:
	default:
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subscriptions WHERE owner_id = ? AND product_id = ?
		AND state IN `+subscriptionCountedStates, ref.owner, ref.product).Scan(&n); err != nil {
		return fmt.Errorf("count subscriptions: %w", err)
	}
	if n >= ref.limit {
		return portal.Errorf(portal.ECONFLICT, "You have reached the limit of %d subscriptions to product %s.", ref.limit, ref.productTitle)
	}
	return nil
}

// setKeys replaces the keys given (an empty key is kept) of the subscription
// with id. sub names the subscription in errors. Both old rows go before
// either new one is inserted, so that swapping the two keys works.
func (s *Store) setKeys(ctx context.Context, tx *sql.Tx, id int64, sub *portal.Subscription, primary, secondary string) error {
	if (primary == "") != (secondary == "") {
		// One new key equal to the key kept is a mistake in the request,
		// not a clash with another subscription's key.
		newKey, kept := primary, portal.SecondaryKey
		if primary == "" {
			newKey, kept = secondary, portal.PrimaryKey
		}
		var same bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM subscription_keys WHERE subscription_id = ? AND kind = ? AND hash = ?)`,
			id, kept, s.keys.KeyHash(newKey)).Scan(&same); err != nil {
			return fmt.Errorf("check subscription keys: %w", err)
		}
		if same {
			return portal.Errorf(portal.EINVALID, "Subscription %s: primary and secondary keys must differ.", sub.Name)
		}
	}
	keys := []struct {
		kind portal.KeyKind
		key  string
	}{{portal.PrimaryKey, primary}, {portal.SecondaryKey, secondary}}
	for _, k := range keys {
		if k.key == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscription_keys WHERE subscription_id = ? AND kind = ?`, id, k.kind); err != nil {
			return fmt.Errorf("replace subscription key: %w", err)
		}
	}
	for _, k := range keys {
		if k.key == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscription_keys (subscription_id, kind, hash, sealed) VALUES (?, ?, ?, ?)`,
			id, k.kind, s.keys.KeyHash(k.key), s.keys.Seal([]byte(k.key))); err != nil {
			return conflict(ctx, tx, err, "insert subscription key", sub)
		}
	}
	return nil
}

// UpdateSubscription changes the fields set in upd, when upd.ExpectState
// is set only while the stored state is that one. Returns ENOTFOUND,
// EINVALID or ECONFLICT.
func (s *Store) UpdateSubscription(ctx context.Context, id int64, upd portal.SubscriptionUpdate) (*portal.Subscription, error) {
	var sub *portal.Subscription
	err := s.change(ctx, func(tx *sql.Tx) (err error) {
		if sub, err = findSubscription(ctx, tx, "s.id = ?", id); err != nil {
			return err
		}
		// change begins IMMEDIATE: no other writer runs until the commit,
		// so the state compared is the state replaced.
		if upd.ExpectState != nil && sub.State != *upd.ExpectState {
			return portal.Errorf(portal.ECONFLICT, "Subscription %s was changed meanwhile: it is now %s. Reload the page to see it as it is.", sub.Name, sub.State)
		}
		if upd.DisplayName != nil {
			sub.DisplayName = *upd.DisplayName
		}
		if upd.State != nil {
			sub.State = *upd.State
		}
		if upd.StateComment != nil {
			sub.StateComment = *upd.StateComment
		}
		if upd.ExpiresAt != nil {
			sub.ExpiresAt = *upd.ExpiresAt
		}
		if upd.PrimaryKey != nil {
			sub.PrimaryKey = *upd.PrimaryKey
		}
		if upd.SecondaryKey != nil {
			sub.SecondaryKey = *upd.SecondaryKey
		}
		if (upd.PrimaryKey != nil && sub.PrimaryKey == "") || (upd.SecondaryKey != nil && sub.SecondaryKey == "") {
			return portal.Errorf(portal.EINVALID, "Subscription %s: a key cannot be empty.", sub.Name)
		}
		if err := sub.Validate(); err != nil {
			return err
		}
		if err := s.updateSubscription(ctx, tx, id, sub, nil); err != nil {
			return err
		}
		if err := s.setKeys(ctx, tx, id, sub, sub.PrimaryKey, sub.SecondaryKey); err != nil {
			return err
		}
		// Reread: the keys were plaintext only for Validate, and reads
		// never carry them.
		sub, err = findSubscription(ctx, tx, "s.id = ?", id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// updateSubscription writes the row fields of sub to the row with id, and
// its owner and scope when ref is non-nil.
func (s *Store) updateSubscription(ctx context.Context, tx *sql.Tx, id int64, sub *portal.Subscription, ref *subscriptionRef) error {
	now := formatTime(s.nowUTC())
	var err error
	if ref == nil {
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET name = ?, display_name = ?, state = ?, state_comment = ?,
			expires_at = ?, updated_at = ? WHERE id = ?`,
			sub.Name, sub.DisplayName, sub.State, sub.StateComment, formatNullTime(sub.ExpiresAt), now, id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET name = ?, display_name = ?, owner_id = ?, scope_kind = ?,
			product_id = ?, api_id = ?, state = ?, state_comment = ?, expires_at = ?, updated_at = ? WHERE id = ?`,
			sub.Name, sub.DisplayName, ref.owner, sub.Scope.Kind, ref.product, ref.api, sub.State, sub.StateComment,
			formatNullTime(sub.ExpiresAt), now, id)
	}
	if err != nil {
		return conflict(ctx, tx, err, "update subscription", sub)
	}
	return nil
}

// RegenerateSubscriptionKey replaces one key with a new random key and
// returns it. Returns ENOTFOUND, or EINVALID for an unknown kind.
func (s *Store) RegenerateSubscriptionKey(ctx context.Context, id int64, kind portal.KeyKind) (string, error) {
	key := portal.GenerateKey()
	var primary, secondary string
	switch kind {
	case portal.PrimaryKey:
		primary = key
	case portal.SecondaryKey:
		secondary = key
	default:
		return "", portal.Errorf(portal.EINVALID, "Key %q must be primary or secondary.", kind)
	}
	err := s.change(ctx, func(tx *sql.Tx) error {
		sub, err := findSubscription(ctx, tx, "s.id = ?", id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET updated_at = ? WHERE id = ?`, formatTime(s.nowUTC()), id); err != nil {
			return fmt.Errorf("update subscription: %w", err)
		}
		return s.setKeys(ctx, tx, id, sub, primary, secondary)
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// RevealSubscriptionKeys decrypts both keys. Returns ENOTFOUND.
func (s *Store) RevealSubscriptionKeys(ctx context.Context, id int64) (primary, secondary string, err error) {
	err = s.view(ctx, func(tx *sql.Tx) error {
		if _, err := findSubscription(ctx, tx, "s.id = ?", id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT kind, sealed FROM subscription_keys WHERE subscription_id = ?`, id)
		if err != nil {
			return fmt.Errorf("reveal subscription keys: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var kind portal.KeyKind
			var sealed []byte
			if err := rows.Scan(&kind, &sealed); err != nil {
				return fmt.Errorf("reveal subscription keys: %w", err)
			}
			key, err := s.keys.Open(sealed)
			if err != nil {
				return fmt.Errorf("open subscription %d %s key: %w", id, kind, err)
			}
			if kind == portal.PrimaryKey {
				primary = string(key)
			} else {
				secondary = string(key)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return "", "", err
	}
	return primary, secondary, nil
}

// DeleteSubscription returns ENOTFOUND.
func (s *Store) DeleteSubscription(ctx context.Context, id int64) error {
	return s.change(ctx, func(tx *sql.Tx) error {
		return deleteSubscription(ctx, tx, "id = ?", id, "Subscription not found.")
	})
}

func deleteSubscription(ctx context.Context, tx *sql.Tx, cond string, arg any, notFoundMsg string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE `+cond, arg)
	if err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	} else if n == 0 {
		return notFound("%s", notFoundMsg)
	}
	return nil
}
