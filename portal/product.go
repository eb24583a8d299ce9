package portal

import (
	"context"
	"time"
)

// ProductState says whether developers can see and subscribe to a product.
type ProductState string

const (
	ProductPublished    ProductState = "published"
	ProductNotPublished ProductState = "not_published"
)

// Product groups APIs that developers subscribe to together.
type Product struct {
	ID          int64
	Name        string // URL-safe id, unique
	DisplayName string
	Description string
	Terms       string // when set, must be accepted to subscribe
	State       ProductState

	// SubscriptionRequired false makes an open product: its APIs pass the
	// gateway without a key while the product is published. An API may be
	// in at most one open product.
	SubscriptionRequired bool
	ApprovalRequired     bool // new subscriptions start submitted, an administrator approves
	SubscriptionsLimit   int  // per user; 0 = unlimited
	RateLimit            *RateLimit

	APIs []string // names of the product's APIs, sorted

	CreatedAt time.Time
	UpdatedAt time.Time
}

// RateLimit allows Calls per Period per subscription.
type RateLimit struct {
	Calls  int
	Period time.Duration
}

// Validate checks the bounds of a limit; a nil limit is valid (none).
func (rl *RateLimit) Validate() error {
	if rl != nil && (rl.Calls < 1 || rl.Period < time.Second || rl.Period > 24*time.Hour) {
		return Errorf(EINVALID, "rate limit needs calls >= 1 and a period between 1s and 24h.")
	}
	return nil
}

// Title returns the display name, or the name when there is none.
func (p *Product) Title() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

// IsOpen reports whether the product grants access without a key.
func (p *Product) IsOpen() bool { return !p.SubscriptionRequired }

// Validate checks a product's own fields; rules that involve other objects
// (APIs exist, one open product per API) are checked by stores.
func (p *Product) Validate() error {
	if err := validateName("Product", p.Name); err != nil {
		return err
	}
	if len(p.DisplayName) > 300 {
		return Errorf(EINVALID, "Product %s: display name must be at most 300 characters.", p.Name)
	}
	switch p.State {
	case ProductPublished, ProductNotPublished:
	default:
		return Errorf(EINVALID, "Product %s: state %q must be published or not_published.", p.Name, p.State)
	}
	if p.SubscriptionsLimit < 0 {
		return Errorf(EINVALID, "Product %s: subscriptions limit must be 0 (unlimited) or more.", p.Name)
	}
	if !p.SubscriptionRequired && (p.ApprovalRequired || p.SubscriptionsLimit > 0) {
		return Errorf(EINVALID, "Product %s: an open product (no subscription required) cannot require approval or limit subscriptions.", p.Name)
	}
	if err := p.RateLimit.Validate(); err != nil {
		return Errorf(EINVALID, "Product %s: %s", p.Name, ErrorMessage(err))
	}
	seen := make(map[string]bool, len(p.APIs))
	for _, a := range p.APIs {
		if seen[a] {
			return Errorf(EINVALID, "Product %s: API %s is listed twice.", p.Name, a)
		}
		seen[a] = true
	}
	return nil
}

// ProductService manages products.
type ProductService interface {
	// FindProductByName returns ENOTFOUND.
	FindProductByName(ctx context.Context, name string) (*Product, error)
	// FindProducts returns products ordered by name and the total matching.
	FindProducts(ctx context.Context, filter ProductFilter) ([]*Product, int, error)
	// CreateProduct returns EINVALID (including an unknown API), or
	// ECONFLICT if the name is taken or an API would be in two open products.
	CreateProduct(ctx context.Context, p *Product) error
	// UpdateProduct replaces the product named name (Name may change).
	// Returns ENOTFOUND, EINVALID or ECONFLICT as CreateProduct.
	UpdateProduct(ctx context.Context, name string, p *Product) (*Product, error)
	// DeleteProduct removes the product and the subscriptions scoped to it.
	// Returns ENOTFOUND.
	DeleteProduct(ctx context.Context, name string) error
}

// ProductFilter selects products; zero fields do not filter.
type ProductFilter struct {
	Names []string
	State ProductState
	API   string // products containing this API

	Offset int
	Limit  int // 0: no limit
}
