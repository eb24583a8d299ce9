package gateway

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// headerTimeouts gives each API its backend timeout at no cost per request:
// the timeout is the ResponseHeaderTimeout of a clone of the backend
// transport, one clone for each (transport, timeout) pair in use, shared
// by the routes with that pair and kept across snapshots so connections
// stay pooled. Most APIs keep the default timeout, so there are few
// clones. A transport that is not an *http.Transport (tests may inject
// one) is wrapped in headerTimeoutTransport instead, which costs a context
// and a timer per request. Used under Gateway.reloadMu.
type headerTimeouts struct {
	clones map[timeoutKey]*http.Transport
	used   map[timeoutKey]bool // since the last sweep
}

type timeoutKey struct {
	base    *http.Transport
	timeout time.Duration
}

func newHeaderTimeouts() *headerTimeouts {
	return &headerTimeouts{clones: map[timeoutKey]*http.Transport{}, used: map[timeoutKey]bool{}}
}

// with returns base with the response header timeout d.
func (h *headerTimeouts) with(base http.RoundTripper, d time.Duration) http.RoundTripper {
	t, ok := base.(*http.Transport)
	if !ok {
		return &headerTimeoutTransport{next: base, timeout: d}
	}
	k := timeoutKey{t, d}
	c := h.clones[k]
	if c == nil {
		c = t.Clone()
		c.ResponseHeaderTimeout = d
		h.clones[k] = c
	}
	h.used[k] = true
	return c
}

// sweep closes and forgets the clones no route used since the last sweep.
func (h *headerTimeouts) sweep() {
	for k, c := range h.clones {
		if !h.used[k] {
			c.CloseIdleConnections()
			delete(h.clones, k)
		}
	}
	clear(h.used)
}

// isBackendTimeout reports whether err is the backend's failure to send
// the response headers in time (504), as opposed to a refused or
// unreachable backend (502): a connect timeout is a dial error and counts
// as unreachable.
func isBackendTimeout(err error) bool {
	if errors.Is(err, errBackendTimeout) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
