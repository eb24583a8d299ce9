package portal_test

import (
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

func TestSubscriptionRequest(t *testing.T) {
	owner := &portal.User{ID: 7, Email: "dee@example.com", Role: portal.RoleDeveloper, State: portal.UserActive}
	product := func(change func(p *portal.Product)) *portal.Product {
		p := &portal.Product{Name: "gold", DisplayName: "Gold", State: portal.ProductPublished, SubscriptionRequired: true}
		if change != nil {
			change(p)
		}
		return p
	}
	tests := []struct {
		name      string
		req       portal.SubscriptionRequest
		wantState portal.SubscriptionState
		wantErr   string // part of the message; empty: no error
	}{
		{name: "open approval", req: portal.SubscriptionRequest{Product: product(nil), Owner: owner, DisplayName: "  My app "}, wantState: portal.SubscriptionActive},
		{name: "approval required", req: portal.SubscriptionRequest{Product: product(func(p *portal.Product) { p.ApprovalRequired = true }), Owner: owner}, wantState: portal.SubscriptionSubmitted},
		{name: "terms accepted", req: portal.SubscriptionRequest{Product: product(func(p *portal.Product) { p.Terms = "Be nice." }), Owner: owner, TermsAccepted: true}, wantState: portal.SubscriptionActive},
		{name: "terms not accepted", req: portal.SubscriptionRequest{Product: product(func(p *portal.Product) { p.Terms = "Be nice." }), Owner: owner}, wantErr: "Accept the terms of use of Gold"},
		{name: "not published", req: portal.SubscriptionRequest{Product: product(func(p *portal.Product) { p.State = portal.ProductNotPublished }), Owner: owner}, wantErr: "not published"},
		{name: "open product", req: portal.SubscriptionRequest{Product: product(func(p *portal.Product) { p.SubscriptionRequired = false }), Owner: owner}, wantErr: "need no subscription"},
		{name: "display name too long", req: portal.SubscriptionRequest{Product: product(nil), Owner: owner, DisplayName: strings.Repeat("x", 301)}, wantErr: "at most 300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := tt.req.Subscription()
			if tt.wantErr != "" {
				if portal.ErrorCode(err) != portal.EINVALID || !strings.Contains(portal.ErrorMessage(err), tt.wantErr) {
					t.Fatalf("error %v, want EINVALID containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sub.State != tt.wantState {
				t.Fatalf("state %s, want %s", sub.State, tt.wantState)
			}
			if sub.OwnerID != owner.ID || sub.Scope.String() != "product:gold" {
				t.Fatalf("owner %d scope %s, want 7 product:gold", sub.OwnerID, sub.Scope)
			}
			if sub.DisplayName != strings.TrimSpace(tt.req.DisplayName) {
				t.Fatalf("display name %q", sub.DisplayName)
			}
			if !strings.HasPrefix(sub.Name, "gold-") {
				t.Fatalf("name %q does not start with the product's", sub.Name)
			}
			if err := sub.Validate(); err != nil {
				t.Fatalf("the subscription does not validate: %v", err)
			}
		})
	}
}

func TestSubscriptionNames(t *testing.T) {
	long := strings.Repeat("p", portal.MaxNameLength-3) + "-ab"
	p := &portal.Product{Name: long, State: portal.ProductPublished, SubscriptionRequired: true}
	seen := map[string]bool{}
	for range 20 {
		sub, err := portal.SubscriptionRequest{Product: p, Owner: &portal.User{ID: 1}}.Subscription()
		if err != nil {
			t.Fatal(err)
		}
		if !portal.ValidName(sub.Name) {
			t.Fatalf("generated name %q is not a valid name", sub.Name)
		}
		if seen[sub.Name] {
			t.Fatalf("name %q generated twice", sub.Name)
		}
		seen[sub.Name] = true
	}
}
