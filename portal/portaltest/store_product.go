package portaltest

import (
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

var productTests = []storeTestCase{
	{"CreateAndFind", func(st *storeTest) {
		t := st.t
		for _, n := range []string{"zeta", "alpha", "mid"} {
			st.api(n)
		}
		p := &portal.Product{
			Name: "starter", DisplayName: "Starter", Description: "For trying.", Terms: "Be nice.",
			State: portal.ProductPublished, SubscriptionRequired: true, ApprovalRequired: true, SubscriptionsLimit: 3,
			RateLimit: &portal.RateLimit{Calls: 100, Period: time.Minute},
			APIs:      []string{"zeta", "alpha", "mid"},
		}
		if err := st.s.CreateProduct(st.ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 {
			t.Fatal("CreateProduct did not set ID")
		}
		wantStamped(t, "created product", p.CreatedAt, p.UpdatedAt)
		got, err := st.s.FindProductByName(st.ctx, "starter")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p.ID || got.DisplayName != "Starter" || got.Description != "For trying." || got.Terms != "Be nice." ||
			got.State != portal.ProductPublished || !got.SubscriptionRequired || !got.ApprovalRequired ||
			got.SubscriptionsLimit != 3 || got.RateLimit == nil || *got.RateLimit != *p.RateLimit || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("FindProductByName = %+v", got)
		}
		if strings.Join(got.APIs, ",") != "alpha,mid,zeta" {
			t.Fatalf("APIs = %q, want sorted by name", got.APIs)
		}

		open := &portal.Product{Name: "free", State: portal.ProductNotPublished, SubscriptionRequired: false}
		if err := st.s.CreateProduct(st.ctx, open); err != nil {
			t.Fatal(err)
		}
		got, err = st.s.FindProductByName(st.ctx, "free")
		if err != nil || got.RateLimit != nil || got.SubscriptionRequired || len(got.APIs) != 0 || got.State != portal.ProductNotPublished {
			t.Fatalf("FindProductByName(free) = %+v, %v", got, err)
		}
		_, err = st.s.FindProductByName(st.ctx, "nope")
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"CreateInvalid", func(st *storeTest) {
		st.api("echo")
		tests := []struct {
			name    string
			product *portal.Product
			mention string
		}{
			{"unknown API", newProduct("p", "echo", "ghost"), "ghost"},
			{"name", newProduct("bad name"), ""},
			{"state", &portal.Product{Name: "p", State: "draft", SubscriptionRequired: true}, ""},
			{"open with limit", &portal.Product{Name: "p", State: portal.ProductPublished, SubscriptionsLimit: 1}, ""},
			{"rate limit", &portal.Product{Name: "p", State: portal.ProductPublished, SubscriptionRequired: true, RateLimit: &portal.RateLimit{Calls: 0, Period: time.Second}}, ""},
			{"API twice", newProduct("p", "echo", "echo"), ""},
		}
		for _, tt := range tests {
			st.t.Run(tt.name, func(t *testing.T) {
				err := st.s.CreateProduct(st.ctx, tt.product)
				wantCode(t, err, portal.EINVALID)
				if tt.mention != "" {
					wantMessage(t, err, tt.mention)
				}
			})
		}
		_, total, _ := st.s.FindProducts(st.ctx, portal.ProductFilter{})
		if total != 0 {
			st.t.Fatalf("%d products stored by refused creates", total)
		}
	}},

	{"DuplicateName", func(st *storeTest) {
		st.product(newProduct("starter"))
		err := st.s.CreateProduct(st.ctx, newProduct("starter"))
		wantCode(st.t, err, portal.ECONFLICT)
		wantMessage(st.t, err, "starter")
	}},

	{"OneOpenProductPerAPI", func(st *storeTest) {
		t := st.t
		st.api("echo")
		st.api("other")
		open := func(name string, apis ...string) *portal.Product {
			p := newProduct(name, apis...)
			p.SubscriptionRequired = false
			return p
		}
		st.product(open("free", "echo"))
		err := st.s.CreateProduct(st.ctx, open("gratis", "other", "echo"))
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "free", "gratis", "echo")

		// A closed product may share the API, and an open one without it is fine.
		st.product(newProduct("paid", "echo"))
		st.product(open("gratis", "other"))

		// Opening the closed product, or adding echo to the other open one, breaks the rule.
		_, err = st.s.UpdateProduct(st.ctx, "paid", open("paid", "echo"))
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "free", "paid")
		_, err = st.s.UpdateProduct(st.ctx, "gratis", open("gratis", "other", "echo"))
		wantCode(t, err, portal.ECONFLICT)
		if p, _ := st.s.FindProductByName(st.ctx, "paid"); p == nil || !p.SubscriptionRequired {
			t.Fatalf("a refused update changed the product: %+v", p)
		}

		// Updating the open product itself is not a clash with itself.
		if _, err := st.s.UpdateProduct(st.ctx, "free", open("free", "echo")); err != nil {
			t.Fatal(err)
		}
	}},

	{"Update", func(st *storeTest) {
		t := st.t
		st.api("echo")
		st.api("other")
		p := st.product(newProduct("starter", "echo"))
		st.product(newProduct("taken"))
		u := st.user("dev@example.com", portal.RoleDeveloper)
		sub := st.subscription(newSubscription("dev-starter", u.ID, productScope("starter")))

		upd := newProduct("basic", "other", "echo")
		upd.State = portal.ProductNotPublished
		upd.RateLimit = &portal.RateLimit{Calls: 5, Period: time.Second}
		got, err := st.s.UpdateProduct(st.ctx, "starter", upd)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p.ID || got.Name != "basic" || got.State != portal.ProductNotPublished ||
			strings.Join(got.APIs, ",") != "echo,other" || got.RateLimit == nil || got.RateLimit.Calls != 5 || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("UpdateProduct = %+v", got)
		}
		if s, err := st.s.FindSubscriptionByID(st.ctx, sub.ID); err != nil || s.Scope != productScope("basic") {
			t.Fatalf("subscription after rename = %+v, %v", s, err)
		}

		upd.RateLimit = nil
		upd.APIs = nil
		if got, err = st.s.UpdateProduct(st.ctx, "basic", upd); err != nil || got.RateLimit != nil || len(got.APIs) != 0 {
			t.Fatalf("clearing rate limit and APIs: %+v, %v", got, err)
		}

		_, err = st.s.UpdateProduct(st.ctx, "nope", newProduct("nope"))
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.UpdateProduct(st.ctx, "basic", newProduct("basic", "ghost"))
		wantCode(t, err, portal.EINVALID)
		wantMessage(t, err, "ghost")
		_, err = st.s.UpdateProduct(st.ctx, "basic", newProduct("taken"))
		wantCode(t, err, portal.ECONFLICT)
	}},

	{"FindProducts", func(st *storeTest) {
		t := st.t
		st.api("echo")
		st.product(newProduct("gamma", "echo"))
		st.product(newProduct("alpha"))
		draft := newProduct("beta", "echo")
		draft.State = portal.ProductNotPublished
		st.product(draft)
		tests := []struct {
			name   string
			filter portal.ProductFilter
			want   string
			total  int
		}{
			{"all by name", portal.ProductFilter{}, "alpha,beta,gamma", 3},
			{"names", portal.ProductFilter{Names: []string{"gamma", "alpha"}}, "alpha,gamma", 2},
			{"state", portal.ProductFilter{State: portal.ProductPublished}, "alpha,gamma", 2},
			{"API", portal.ProductFilter{API: "echo"}, "beta,gamma", 2},
			{"API and state", portal.ProductFilter{API: "echo", State: portal.ProductNotPublished}, "beta", 1},
			{"page", portal.ProductFilter{Offset: 1, Limit: 1}, "beta", 3},
			{"past the end", portal.ProductFilter{Offset: 5}, "", 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ps, total, err := st.s.FindProducts(st.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := productNames(ps); got != tt.want || total != tt.total {
					t.Fatalf("FindProducts(%+v) = %q, total %d; want %q, total %d", tt.filter, got, total, tt.want, tt.total)
				}
			})
		}
		ps, _, _ := st.s.FindProducts(st.ctx, portal.ProductFilter{Names: []string{"gamma"}})
		if len(ps) != 1 || strings.Join(ps[0].APIs, ",") != "echo" {
			t.Fatalf("FindProducts does not fill APIs: %+v", ps)
		}
	}},

	{"DeleteCascades", func(st *storeTest) {
		t := st.t
		st.api("echo")
		st.product(newProduct("starter", "echo"))
		st.product(newProduct("other", "echo"))
		u := st.user("dev@example.com", portal.RoleDeveloper)
		gone := st.subscription(newSubscription("gone", u.ID, productScope("starter")))
		kept := st.subscription(newSubscription("kept", u.ID, productScope("other")))
		byAPI := st.subscription(newSubscription("by-api", u.ID, apiScope("echo")))

		if err := st.s.DeleteProduct(st.ctx, "starter"); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindProductByName(st.ctx, "starter")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSubscriptionByID(st.ctx, gone.ID)
		wantCode(t, err, portal.ENOTFOUND)
		_, _, err = st.s.FindSubscriptionByKey(st.ctx, gone.PrimaryKey)
		wantCode(t, err, portal.ENOTFOUND)
		for _, id := range []int64{kept.ID, byAPI.ID} {
			if _, err := st.s.FindSubscriptionByID(st.ctx, id); err != nil {
				t.Fatalf("subscription %d: %v", id, err)
			}
		}
		if _, err := st.s.FindAPIByName(st.ctx, "echo"); err != nil {
			t.Fatalf("the product's API went with it: %v", err)
		}
		wantCode(t, st.s.DeleteProduct(st.ctx, "starter"), portal.ENOTFOUND)
	}},
}
