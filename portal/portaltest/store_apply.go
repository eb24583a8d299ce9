package portaltest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// applyBase is the change set the Apply tests start from: two users, two
// APIs, a product with a subscription and an open product.
func applyBase() *portal.ChangeSet {
	echo := newAPI("echo")
	echo.Operations = sampleOperations()
	echo.SpecDocument = []byte("openapi: 3.0.3")
	echo.Spec = portal.SpecInfo{Location: "echo.yaml", Digest: "d1"}
	free := newProduct("free", "other")
	free.SubscriptionRequired = false
	return &portal.ChangeSet{
		Users: []*portal.User{
			{Email: "Admin@Example.com", Name: "Admin", Role: portal.RoleAdmin, State: portal.UserActive, PasswordHash: "$argon2id$admin"},
			{Email: "dev@example.com", Name: "Dev", Role: portal.RoleDeveloper, State: portal.UserPending},
		},
		APIs:     []*portal.API{echo, newAPI("other")},
		Products: []*portal.Product{newProduct("starter", "echo"), free},
		Subscriptions: []*portal.Subscription{
			{Name: "ci", OwnerEmail: "admin@example.com", Scope: productScope("starter"), State: portal.SubscriptionActive,
				PrimaryKey: key("ci-p"), SecondaryKey: key("ci-s")},
			{Name: "dev-sub", OwnerEmail: "dev@example.com", Scope: apiScope("echo"), State: portal.SubscriptionSubmitted},
		},
	}
}

func (st *storeTest) apply(cs *portal.ChangeSet) {
	st.t.Helper()
	if err := st.s.Apply(st.ctx, cs); err != nil {
		st.t.Fatalf("Apply: %v", err)
	}
}

// storeSnapshot is everything a store shows, for checking that a failed
// Apply changed nothing.
type storeSnapshot struct {
	Version       int64
	Settings      *portal.Settings
	Users         []*portal.User
	APIs          []*portal.API
	Specs         map[string]string
	Products      []*portal.Product
	Subscriptions []*portal.Subscription
	Keys          map[string][2]string
}

func (st *storeTest) snapshot() storeSnapshot {
	t := st.t
	t.Helper()
	var s storeSnapshot
	var err error
	fail := func(what string) {
		if err != nil {
			t.Fatalf("snapshot %s: %v", what, err)
		}
	}
	s.Version = st.version()
	s.Settings, err = st.s.FindSettings(st.ctx)
	fail("settings")
	s.Users, _, err = st.s.FindUsers(st.ctx, portal.UserFilter{})
	fail("users")
	s.APIs, _, err = st.s.FindAPIs(st.ctx, portal.APIFilter{WithOperations: true})
	fail("APIs")
	s.Specs = map[string]string{}
	for _, a := range s.APIs {
		if doc, _, err := st.s.FindAPISpec(st.ctx, a.Name); err == nil {
			s.Specs[a.Name] = string(doc)
		}
	}
	s.Products, _, err = st.s.FindProducts(st.ctx, portal.ProductFilter{})
	fail("products")
	s.Subscriptions, _, err = st.s.FindSubscriptions(st.ctx, portal.SubscriptionFilter{})
	fail("subscriptions")
	s.Keys = map[string][2]string{}
	for _, sub := range s.Subscriptions {
		p, k, err := st.s.RevealSubscriptionKeys(st.ctx, sub.ID)
		if err != nil {
			t.Fatalf("snapshot keys: %v", err)
		}
		s.Keys[sub.Name] = [2]string{p, k}
	}
	return s
}

