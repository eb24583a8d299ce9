package auth

import (
	"net/http"
	"net/netip"

	"github.com/porticoapi/portico/clientip"
)

// ClientIPBehind returns a Config.ClientIP for a portal behind the proxies
// in trusted (the --trusted-proxies setting), as clientip.Resolve decides
// it: X-Forwarded-For is believed only as far as trusted proxies wrote it.
// With no trusted proxies it is the peer's address, whatever the header
// says, so that a client cannot pick the address its sign-in failures
// count against. When the forwarded address cannot be established the
// sign-in limits count against the peer (the proxy) rather than fail.
func ClientIPBehind(trusted []netip.Prefix) func(r *http.Request) string {
	return func(r *http.Request) string {
		a, err := clientip.Resolve(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
		if err != nil {
			return remoteHost(r)
		}
		return a.String()
	}
}
