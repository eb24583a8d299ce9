package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/porticoapi/portico/portal"
)

const productColumns = `p.id, p.name, p.display_name, p.description, p.terms, p.state, p.subscription_required,
	p.approval_required, p.subscriptions_limit, p.rate_limit_calls, p.rate_limit_period_ns, p.created_at, p.updated_at`

func scanProduct(row scanner, extra ...any) (*portal.Product, error) {
	p := &portal.Product{}
	var calls, period sql.NullInt64
	dest := append([]any{&p.ID, &p.Name, &p.DisplayName, &p.Description, &p.Terms, &p.State, &p.SubscriptionRequired,
		&p.ApprovalRequired, &p.SubscriptionsLimit, &calls, &period, timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt}}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if calls.Valid && period.Valid {
		p.RateLimit = &portal.RateLimit{Calls: int(calls.Int64), Period: time.Duration(period.Int64)}
	}
	return p, nil
}

// FindProductByName returns ENOTFOUND.
func (s *Store) FindProductByName(ctx context.Context, name string) (*portal.Product, error) {
	var p *portal.Product
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		p, err = findProduct(ctx, tx, name)
		return err
	})
	return p, err
}

func findProduct(ctx context.Context, tx *sql.Tx, name string) (*portal.Product, error) {
	p, err := scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Product %s not found.", name)
	} else if err != nil {
		return nil, fmt.Errorf("find product: %w", err)
	}
	if err := loadProductAPIs(ctx, tx, []*portal.Product{p}); err != nil {
		return nil, err
	}
	return p, nil
}

// FindProducts returns products ordered by name and the total matching.
func (s *Store) FindProducts(ctx context.Context, f portal.ProductFilter) ([]*portal.Product, int, error) {
	var conds []string
	var args []any
	if len(f.Names) > 0 {
		names, err := json.Marshal(f.Names)
		if err != nil {
			return nil, 0, fmt.Errorf("find products: %w", err)
		}
		conds, args = append(conds, "p.name IN (SELECT value FROM json_each(?))"), append(args, string(names))
	}
	if f.State != "" {
		conds, args = append(conds, "p.state = ?"), append(args, f.State)
	}
	if f.API != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM product_apis pa JOIN apis a ON a.id = pa.api_id WHERE pa.product_id = p.id AND a.name = ?)")
		args = append(args, f.API)
	}
	var products []*portal.Product
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+productColumns+`, count(*) OVER () FROM products p`+
			where(conds)+` ORDER BY p.name`+page(f.Offset, f.Limit), args...)
		if err != nil {
			return fmt.Errorf("find products: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanProduct(rows, &total)
			if err != nil {
				return fmt.Errorf("find products: %w", err)
			}
			products = append(products, p)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find products: %w", err)
		}
		if len(products) == 0 {
			if f.Offset > 0 {
				return countRows(ctx, tx, &total, `SELECT count(*) FROM products p`+where(conds), args)
			}
			return nil
		}
		return loadProductAPIs(ctx, tx, products)
	})
	return products, total, err
}

// loadProductAPIs fills the API names of products, sorted, in one query.
func loadProductAPIs(ctx context.Context, tx *sql.Tx, products []*portal.Product) error {
	ids := make([]int64, len(products))
	byID := make(map[int64]*portal.Product, len(products))
	for i, p := range products {
		ids[i] = p.ID
		byID[p.ID] = p
	}
	rows, err := tx.QueryContext(ctx, `SELECT pa.product_id, a.name FROM product_apis pa JOIN apis a ON a.id = pa.api_id
		WHERE pa.product_id IN (SELECT value FROM json_each(?)) ORDER BY pa.product_id, a.name`, jsonIDs(ids))
	if err != nil {
		return fmt.Errorf("load product apis: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("load product apis: %w", err)
		}
		byID[id].APIs = append(byID[id].APIs, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load product apis: %w", err)
	}
	return nil
}

// CreateProduct returns EINVALID (including an unknown API), or ECONFLICT
// if the name is taken or an API would be in two open products.
func (s *Store) CreateProduct(ctx context.Context, p *portal.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx) error { return s.insertProduct(ctx, tx, p) })
}

