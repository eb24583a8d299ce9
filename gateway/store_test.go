package gateway_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

// TestSharedStore runs two gateways on one SQLite file and changes keys
// through a third handle, as an administrator's portal would: both
// gateways must follow within one second (Contract section 5).
func TestSharedStore(t *testing.T) {
	ctx := context.Background()
	keys, err := keyring.New(bytes.Repeat([]byte{7}, keyring.MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "portico.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(ctx, sqlite.Config{Path: path, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	admin := open()
	if err := admin.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder(t)
	if err := admin.CreateAPI(ctx, &portal.API{
		Name: "echo", Path: "echo", SubscriptionRequired: true,
		Backend:    portal.Backend{URL: rec.URL + "/v1"},
		Operations: []portal.Operation{{ID: "get-user", Method: "GET", Path: "/users/{id}"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := admin.CreateProduct(ctx, &portal.Product{
		Name: "starter", State: portal.ProductPublished, SubscriptionRequired: true, APIs: []string{"echo"},
	}); err != nil {
		t.Fatal(err)
	}
	sub := &portal.Subscription{Name: "ci", Scope: portal.Scope{Kind: portal.ScopeProduct, Name: "starter"}, State: portal.SubscriptionActive}
	if err := admin.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	oldKey, secondary := sub.PrimaryKey, sub.SecondaryKey

	gateways := []*harness{start(t, open(), nil), start(t, open(), nil)}
	status := func(h *harness, k string) int {
		return do(t, "GET", h.srv.URL+"/echo/users/1", key(k), "").status
	}
	for i, h := range gateways {
		if s := status(h, oldKey); s != 200 {
			t.Fatalf("gateway %d before: %d", i, s)
		}
		if s := status(h, "not-yet-a-key-00000000"); s != 401 {
			t.Fatalf("gateway %d, unknown key: %d", i, s)
		}
	}

	newKey, err := admin.RegenerateSubscriptionKey(ctx, sub.ID, portal.PrimaryKey)
	if err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	for i, h := range gateways {
		waitFor(t, "old key refused by gateway "+string(rune('1'+i)), func() bool { return status(h, oldKey) == 401 })
	}
	if took := time.Since(changed); took > time.Second {
		t.Fatalf("old key refused by both gateways only %s after the change", took)
	} else {
		t.Logf("old key refused by both gateways %s after the change", took.Round(time.Millisecond))
	}
	for i, h := range gateways {
		if s := status(h, newKey); s != 200 {
			t.Fatalf("gateway %d, new key: %d", i, s)
		}
		if s := status(h, secondary); s != 200 {
			t.Fatalf("gateway %d, secondary key: %d", i, s)
		}
	}

	suspended := portal.SubscriptionSuspended
	if _, err := admin.UpdateSubscription(ctx, sub.ID, portal.SubscriptionUpdate{State: &suspended}); err != nil {
		t.Fatal(err)
	}
	for i, h := range gateways {
		waitFor(t, "suspended subscription refused by gateway "+string(rune('1'+i)), func() bool { return status(h, secondary) == 401 })
	}
}
