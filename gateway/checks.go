package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// A check is one step of a route's policy chain. It returns nil to let the
// request go on, or the denial that answers it. Routing (no API, no
// operation) runs before the chain, forwarding after it.
type check func(rq *request) *denial

// request is what the checks of one request share.
type request struct {
	r     *http.Request
	route *route
	id    string
	// sub is the subscription whose key the caller gave and that passed;
	// nil for a request to an open API without a key.
	sub *portal.Subscription
	// detail is the safe explanation of a denial, set by the check that
	// refuses ("aud api://orders not in [api://echo]"); it is logged and
	// recorded, never sent. It must never hold a secret, key or token.
	detail string
}

// checkChain returns rt's checks in the order of Contract section 5. Each
// step is built with the snapshot from the API's settings and returns nil
// when the API does not use it, so an API pays only for its own policies.
// A new policy is one more builder in this list, at its place in the
// contract's table.
func (g *Gateway) checkChain(rt *route, api *portal.API) []check {
	builders := []func(*route, *portal.API) check{
		g.ipFilterCheck,
		g.clientCertCheck,
		g.subscriptionKeyCheck,
		g.jwtCheck,
		g.rateLimitCheck, // last: calls refused by another check are not counted
	}
	var chain []check
	for _, build := range builders {
		if c := build(rt, api); c != nil {
			chain = append(chain, c)
		}
	}
	return chain
}

// subscriptionKeyCheck refuses a request without a key (unless the API is
// open) and a request whose key is unknown, belongs to a subscription that
// does not pass (state, expiry, owner), or does not reach this API.
func (g *Gateway) subscriptionKeyCheck(rt *route, _ *portal.API) check {
	return func(rq *request) *denial {
		key := rt.key(rq.r)
		if key == "" {
			if rt.open {
				return nil
			}
			return &g.denials.missingKey
		}
		sub, err := g.keys.lookup(rq.r.Context(), key)
		if err != nil {
			if rq.r.Context().Err() == nil {
				g.log.WarnContext(rq.r.Context(), "gateway cannot look up a subscription key", "request_id", rq.id, "api", rt.name, "error", err)
			}
			return &g.denials.keyUnavailable
		}
		if sub == nil || !sub.KeysPass(g.now()) || !rt.inScope(sub) {
			return &g.denials.invalidKey
		}
		rq.sub = sub
		return nil
	}
}

// key returns the subscription key from the API's header, or else from its
// query parameter; "" when neither carries one.
func (rt *route) key(r *http.Request) string {
	if v := r.Header[rt.keyHeader]; len(v) > 0 && v[0] != "" {
		return v[0]
	}
	if r.URL.RawQuery != "" {
		if v, ok := queryValue(r.URL.RawQuery, rt.keyQuery); ok {
			return v
		}
	}
	return ""
}

// queryValue returns the decoded value of the first parameter called name
// in the raw query, without parsing the rest of it.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if !queryNameIs(k, name) {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				return u, true
			}
		}
		return v, true
	}
	return "", false
}

// withoutQueryParam returns raw without the parameters called name, the
// others unchanged and in their order. raw is returned as is (no
// allocation) when it has none.
func withoutQueryParam(raw, name string) string {
	if _, ok := queryValue(raw, name); !ok {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		if k, _, _ := strings.Cut(kv, "="); queryNameIs(k, name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
}

// queryNameIs compares a raw parameter name with name, decoding the raw
// one only when it is escaped.
func queryNameIs(raw, name string) bool {
	if raw == name {
		return true
	}
	if strings.ContainsAny(raw, "%+") {
		u, err := url.QueryUnescape(raw)
		return err == nil && u == name
	}
	return false
}
