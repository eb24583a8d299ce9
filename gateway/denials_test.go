package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/portal"
)

// TestDenialsRecorded refuses requests for several reasons and finds each
// refusal by request id in a real SQLite store within a second, with the
// subscription the caller's key identified and no key or token in it.
func TestDenialsRecorded(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t)
	store := policyStore(t)
	if err := store.CreateAPI(ctx, &portal.API{
		Name: "orders", Path: "orders", SubscriptionRequired: true,
		Backend:  portal.Backend{URL: rec.URL},
		Policies: portal.Policies{IPFilter: &portal.IPFilter{Action: portal.IPFilterForbid, Addresses: []string{"127.0.0.3"}}},
	}); err != nil {
		t.Fatal(err)
	}
	sub := &portal.Subscription{Name: "shop", Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "orders"}, State: portal.SubscriptionActive}
	if err := store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	suspended := &portal.Subscription{Name: "late-payer", Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "orders"}, State: portal.SubscriptionSuspended}
	if err := store.CreateSubscription(ctx, suspended); err != nil {
		t.Fatal(err)
	}
	h := start(t, store, func(c *gateway.Config) { c.DenialLog = store })
	url := h.srv.URL + "/orders/1"
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"
	withKey := func(k string) http.Header {
		return http.Header{keyHeader: {k}, "Authorization": {"Bearer " + token}}
	}

	// A 404 for no API explains itself and is not recorded.
	noAPI := doWith(t, clientFrom("127.0.0.1"), h.srv.URL+"/nothing/here", nil)
	if noAPI.status != 404 {
		t.Fatalf("no API: %d", noAPI.status)
	}

	for _, tc := range []struct {
		name   string
		from   string
		target string
		header http.Header
		status int
		reason string
		sub    int64
		detail string
	}{
		{"before the key check, key in the header", "127.0.0.3", url, withKey(sub.PrimaryKey), 403, "ip_forbidden", sub.ID, "caller 127.0.0.3 forbidden"},
		{"before the key check, key in the query", "127.0.0.3", url + "?subscription-key=" + sub.SecondaryKey, nil, 403, "ip_forbidden", sub.ID, "caller 127.0.0.3 forbidden"},
		{"before the key check, unknown key", "127.0.0.3", url, withKey("not-a-key-000000000000"), 403, "ip_forbidden", 0, "caller 127.0.0.3 forbidden"},
		{"no key", "127.0.0.1", url, http.Header{"Authorization": {"Bearer " + token}}, 401, "missing_key", 0, ""},
		{"unknown key", "127.0.0.1", url, withKey("not-a-key-000000000001"), 401, "invalid_key", 0, ""},
		{"suspended subscription", "127.0.0.1", url, withKey(suspended.PrimaryKey), 401, "invalid_key", suspended.ID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := doWith(t, clientFrom(tc.from), tc.target, tc.header)
			if res.status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", res.status, tc.status, res.body)
			}
			id := res.header.Get("X-Request-Id")
			d := findDenial(t, store, id)
			if d.RequestID != id || d.API != "orders" || d.Status != tc.status || d.Reason != tc.reason || d.Detail != tc.detail || d.SubscriptionID != tc.sub {
				t.Fatalf("denial = %+v, want reason %s, detail %q, subscription %d", d, tc.reason, tc.detail, tc.sub)
			}
			if d.At.IsZero() {
				t.Fatal("denial without a time")
			}
			for _, secret := range []string{sub.PrimaryKey, sub.SecondaryKey, suspended.PrimaryKey, "not-a-key", token, "Bearer"} {
				if strings.Contains(d.Detail, secret) {
					t.Fatalf("detail %q holds a key or token", d.Detail)
				}
			}
		})
	}

	// Denials are written in order: the 404 sent before them would be
	// there by now.
	if ds, err := store.FindDenials(ctx, portal.DenialFilter{RequestID: noAPI.header.Get("X-Request-Id")}); err != nil || len(ds) != 0 {
		t.Fatalf("no-API denial recorded: %v, %v", ds, err)
	}
	// The owner's view: the subscription's denials, newest first.
	ds, err := store.FindDenials(ctx, portal.DenialFilter{SubscriptionID: sub.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Reason != "ip_forbidden" {
		t.Fatalf("denials of the subscription = %+v", ds)
	}
}