func (s *Store) insertProduct(ctx context.Context, tx *sql.Tx, p *portal.Product) error {
	now := s.nowUTC()
	calls, period := rateLimitArgs(p.RateLimit)
	res, err := tx.ExecContext(ctx, `INSERT INTO products (name, display_name, description, terms, state,
		subscription_required, approval_required, subscriptions_limit, rate_limit_calls, rate_limit_period_ns,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Name, p.DisplayName, p.Description, p.Terms, p.State, p.SubscriptionRequired, p.ApprovalRequired,
		p.SubscriptionsLimit, calls, period, formatTime(now), formatTime(now))
	if err != nil {
		return conflict(ctx, tx, err, "insert product", p)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert product: %w", err)
	}
	if err := setProductAPIs(ctx, tx, id, p); err != nil {
		return err
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, now, now
	return nil
}

// updateProduct writes p over the row with id, memberships included; the
// product's subscriptions stay.
func (s *Store) updateProduct(ctx context.Context, tx *sql.Tx, id int64, p *portal.Product) error {
	now := s.nowUTC()
	calls, period := rateLimitArgs(p.RateLimit)
	if _, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, display_name = ?, description = ?, terms = ?,
		state = ?, subscription_required = ?, approval_required = ?, subscriptions_limit = ?, rate_limit_calls = ?,
		rate_limit_period_ns = ?, updated_at = ? WHERE id = ?`,
		p.Name, p.DisplayName, p.Description, p.Terms, p.State, p.SubscriptionRequired, p.ApprovalRequired,
		p.SubscriptionsLimit, calls, period, formatTime(now), id); err != nil {
		return conflict(ctx, tx, err, "update product", p)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM product_apis WHERE product_id = ?`, id); err != nil {
		return fmt.Errorf("replace product apis: %w", err)
	}
	if err := setProductAPIs(ctx, tx, id, p); err != nil {
		return err
	}
	p.ID, p.UpdatedAt = id, now
	return nil
}

func rateLimitArgs(rl *portal.RateLimit) (calls, period any) {
	if rl == nil {
		return nil, nil
	}
	return rl.Calls, int64(rl.Period)
}

// setProductAPIs adds the memberships of p (none stored yet) and then
// checks the open-product rule against what is stored, so that the check
// sees the product's new APIs and openness.
func setProductAPIs(ctx context.Context, tx *sql.Tx, productID int64, p *portal.Product) error {
	for _, name := range p.APIs {
		var apiID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM apis WHERE name = ?`, name).Scan(&apiID)
		if errors.Is(err, sql.ErrNoRows) {
			return portal.Errorf(portal.EINVALID, "Product %s: API %s does not exist.", p.Name, name)
		} else if err != nil {
			return fmt.Errorf("find api: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO product_apis (product_id, api_id) VALUES (?, ?)`, productID, apiID); err != nil {
			return fmt.Errorf("insert product api: %w", err)
		}
	}
	p.APIs = slices.Sorted(slices.Values(p.APIs))
	if p.SubscriptionRequired {
		return nil
	}
	var apiName, other string
	err := tx.QueryRowContext(ctx, `SELECT a.name, o.name
		FROM product_apis mine
		JOIN product_apis theirs ON theirs.api_id = mine.api_id AND theirs.product_id <> mine.product_id
		JOIN products o ON o.id = theirs.product_id AND o.subscription_required = 0
		JOIN apis a ON a.id = mine.api_id
		WHERE mine.product_id = ? ORDER BY a.name, o.name LIMIT 1`, productID).Scan(&apiName, &other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("check open products: %w", err)
	}
	return portal.Errorf(portal.ECONFLICT, "Product %s: API %s is already in the open product %s; an API may be in at most one open product.", p.Name, apiName, other)
}

// UpdateProduct replaces the product named name. Returns ENOTFOUND,
// EINVALID or ECONFLICT.
func (s *Store) UpdateProduct(ctx context.Context, name string, p *portal.Product) (*portal.Product, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out *portal.Product
	err := s.change(ctx, func(tx *sql.Tx) error {
		id, err := productID(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := s.updateProduct(ctx, tx, id, p); err != nil {
			return err
		}
		out, err = findProduct(ctx, tx, p.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func productID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM products WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("Product %s not found.", name)
	} else if err != nil {
		return 0, fmt.Errorf("find product: %w", err)
	}
	return id, nil
}

// DeleteProduct removes the product; the schema's cascades remove its
// memberships and the subscriptions scoped to it. Returns ENOTFOUND.
func (s *Store) DeleteProduct(ctx context.Context, name string) error {
	return s.change(ctx, func(tx *sql.Tx) error { return deleteProduct(ctx, tx, name) })
}

func deleteProduct(ctx context.Context, tx *sql.Tx, name string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM products WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete product: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete product: %w", err)
	} else if n == 0 {
		return notFound("Product %s not found.", name)
	}
	return nil
}
