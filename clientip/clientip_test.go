package clientip_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/porticoapi/portico/clientip"
)

func TestResolve(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string // "" for ErrUnknown
	}{
		{"no proxies trusted", nil, "10.0.0.1:5000", []string{"203.0.113.9"}, "10.0.0.1"},
		{"untrusted peer, header ignored", trusted, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"untrusted peer, garbage header ignored", trusted, "198.51.100.7:5000", []string{"garbage"}, "198.51.100.7"},
		{"bare peer address", nil, "198.51.100.7", nil, "198.51.100.7"},
		{"IPv6 peer", nil, "[2001:db8:1::5]:443", nil, "2001:db8:1::5"},
		{"IPv4-mapped peer", nil, "[::ffff:198.51.100.7]:443", nil, "198.51.100.7"},
		{"zoned peer", nil, "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"one trusted proxy", trusted, "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left entries ignored", trusted, "10.0.0.1:5000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"garbage left of the caller ignored", trusted, "10.0.0.1:5000", []string{"not-an-ip, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted hops", trusted, "10.0.0.1:5000", []string{"203.0.113.9, 10.1.1.1"}, "203.0.113.9"},
		{"several fields", trusted, "[2001:db8::1]:443", []string{"203.0.113.9", "10.2.2.2"}, "203.0.113.9"},
		{"no spaces", trusted, "10.0.0.1:5000", []string{"198.51.100.1,203.0.113.9,10.1.1.1"}, "203.0.113.9"},
		{"entry with port", trusted, "10.0.0.1:5000", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 entry with port", trusted, "10.0.0.1:5000", []string{"[2001:db9::7]:443"}, "2001:db9::7"},
		{"IPv4-mapped entry", trusted, "10.0.0.1:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"mapped entry of a trusted proxy", trusted, "10.0.0.1:5000", []string{"203.0.113.9, ::ffff:10.9.9.9"}, "203.0.113.9"},
		{"all trusted: left-most", trusted, "10.0.0.1:5000", []string{"10.3.3.3, 10.4.4.4"}, "10.3.3.3"},
		{"no header: the peer", trusted, "10.0.0.1:5000", nil, "10.0.0.1"},
		{"garbage", trusted, "10.0.0.1:5000", []string{"not-an-ip"}, ""},
		{"garbage right of the caller", trusted, "10.0.0.1:5000", []string{"203.0.113.9, bogus"}, ""},
		{"empty entry", trusted, "10.0.0.1:5000", []string{"203.0.113.9,"}, ""},
		{"empty field", trusted, "10.0.0.1:5000", []string{""}, ""},
		{"zone in an entry dropped", trusted, "10.0.0.1:5000", []string{"fe80::9%eth0"}, "fe80::9"},
		{"malformed peer", trusted, "pipe", nil, ""},
		{"empty peer", nil, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clientip.Resolve(tc.peer, tc.xff, tc.trusted)
			if tc.want == "" {
				if !errors.Is(err, clientip.ErrUnknown) {
					t.Fatalf("Resolve = %v, %v; want ErrUnknown", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve = %v", err)
			}
			if got.String() != tc.want {
				t.Fatalf("Resolve = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestResolveDoesNotAllocate(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	xff := []string{"198.51.100.1, 203.0.113.9, 10.1.1.1"}
	n := testing.AllocsPerRun(100, func() {
		if _, err := clientip.Resolve("10.0.0.1:5000", xff, trusted); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("Resolve allocates %v times per call", n)
	}
}
