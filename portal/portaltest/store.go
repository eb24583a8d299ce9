package portaltest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// RunStoreTests checks that the stores returned by open keep every promise
// of portal.Store. open must return a new, empty, migrated store for each
// call and arrange its cleanup with t.Cleanup.
func RunStoreTests(t *testing.T, open func(t *testing.T) portal.Store) {
	groups := []struct {
		name  string
		tests []storeTestCase
	}{
		{"Users", userTests},
		{"APIs", apiTests},
		{"Products", productTests},
		{"Subscriptions", subscriptionTests},
		{"Settings", settingsTests},
		{"Sessions", sessionTests},
		{"SessionUpdate", sessionUpdateTests},
		{"SessionDefaults", defaultSessionTests},
		{"Passwords", passwordTests},
		{"LastAdmin", lastAdminTests},
		{"Policies", policyTests},
		{"Denials", denialTests},
		{"Outbox", outboxTests},
		{"Captchas", captchaTests},
		{"AccountTokens", accountTokenTests},
		{"Invitations", invitationTests},
		{"UnconfirmedSignUps", unconfirmedSignUpTests},
		{"Identities", identityTests},
		{"IdentityProviderApply", identityApplyTests},
		{"Version", versionTests},
		{"Apply", applyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(&storeTest{t: t, ctx: t.Context(), s: open(t)})
				})
			}
		})
	}
}

type storeTestCase struct {
	name string
	run  func(st *storeTest)
}

// storeTest is one test's store with helpers that fail the test on any
// unexpected error, so that each test reads as the behaviour it checks.
type storeTest struct {
	t   *testing.T
	ctx context.Context
	s   portal.Store
}

// wantCode fails unless err carries code ("" for no error).
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := portal.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// wantMessage fails unless err's user-facing message contains every part.
func wantMessage(t *testing.T, err error, parts ...string) {
	t.Helper()
	msg := portal.ErrorMessage(err)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("error message %q does not mention %q", msg, p)
		}
	}
}

func (st *storeTest) user(email string, role portal.Role) *portal.User {
	st.t.Helper()
	u := &portal.User{Email: email, Name: "User " + email, Role: role, State: portal.UserActive, PasswordHash: "$argon2id$hash-of-" + email}
	if err := st.s.CreateUser(st.ctx, u); err != nil {
		st.t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func newAPI(name string) *portal.API {
	return &portal.API{
		Name:                 name,
		DisplayName:          "The " + name + " API",
		Description:          "Does " + name + " things.",
		Path:                 name,
		Backend:              portal.Backend{URL: portal.BuiltinEcho},
		SubscriptionRequired: true,
	}
}

func (st *storeTest) api(name string) *portal.API {
	st.t.Helper()
	a := newAPI(name)
	if err := st.s.CreateAPI(st.ctx, a); err != nil {
		st.t.Fatalf("CreateAPI(%s): %v", name, err)
	}
	return a
}

func newProduct(name string, apis ...string) *portal.Product {
	return &portal.Product{
		Name:                 name,
		DisplayName:          "The " + name + " product",
		State:                portal.ProductPublished,
		SubscriptionRequired: true,
		APIs:                 apis,
	}
}

func (st *storeTest) product(p *portal.Product) *portal.Product {
	st.t.Helper()
	if err := st.s.CreateProduct(st.ctx, p); err != nil {
		st.t.Fatalf("CreateProduct(%s): %v", p.Name, err)
	}
	return p
}

func newSubscription(name string, ownerID int64, scope portal.Scope) *portal.Subscription {
	return &portal.Subscription{Name: name, OwnerID: ownerID, Scope: scope, State: portal.SubscriptionActive}
}

func (st *storeTest) subscription(sub *portal.Subscription) *portal.Subscription {
	st.t.Helper()
	if err := st.s.CreateSubscription(st.ctx, sub); err != nil {
		st.t.Fatalf("CreateSubscription(%s): %v", sub.Name, err)
	}
	return sub
}

func (st *storeTest) version() int64 {
	st.t.Helper()
	v, err := st.s.Version(st.ctx)
	if err != nil {
		st.t.Fatalf("Version: %v", err)
	}
	return v
}

func productScope(name string) portal.Scope {
	return portal.Scope{Kind: portal.ScopeProduct, Name: name}
}

func apiScope(name string) portal.Scope { return portal.Scope{Kind: portal.ScopeAPI, Name: name} }

// key returns a valid subscription key that is easy to recognise.
func key(label string) string { return "testkey-" + label + "-0123456789abcdef" }

func ptr[T any](v T) *T { return &v }

// names returns the names of objects, in order, for comparing lists.
func names[T any](objs []T, name func(T) string) string {
	var out []string
	for _, o := range objs {
		out = append(out, name(o))
	}
	return strings.Join(out, ",")
}

func apiNames(apis []*portal.API) string {
	return names(apis, func(a *portal.API) string { return a.Name })
}

func productNames(ps []*portal.Product) string {
	return names(ps, func(p *portal.Product) string { return p.Name })
}

func subscriptionNames(subs []*portal.Subscription) string {
	return names(subs, func(s *portal.Subscription) string { return s.Name })
}

func userEmails(us []*portal.User) string {
	return names(us, func(u *portal.User) string { return u.Email })
}

// wantStamped fails unless created and updated are set, in order. The
// suite does not control the store's clock, so it checks no more.
func wantStamped(t *testing.T, what string, created, updated time.Time) {
	t.Helper()
	if created.IsZero() || updated.Before(created) {
		t.Fatalf("%s: CreatedAt = %v, UpdatedAt = %v; want set, updated not before created", what, created, updated)
	}
}
