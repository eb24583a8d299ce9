package clientip

import (
	"errors"
	"net/netip"
	"strings"
)

// ErrUnknown is returned when the caller's address cannot be established:
// the peer address or a forwarded address that has to be believed is
// malformed. Callers that decide access on the address must fail closed.
var ErrUnknown = errors.New("clientip: cannot establish the caller's address")

// Resolve returns the caller's address. peer is the TCP peer as
// http.Request.RemoteAddr holds it ("203.0.113.7:51234", "[2001:db8::1]:443",
// or a bare address); forwardedFor are the values of the X-Forwarded-For
// header fields in the order received; trusted are the proxies whose
// X-Forwarded-For is believed.
//
// The caller is the peer unless the peer is trusted. Then X-Forwarded-For
// is read from the right, the end the trusted proxy wrote: each trusted
// entry yields to the one before it, and the first untrusted entry is the
// caller. Entries left of it were written by the caller or its own
// proxies and are never looked at, so a client cannot choose its address
// by sending the header. When every entry is trusted, the left-most one
// is the caller; when there is none, the peer.
//
// Entries may carry a port ("198.51.100.7:4711", "[2001:db8::7]:443").
// IPv4-mapped IPv6 addresses are returned as IPv4 and zones are dropped.
// A malformed peer, or a malformed entry reached before the caller is
// found, is ErrUnknown: a proxy that sends garbage is not worked around.
func Resolve(peer string, forwardedFor []string, trusted []netip.Prefix) (netip.Addr, error) {
	addr, ok := parse(peer)
	if !ok {
		return netip.Addr{}, ErrUnknown
	}
	if !contains(trusted, addr) {
		return addr, nil
	}
	client := addr
	// Walk the fields from the last, and each field's entries from its
	// last comma, without splitting: no allocation on the request path.
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		v := forwardedFor[i]
		for {
			entry := v
			j := strings.LastIndexByte(v, ',')
			if j >= 0 {
				entry, v = v[j+1:], v[:j]
			}
			a, ok := parse(strings.TrimSpace(entry))
			if !ok {
				return netip.Addr{}, ErrUnknown
			}
			client = a
			if !contains(trusted, a) {
				return a, nil
			}
			if j < 0 {
				break
			}
		}
	}
	return client, nil
}

// parse reads an address with or without a port, normalised.
func parse(s string) (netip.Addr, bool) {
	var a netip.Addr
	var err error
	// Choose the form first: a failed parse allocates its error.
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	} else {
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
