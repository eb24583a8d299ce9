package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/porticoapi/portico/portal"
)

func TestCompileIPFilter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      portal.IPFilter
		in     []string
		out    []string
		v4, v6 int // ranges after merging
	}{
		{
			name: "single addresses",
			f:    portal.IPFilter{Action: "allow", Addresses: []string{"192.0.2.7", "2001:db8::7", "::ffff:198.51.100.1"}},
			in:   []string{"192.0.2.7", "2001:db8::7", "198.51.100.1"},
			out:  []string{"192.0.2.6", "192.0.2.8", "2001:db8::6", "2001:db8::8", "::ffff:0:0", "0.0.0.0"},
			v4:   2, v6: 1,
		},
		{
			name: "CIDRs",
			f:    portal.IPFilter{Action: "allow", Addresses: []string{"10.0.0.0/8", "2001:db8::/32", "2001:db8:1:2::/64", "fd00::/120", "::ffff:172.16.0.0/108"}},
			in:   []string{"10.0.0.0", "10.255.255.255", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "fd00::ff", "172.16.0.1", "172.31.255.255"},
			out:  []string{"9.255.255.255", "11.0.0.0", "2001:db9::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "fd00::100", "172.32.0.0"},
			v4:   2, v6: 2, // the /64 is inside the /32
		},
		{
			name: "everything",
			f:    portal.IPFilter{Action: "forbid", Addresses: []string{"0.0.0.0/0", "::/0"}},
			in:   []string{"0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1"},
			v4:   1, v6: 1,
		},
		{
			name: "ranges, overlapping and adjacent",
			f: portal.IPFilter{Action: "allow", Ranges: []portal.IPRange{
				{From: "192.0.2.10", To: "192.0.2.20"}, {From: "192.0.2.15", To: "192.0.2.30"}, {From: "192.0.2.31", To: "192.0.2.31"},
				{From: "192.0.2.40", To: "192.0.2.40"},
				{From: "2001:db8::ffff:ffff:ffff:fffe", To: "2001:db8:0:1::1"},
				{From: "::ffff:203.0.113.1", To: "::ffff:203.0.113.2"},
				{From: "255.255.255.254", To: "255.255.255.255"},
			}},
			in:  []string{"192.0.2.10", "192.0.2.25", "192.0.2.31", "192.0.2.40", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::", "2001:db8:0:1::1", "203.0.113.2", "255.255.255.255"},
			out: []string{"192.0.2.9", "192.0.2.32", "192.0.2.39", "192.0.2.41", "2001:db8:0:1::2", "2001:db8::ffff:ffff:ffff:fffd", "203.0.113.3", "255.255.255.253"},
			v4:  4, v6: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := compileIPFilter(&tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.v4) != tc.v4 || len(s.v6) != tc.v6 {
				t.Fatalf("%d IPv4 and %d IPv6 ranges, want %d and %d: %v %v", len(s.v4), len(s.v6), tc.v4, tc.v6, s.v4, s.v6)
			}
			for _, a := range tc.in {
				if !s.contains(netip.MustParseAddr(a).Unmap()) {
					t.Errorf("%s not in the set", a)
				}
			}
			for _, a := range tc.out {
				if s.contains(netip.MustParseAddr(a).Unmap()) {
					t.Errorf("%s in the set", a)
				}
			}
		})
	}
}

func TestCompileIPFilterRefusesBrokenPolicies(t *testing.T) {
	for _, f := range []portal.IPFilter{
		{Action: "deny", Addresses: []string{"192.0.2.1"}},
		{Action: "allow", Addresses: []string{"192.0.2.300"}},
		{Action: "allow", Ranges: []portal.IPRange{{From: "192.0.2.9", To: "192.0.2.1"}}},
		{Action: "allow", Ranges: []portal.IPRange{{From: "192.0.2.1", To: "2001:db8::1"}}},
	} {
		if _, err := compileIPFilter(&f); err == nil {
			t.Errorf("%+v compiled", f)
		}
	}
}

// ipFilterRoute returns the ip_filter check of an API with f.
func ipFilterRoute(t testing.TB, f *portal.IPFilter, trusted ...netip.Prefix) check {
	g, err := New(Config{Catalog: policyTestCatalog{}, TrustedProxies: trusted})
	if err != nil {
		t.Fatal(err)
	}
	api := &portal.API{Name: "a", Path: "a", Policies: portal.Policies{IPFilter: f}}
	return g.ipFilterCheck(&route{gw: g, name: "a"}, api)
}

func TestIPFilterCheckDoesNotAllocate(t *testing.T) {
	f := &portal.IPFilter{Action: "allow", Addresses: []string{"10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"}}
	c := ipFilterRoute(t, f, netip.MustParsePrefix("127.0.0.0/8"))
	r := httptest.NewRequest(http.MethodGet, "/a/x", nil)
	r.RemoteAddr = "127.0.0.1:4711"
	r.Header.Set("X-Forwarded-For", "203.0.113.1, 192.0.2.77")
	rq := &request{r: r}
	if n := testing.AllocsPerRun(100, func() {
		if d := c(rq); d != nil {
			t.Fatalf("refused: %s", rq.detail)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per allowed request", n)
	}
}

func BenchmarkIPFilterCheck(b *testing.B) {
	f := &portal.IPFilter{Action: "allow"}
	for i := range 200 {
		f.Addresses = append(f.Addresses, netip.AddrFrom4([4]byte{10, byte(i), 0, 0}).String()+"/24")
	}
	f.Addresses = append(f.Addresses, "2001:db8::/32", "192.0.2.0/24")
	c := ipFilterRoute(b, f)
	r := httptest.NewRequest(http.MethodGet, "/a/x", nil)
	r.RemoteAddr = "192.0.2.77:4711"
	rq := &request{r: r}
	b.ReportAllocs()
	for b.Loop() {
		if c(rq) != nil {
			b.Fatal("refused")
		}
	}
}

// policyTestCatalog is a catalog without APIs, for checks built directly.
type policyTestCatalog struct{}

func (policyTestCatalog) FindAPIs(context.Context, portal.APIFilter) ([]*portal.API, int, error) {
	return nil, 0, nil
}

func (policyTestCatalog) FindProducts(context.Context, portal.ProductFilter) ([]*portal.Product, int, error) {
	return nil, 0, nil
}

func (policyTestCatalog) FindSubscriptionByKey(context.Context, string) (*portal.Subscription, portal.KeyKind, error) {
	return nil, "", portal.Errorf(portal.ENOTFOUND, "Subscription not found.")
}

func (policyTestCatalog) Version(context.Context) (int64, error) { return 1, nil }
