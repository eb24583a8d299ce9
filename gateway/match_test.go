package gateway

import (
	"context"
	"testing"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

func TestOperationMatch(t *testing.T) {
	ops := compileOperations([]portal.Operation{
		{ID: "get-user", Method: "GET", Path: "/users/{id}"},
		{ID: "get-me", Method: "GET", Path: "/users/me"},
		{ID: "get-file", Method: "GET", Path: "/files/{name}.json"},
		{ID: "get-range", Method: "GET", Path: "/range/{from}-{to}"},
		{ID: "get-root", Method: "GET", Path: "/"},
		{ID: "get-trailing", Method: "GET", Path: "/trailing/"},
		{ID: "get-tilde", Method: "GET", Path: "/~home"},
		{ID: "put-user", Method: "PUT", Path: "/users/{id}/"},
		{ID: "broken", Method: "GET", Path: "/odd/{x"},
	})
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/users/1", true},
		{"GET", "/users/me", true},
		{"GET", "/users/1/", true},
		{"GET", "/users/a%2Fb", true},
		{"GET", "/users/", false},
		{"GET", "/users", false},
		{"GET", "/users//", false},
		{"GET", "/users/1/x", false},
		{"GET", "/files/a.json", true},
		{"GET", "/files/.json", false},
		{"GET", "/files/a.jsonx", false},
		{"GET", "/range/1-2", true},
		{"GET", "/range/1-", false},
		{"GET", "/range/-2", false},
		{"GET", "", true},
		{"GET", "/", true},
		{"GET", "/trailing", true},
		{"GET", "/trailing/", true},
		{"GET", "/~home", true},
		{"GET", "/%7Ehome", true},
		{"GET", "/odd/{x", true},
		{"GET", "/odd/y", false},
		{"PUT", "/users/1", true},
		{"PUT", "/users/1/", true},
		{"PUT", "/users", false},
		{"POST", "/users/1", false},
		{"get", "/users/1", false},
	} {
		if got := ops.match(tc.method, tc.path); got != tc.want {
			t.Errorf("match(%s %q) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	if compileOperations(nil) != nil {
		t.Fatal("an API without operations must have no matcher (it accepts everything)")
	}
}

// TestOperationPrecedence checks that a literal segment is tried before a
// parameter whatever the spec's order, since the first match wins.
func TestOperationPrecedence(t *testing.T) {
	ops := compileOperations([]portal.Operation{
		{ID: "a", Method: "GET", Path: "/{x}/{y}"},
		{ID: "b", Method: "GET", Path: "/{x}/me"},
		{ID: "c", Method: "GET", Path: "/users/{y}"},
		{ID: "d", Method: "GET", Path: "/users/me"},
		{ID: "e", Method: "GET", Path: "/users/{y}.json"},
		{ID: "f", Method: "GET", Path: "/{z}"},
	})
	var got []string
	for _, m := range ops.byMethod["GET"] {
		got = append(got, m.id)
	}
	want := []string{"f", "d", "e", "c", "b", "a"}
	if len(got) != len(want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

func TestSnapshotMatch(t *testing.T) {
	s := &snapshot{routes: map[string]*route{}, maxDepth: 3}
	for _, p := range []string{"v1", "v1/echo", "echo", "a/b/c"} {
		s.routes[p] = &route{name: p, path: p}
	}
	for _, tc := range []struct{ path, want string }{
		{"/v1", "v1"},
		{"/v1/", "v1"},
		{"/v1/x", "v1"},
		{"/v1/echo", "v1/echo"},
		{"/v1/echo/", "v1/echo"},
		{"/v1/echo/x/y", "v1/echo"},
		{"/v1/echoes", "v1"},
		{"/echo", "echo"},
		{"/echoes", ""},
		{"/ech", ""},
		{"/a/b", ""},
		{"/a/b/c/d", "a/b/c"},
		{"/", ""},
		{"", ""},
		{"//v1", ""},
		{"*", ""},
	} {
		got := ""
		if rt := s.match(tc.path); rt != nil {
			got = rt.name
		}
		if got != tc.want {
			t.Errorf("match(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestQueryParams(t *testing.T) {
	const name = "subscription-key"
	for _, tc := range []struct {
		raw, value string
		found      bool
		without    string
	}{
		{"", "", false, ""},
		{"a=1&b=2", "", false, "a=1&b=2"},
		{"subscription-key=k1", "k1", true, ""},
		{"a=1&subscription-key=k1&b=2", "k1", true, "a=1&b=2"},
		{"subscription-key=k1&subscription-key=k2&c=3", "k1", true, "c=3"},
		{"subscription-key", "", true, ""},
		{"subscription%2Dkey=k1&x=%2F", "k1", true, "x=%2F"},
		{"subscription-key=a%21b", "a!b", true, ""},
		{"subscription-key=a%zz", "a%zz", true, ""},
		{"subscription-keys=k1", "", false, "subscription-keys=k1"},
		{"x=subscription-key", "", false, "x=subscription-key"},
		{"a=1&&subscription-key=k&b", "k", true, "a=1&b"},
	} {
		v, ok := queryValue(tc.raw, name)
		if v != tc.value || ok != tc.found {
			t.Errorf("queryValue(%q) = %q, %v; want %q, %v", tc.raw, v, ok, tc.value, tc.found)
		}
		if got := withoutQueryParam(tc.raw, name); got != tc.without {
			t.Errorf("withoutQueryParam(%q) = %q, want %q", tc.raw, got, tc.without)
		}
	}
}

func TestDenialBodies(t *testing.T) {
	d := newDenial(401, `Say "no"`, "x", nil)
	if got, want := string(d.body), `{"statusCode": 401, "message": "Say \"no\""}`; got != want {
		t.Fatalf("body = %s, want %s", got, want)
	}
	if d.contentLength[0] != "44" {
		t.Fatalf("Content-Length = %s, body is %d bytes", d.contentLength[0], len(d.body))
	}
}

// stubCatalog answers every key with one subscription.
type stubCatalog struct{ sub *portal.Subscription }

func (stubCatalog) FindAPIs(context.Context, portal.APIFilter) ([]*portal.API, int, error) {
	return nil, 0, nil
}
func (stubCatalog) FindProducts(context.Context, portal.ProductFilter) ([]*portal.Product, int, error) {
	return nil, 0, nil
}
func (c stubCatalog) FindSubscriptionByKey(context.Context, string) (*portal.Subscription, portal.KeyKind, error) {
	return c.sub, portal.PrimaryKey, nil
}
func (stubCatalog) Version(context.Context) (int64, error) { return 1, nil }

func BenchmarkRouteMatch(b *testing.B) {
	s := &snapshot{routes: map[string]*route{}}
	for _, p := range []string{"echo", "v1", "v1/echo", "v2/orders", "payments", "a/b/c"} {
		s.routes[p] = &route{name: p, path: p}
		s.maxDepth = 3
	}
	ops := compileOperations([]portal.Operation{
		{ID: "list", Method: "GET", Path: "/users"},
		{ID: "get", Method: "GET", Path: "/users/{id}"},
		{ID: "me", Method: "GET", Path: "/users/me"},
		{ID: "orders", Method: "GET", Path: "/users/{id}/orders/{order}"},
		{ID: "create", Method: "POST", Path: "/users"},
	})
	const path = "/v1/echo/users/42/orders/7"
	b.ReportAllocs()
	for b.Loop() {
		rt := s.match(path)
		if rt == nil || !ops.match("GET", path[len(rt.path)+1:]) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkKeyCacheHit(b *testing.B) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	sub := &portal.Subscription{Name: "s", State: portal.SubscriptionActive, Scope: portal.Scope{Kind: portal.ScopeAll}}
	c := newKeyCache(stubCatalog{sub: sub}, 100, m)
	const key = "0123456789abcdef0123456789abcdef"
	ctx := context.Background()
	if s, err := c.lookup(ctx, key); s != sub || err != nil {
		b.Fatal(s, err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if s, _ := c.lookup(ctx, key); s != sub {
				b.Fatal("miss")
			}
		}
	})
}
