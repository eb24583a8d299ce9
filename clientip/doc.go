// Package clientip decides which address a request came from: the TCP
// peer, or, when the peer is one of the operator's trusted proxies (the
// --trusted-proxies setting), the address those proxies wrote into
// X-Forwarded-For. Both the portal (sign-in limits) and the gateway
// (ip_filter) use it, so that they agree on who the caller is.
//
// It imports only the standard library, and must never import net/http,
// portal, auth or gateway: it works on strings and netip values so that
// the gateway's request path does not allocate to call it.
package clientip