var applyTests = []storeTestCase{
	{"CreatesEverything", func(st *storeTest) {
		t := st.t
		before := st.version()
		cs := applyBase()
		settings := portal.DefaultSettings()
		settings.Title = "Contoso APIs"
		cs.Settings = &settings
		st.apply(cs)
		if after := st.version(); after <= before {
			t.Fatalf("Apply did not move the version (%d -> %d)", before, after)
		}

		if s, _ := st.s.FindSettings(st.ctx); s == nil || s.Title != "Contoso APIs" {
			t.Fatalf("settings = %+v", s)
		}
		admin, err := st.s.FindUserByEmail(st.ctx, "admin@example.com")
		if err != nil || admin.Role != portal.RoleAdmin || admin.PasswordHash != "$argon2id$admin" {
			t.Fatalf("admin = %+v, %v", admin, err)
		}
		dev, err := st.s.FindUserByEmail(st.ctx, "dev@example.com")
		if err != nil || dev.PasswordHash != "" || dev.State != portal.UserPending {
			t.Fatalf("dev = %+v, %v", dev, err)
		}
		echo, err := st.s.FindAPIByName(st.ctx, "echo")
		if err != nil || !reflect.DeepEqual(echo.Operations, sampleOperations()) || echo.KeyHeader != portal.DefaultKeyHeader {
			t.Fatalf("echo = %+v, %v", echo, err)
		}
		if doc, info, err := st.s.FindAPISpec(st.ctx, "echo"); err != nil || string(doc) != "openapi: 3.0.3" || info.Digest != "d1" {
			t.Fatalf("echo spec = %q, %+v, %v", doc, info, err)
		}
		if p, err := st.s.FindProductByName(st.ctx, "free"); err != nil || p.SubscriptionRequired || strings.Join(p.APIs, ",") != "other" {
			t.Fatalf("free = %+v, %v", p, err)
		}
		ci, err := st.s.FindSubscriptionByName(st.ctx, "ci")
		if err != nil || ci.OwnerID != admin.ID || ci.Scope != productScope("starter") {
			t.Fatalf("ci = %+v, %v", ci, err)
		}
		if p, s, err := st.s.RevealSubscriptionKeys(st.ctx, ci.ID); err != nil || p != key("ci-p") || s != key("ci-s") {
			t.Fatalf("ci keys = %q, %q, %v; want the given keys", p, s, err)
		}
		devSub, err := st.s.FindSubscriptionByName(st.ctx, "dev-sub")
		if err != nil || devSub.OwnerID != dev.ID {
			t.Fatalf("dev-sub = %+v, %v", devSub, err)
		}
		p, s, err := st.s.RevealSubscriptionKeys(st.ctx, devSub.ID)
		if err != nil || portal.ValidateKey(p) != nil || portal.ValidateKey(s) != nil || p == s {
			t.Fatalf("dev-sub keys = %q, %q, %v; want two generated keys", p, s, err)
		}
		if _, kind, err := st.s.FindSubscriptionByKey(st.ctx, s); err != nil || kind != portal.SecondaryKey {
			t.Fatalf("generated secondary key: %s, %v", kind, err)
		}
	}},

	{"Upserts", func(st *storeTest) {
		t := st.t
		st.apply(applyBase())
		before := st.snapshot()
		id := func(name string) int64 {
			for _, s := range before.Subscriptions {
				if s.Name == name {
					return s.ID
				}
			}
			t.Fatalf("no subscription %s", name)
			return 0
		}

		// The same change set again is accepted and changes nothing that shows.
		st.apply(applyBase())
		again := st.snapshot()
		if again.Keys["dev-sub"] != before.Keys["dev-sub"] || again.Keys["ci"] != before.Keys["ci"] {
			t.Fatalf("re-applying changed keys: %v, was %v", again.Keys, before.Keys)
		}
		if apiNames(again.APIs) != apiNames(before.APIs) || len(again.Users) != len(before.Users) || len(again.Subscriptions) != len(before.Subscriptions) {
			t.Fatal("re-applying the same change set added or removed objects")
		}

		cs := applyBase()
		cs.Users[0].Name, cs.Users[0].PasswordHash = "Root", "" // keeps the stored hash
		cs.Users[1].State, cs.Users[1].PasswordHash = portal.UserActive, "$argon2id$dev"
		echo := newAPI("echo") // nil Operations and SpecDocument keep the stored ones
		echo.DisplayName = "Echo, renamed"
		echo.Spec = portal.SpecInfo{Location: "echo.yaml", Digest: "d1"}
		cs.APIs = []*portal.API{echo}
		cs.Products[0].APIs = []string{"other", "echo"}
		cs.Products[0].DisplayName = "Starter, renamed"
		cs.Products = cs.Products[:1]
		cs.Subscriptions[0].PrimaryKey, cs.Subscriptions[0].SecondaryKey = "", "" // kept
		cs.Subscriptions[0].DisplayName = "CI bot"
		cs.Subscriptions[1].PrimaryKey = key("dev-p2") // set; the secondary is kept
		cs.Subscriptions[1].OwnerEmail = "admin@example.com"
		cs.Subscriptions[1].Scope = productScope("starter")
		st.apply(cs)

		admin, _ := st.s.FindUserByEmail(st.ctx, "admin@example.com")
		if admin.Name != "Root" || admin.PasswordHash != "$argon2id$admin" || admin.ID != before.Users[0].ID {
			t.Fatalf("admin after upsert = %+v", admin)
		}
		dev, _ := st.s.FindUserByEmail(st.ctx, "dev@example.com")
		if dev.State != portal.UserActive || dev.PasswordHash != "$argon2id$dev" {
			t.Fatalf("dev after upsert = %+v", dev)
		}
		got, err := st.s.FindAPIByName(st.ctx, "echo")
		if err != nil || got.DisplayName != "Echo, renamed" || !reflect.DeepEqual(got.Operations, sampleOperations()) {
			t.Fatalf("echo after upsert = %+v, %v", got, err)
		}
		if doc, _, _ := st.s.FindAPISpec(st.ctx, "echo"); string(doc) != "openapi: 3.0.3" {
			t.Fatalf("echo document after upsert = %q", doc)
		}
		starter, _ := st.s.FindProductByName(st.ctx, "starter")
		if starter.DisplayName != "Starter, renamed" || strings.Join(starter.APIs, ",") != "echo,other" {
			t.Fatalf("starter after upsert = %+v", starter)
		}
		ci, err := st.s.FindSubscriptionByName(st.ctx, "ci")
		if err != nil || ci.ID != id("ci") || ci.DisplayName != "CI bot" {
			t.Fatalf("ci after upsert = %+v, %v; want the product's subscription kept", ci, err)
		}
		if p, s, _ := st.s.RevealSubscriptionKeys(st.ctx, ci.ID); p != key("ci-p") || s != key("ci-s") {
			t.Fatalf("ci keys after upsert = %q, %q; want them kept", p, s)
		}
		devSub, _ := st.s.FindSubscriptionByName(st.ctx, "dev-sub")
		if devSub.ID != id("dev-sub") || devSub.OwnerID != admin.ID || devSub.Scope != productScope("starter") {
			t.Fatalf("dev-sub after upsert = %+v", devSub)
		}
		if p, s, _ := st.s.RevealSubscriptionKeys(st.ctx, devSub.ID); p != key("dev-p2") || s != before.Keys["dev-sub"][1] {
			t.Fatalf("dev-sub keys after upsert = %q, %q", p, s)
		}
		if _, err := st.s.FindProductByName(st.ctx, "free"); err != nil {
			t.Fatalf("a product absent from the change set was touched: %v", err)
		}
	}},

	{"Deletions", func(st *storeTest) {
		t := st.t
		st.apply(applyBase())
		st.apply(&portal.ChangeSet{
			DeleteSubscriptions: []string{"ci"},
			DeleteProducts:      []string{"free"},
			DeleteAPIs:          []string{"other"},
			DeleteUsers:         []string{"DEV@example.com"},
		})
		_, err := st.s.FindSubscriptionByName(st.ctx, "ci")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSubscriptionByName(st.ctx, "dev-sub") // its owner is gone
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindProductByName(st.ctx, "free")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindAPIByName(st.ctx, "other")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindUserByEmail(st.ctx, "dev@example.com")
		wantCode(t, err, portal.ENOTFOUND)
		if p, err := st.s.FindProductByName(st.ctx, "starter"); err != nil || strings.Join(p.APIs, ",") != "echo" {
			t.Fatalf("starter = %+v, %v", p, err)
		}
		if _, err := st.s.FindUserByEmail(st.ctx, "admin@example.com"); err != nil {
			t.Fatal(err)
		}
	}},

	{"AllOrNothing", func(st *storeTest) {
		st.apply(applyBase())
		// good changes every object kind; each case adds one bad item last.
		good := func() *portal.ChangeSet {
			settings := portal.DefaultSettings()
			settings.Title = "Changed"
			newEcho := newAPI("echo")
			newEcho.Operations = []portal.Operation{{ID: "x", Method: "GET", Path: "/x"}}
			newEcho.SpecDocument = []byte("changed")
			return &portal.ChangeSet{
				Settings: &settings,
				Users: []*portal.User{
					{Email: "admin@example.com", Name: "Changed", Role: portal.RoleDeveloper, State: portal.UserBlocked, PasswordHash: "$changed"},
					// Takes over as administrator: Apply keeps one active.
					{Email: "new@example.com", Name: "New", Role: portal.RoleAdmin, State: portal.UserActive},
				},
				APIs:     []*portal.API{newEcho, newAPI("brand-new")},
				Products: []*portal.Product{newProduct("starter", "brand-new"), newProduct("new-product", "echo")},
				Subscriptions: []*portal.Subscription{
					{Name: "ci", OwnerEmail: "new@example.com", Scope: apiScope("brand-new"), State: portal.SubscriptionSuspended, PrimaryKey: key("changed")},
					{Name: "new-sub", OwnerEmail: "new@example.com", Scope: productScope("new-product"), State: portal.SubscriptionActive},
				},
				DeleteSubscriptions: []string{"dev-sub"},
				DeleteProducts:      []string{"free"},
				DeleteAPIs:          []string{"other"},
			}
		}
		tests := []struct {
			name    string
			bad     func(cs *portal.ChangeSet)
			code    string
			mention string
		}{
			{"invalid user", func(cs *portal.ChangeSet) {
				cs.Users = append(cs.Users, &portal.User{Email: "nameless@example.com", Role: portal.RoleDeveloper, State: portal.UserActive})
			}, portal.EINVALID, "nameless@example.com"},
			{"API path taken", func(cs *portal.ChangeSet) {
				clash := newAPI("clash")
				clash.Path = "brand-new"
				cs.APIs = append(cs.APIs, clash)
			}, portal.ECONFLICT, "clash"},
			{"invalid API", func(cs *portal.ChangeSet) {
				a := newAPI("broken")
				a.Backend.URL = "nowhere"
				cs.APIs = append(cs.APIs, a)
			}, portal.EINVALID, "broken"},
			{"product with unknown API", func(cs *portal.ChangeSet) {
				cs.Products = append(cs.Products, newProduct("late", "ghost"))
			}, portal.EINVALID, "ghost"},
			{"second open product", func(cs *portal.ChangeSet) {
				a, b := newProduct("open-a", "echo"), newProduct("open-b", "echo")
				a.SubscriptionRequired, b.SubscriptionRequired = false, false
				cs.Products = append(cs.Products, a, b)
			}, portal.ECONFLICT, "open-b"},
			{"subscription with unknown owner", func(cs *portal.ChangeSet) {
				cs.Subscriptions = append(cs.Subscriptions, &portal.Subscription{Name: "orphan", OwnerEmail: "ghost@example.com", Scope: apiScope("echo"), State: portal.SubscriptionActive})
			}, portal.EINVALID, "orphan"},
			{"subscription key taken", func(cs *portal.ChangeSet) {
				cs.Subscriptions = append(cs.Subscriptions, &portal.Subscription{Name: "copycat", Scope: apiScope("echo"), State: portal.SubscriptionActive, PrimaryKey: key("ci-s")})
			}, portal.ECONFLICT, "copycat"},
			{"delete a missing subscription", func(cs *portal.ChangeSet) {
				cs.DeleteSubscriptions = append(cs.DeleteSubscriptions, "ghost-sub")
			}, portal.ENOTFOUND, "ghost-sub"},
			{"delete a missing product", func(cs *portal.ChangeSet) {
				cs.DeleteProducts = append(cs.DeleteProducts, "ghost-product")
			}, portal.ENOTFOUND, "ghost-product"},
			{"delete a missing API", func(cs *portal.ChangeSet) {
				cs.DeleteAPIs = append(cs.DeleteAPIs, "ghost-api")
			}, portal.ENOTFOUND, "ghost-api"},
			{"delete a missing user", func(cs *portal.ChangeSet) {
				cs.DeleteUsers = append(cs.DeleteUsers, "ghost@example.com")
			}, portal.ENOTFOUND, "ghost@example.com"},
		}
		for _, tt := range tests {
			st.t.Run(tt.name, func(t *testing.T) {
				before := st.snapshot()
				cs := good()
				tt.bad(cs)
				err := st.s.Apply(st.ctx, cs)
				wantCode(t, err, tt.code)
				wantMessage(t, err, tt.mention)
				if after := st.snapshot(); !reflect.DeepEqual(after, before) {
					t.Fatalf("a failed Apply changed the store:\nbefore %+v\n after %+v", before, after)
				}
			})
		}
		// The good part alone applies, so the failures above came from the bad items.
		st.apply(good())
		if s, _ := st.s.FindSettings(st.ctx); s == nil || s.Title != "Changed" {
			st.t.Fatalf("good change set not applied: %+v", s)
		}
	}},

	{"SettingsInvalid", func(st *storeTest) {
		before := st.snapshot()
		err := st.s.Apply(st.ctx, &portal.ChangeSet{Settings: &portal.Settings{Title: "x", InvitationTTL: time.Hour}})
		wantCode(st.t, err, portal.EINVALID)
		if after := st.snapshot(); !reflect.DeepEqual(after, before) {
			st.t.Fatal("a failed Apply changed the store")
		}
	}},
}
