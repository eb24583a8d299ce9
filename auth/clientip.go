package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIPBehind returns a Config.ClientIP for a portal behind the proxies
// in trusted (the --trusted-proxies setting). X-Forwarded-For is believed
// only as far as trusted proxies wrote it: starting from the peer, each
// address that belongs to a trusted proxy yields to the one it forwarded
// for, and the first untrusted address is the client. With no trusted
// proxies it is the peer's address, whatever the header says, so that a
// client cannot pick the address its sign-in failures count against.
func ClientIPBehind(trusted []netip.Prefix) func(r *http.Request) string {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer := remoteHost(r)
		addr, err := netip.ParseAddr(peer)
		if err != nil || len(trusted) == 0 || !isTrusted(addr.Unmap()) {
			return peer
		}
		var hops []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(h, ",")...)
		}
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			hop := strings.TrimSpace(hops[i])
			if host, _, err := net.SplitHostPort(hop); err == nil {
				hop = host
			}
			a, err := netip.ParseAddr(hop)
			if err != nil {
				break // a malformed entry: believe nothing further left
			}
			client = a.Unmap().String()
			if !isTrusted(a.Unmap()) {
				break
			}
		}
		return client
	}
}
