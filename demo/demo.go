package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"

	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/openapi"
	"github.com/porticoapi/portico/portal"
)

//go:embed echo.yaml
var echoSpec []byte

// AdminEmail is the demo administrator's address.
const AdminEmail = "admin@example.com"

// Store is what the demo needs of a store.
type Store interface {
	FindUsers(ctx context.Context, f portal.UserFilter) ([]*portal.User, int, error)
	FindAPIs(ctx context.Context, f portal.APIFilter) ([]*portal.API, int, error)
	FindProducts(ctx context.Context, f portal.ProductFilter) ([]*portal.Product, int, error)
	Apply(ctx context.Context, cs *portal.ChangeSet) error
	CreateIdentityProvider(ctx context.Context, p *portal.IdentityProvider) error
}

// Result says what Load created.
type Result struct {
	AdminEmail    string
	AdminPassword string // shown once; only its hash is stored
	// DevIdP is the development identity provider's sign-in button, ""
	// when none was added (no provider given, or a public URL that an
	// http identity provider may not have: http is for loopback only).
	DevIdP string
}

// Load writes the demo content when the store holds no users, APIs or
// products, and returns nil, nil otherwise. hash turns the generated
// password into the stored hash. When idp is not nil (NewDevIdP), the
// identity provider DevIdPName signing in with it is added too; serve idp
// with Mount and ConnectDevIdP.
func Load(ctx context.Context, s Store, hash func(string) (string, error), idp *devidp.Provider) (*Result, error) {
	if empty, err := isEmpty(ctx, s); err != nil || !empty {
		return nil, err
	}
	doc, err := openapi.Parse(ctx, echoSpec, openapi.Options{Location: "demo/echo.yaml"})
	if err != nil {
		return nil, fmt.Errorf("demo spec: %w", err)
	}
	password := rand.Text()
	pwHash, err := hash(password)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(echoSpec)
	cs := &portal.ChangeSet{
		Users: []*portal.User{{
			Email: AdminEmail, Name: "Demo Admin", Role: portal.RoleAdmin, State: portal.UserActive, PasswordHash: pwHash,
		}},
		APIs: []*portal.API{{
			Name:                 "echo",
			DisplayName:          doc.Title,
			Description:          doc.Description,
			Version:              doc.Version,
			Path:                 "echo",
			Backend:              portal.Backend{URL: portal.BuiltinEcho},
			SubscriptionRequired: true,
			Operations:           doc.Operations,
			Spec:                 portal.SpecInfo{Location: "demo/echo.yaml", Format: doc.Format, Digest: hex.EncodeToString(digest[:])},
			SpecDocument:         echoSpec,
		}},
		Products: []*portal.Product{{
			Name:                 "starter",
			DisplayName:          "Starter",
			Description:          "For trying things out: the Echo API, one subscription per developer.",
			State:                portal.ProductPublished,
			SubscriptionRequired: true,
			SubscriptionsLimit:   1,
			APIs:                 []string{"echo"},
		}},
	}
	var dev *portal.IdentityProvider
	if idp != nil {
		dev = devIdentityProvider(idp, rand.Text())
		if dev.Validate() != nil {
			dev = nil
		}
	}
	if err := s.Apply(ctx, cs); err != nil {
		return nil, fmt.Errorf("load demo content: %w", err)
	}
	res := &Result{AdminEmail: AdminEmail, AdminPassword: password}
	if dev != nil {
		if err := s.CreateIdentityProvider(ctx, dev); err != nil {
			return nil, fmt.Errorf("load demo identity provider: %w", err)
		}
		res.DevIdP = dev.Label()
	}
	return res, nil
}

func isEmpty(ctx context.Context, s Store) (bool, error) {
	_, users, err := s.FindUsers(ctx, portal.UserFilter{Limit: 1})
	if err != nil {
		return false, err
	}
	_, apis, err := s.FindAPIs(ctx, portal.APIFilter{Limit: 1})
	if err != nil {
		return false, err
	}
	_, products, err := s.FindProducts(ctx, portal.ProductFilter{Limit: 1})
	if err != nil {
		return false, err
	}
	return users+apis+products == 0, nil
}
