// Package gateway is Portico's data plane: it finds the API a request is
// for by the longest matching path prefix, matches the request to one of
// the API's operations, runs the API's checks in the order the contract
// (section 5) fixes, and forwards what passes to the API's backend with
// httputil.ReverseProxy. It also serves the builtin:echo backend in process
// and the reserved GET /healthz, /readyz and /metrics paths.
//
// The route table is an immutable snapshot of the catalog, swapped
// atomically. The gateway polls the catalog's Version and rebuilds the
// snapshot when it changes; the same change empties the subscription-key
// cache, so a regenerated key, a suspended subscription or a blocked owner
// stops passing within one reload interval on every instance that shares
// the store.
//
// The request path avoids allocation where it can: error bodies are
// rendered once, operation matchers are compiled with the snapshot, and
// metric label values are resolved per API ahead of time.
//
// It imports portal, observe, clientip and jwtcheck. It must never import web, auth,
// testconsole, templ or gorilla/sessions: the data plane knows nothing of
// cookies, sessions or pages.
package gateway
