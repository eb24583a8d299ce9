package jwtcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// remote is one openid_config URL: its discovery document, the key set it
// points to, and when to fetch them again.
type remote struct {
	url string
	v   *Validator

	state      atomic.Pointer[remoteState] // nil until a fetch succeeds
	refreshing atomic.Bool

	mu          sync.Mutex // one fetch at a time; guards the times below
	lastAttempt time.Time  // of a fetch for a remote without keys
	lastRefetch time.Time  // of a fetch for an unknown kid
}

// remoteState is what one successful fetch brought.
type remoteState struct {
	issuer  string
	keys    *keySet
	fetched time.Time
}

// current returns the remote's keys, fetching them first if there are
// none (at most once per RetryInterval while the provider fails), and
// starting a background refresh when they are older than RefreshInterval.
// nil means the provider is unavailable and nothing is cached.
func (r *remote) current(ctx context.Context, now time.Time) *remoteState {
	s := r.state.Load()
	if s == nil {
		return r.fetchWhenEmpty(ctx, now)
	}
	if now.Sub(s.fetched) >= r.v.c.RefreshInterval && r.refreshing.CompareAndSwap(false, true) {
		go func() {
			defer r.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
			defer cancel()
			r.mu.Lock()
			defer r.mu.Unlock()
			// A failed refresh keeps the old keys and is retried after
			// RetryInterval: a provider outage never drops keys that
			// verified tokens a moment ago.
			if ns, err := r.fetch(ctx); err == nil {
				r.state.Store(ns)
			} else {
				r.v.c.OnFetchError(r.url, err)
				ns := *s
				ns.fetched = r.v.c.Now().Add(r.v.c.RetryInterval - r.v.c.RefreshInterval)
				r.state.CompareAndSwap(s, &ns)
			}
		}()
	}
	return s
}

func (r *remote) fetchWhenEmpty(ctx context.Context, now time.Time) *remoteState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.state.Load(); s != nil {
		return s // fetched while this caller waited
	}
	if !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.v.c.RetryInterval {
		return nil
	}
	r.lastAttempt = now
	// Not the caller's cancellation: callers queued behind this fetch
	// need its result even if the first one leaves.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	s, err := r.fetch(fctx)
	if err != nil {
		r.v.c.OnFetchError(r.url, err)
		return nil
	}
	r.state.Store(s)
	return s
}

// refetchForKid fetches again because a token names a kid the cached set
// lacks (the provider may have rotated its keys), at most once per
// UnknownKidRefetchInterval. It returns the state to look in again, or nil
// when no refetch was allowed or it failed.
func (r *remote) refetchForKid(ctx context.Context, now time.Time, seen *remoteState) *remoteState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.state.Load(); s != seen && s != nil {
		return s // another request refetched meanwhile
	}
	if !r.lastRefetch.IsZero() && now.Sub(r.lastRefetch) < r.v.c.UnknownKidRefetchInterval {
		return nil
	}
	r.lastRefetch = now
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	s, err := r.fetch(fctx)
	if err != nil {
		r.v.c.OnFetchError(r.url, err)
		return nil
	}
	r.state.Store(s)
	return s
}

// fetchTimeout bounds one fetch of both documents when the HTTP client
// has no timeout of its own.
const fetchTimeout = 10 * time.Second

// fetch reads the discovery document and the key set it names.
func (r *remote) fetch(ctx context.Context) (*remoteState, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	b, err := r.v.get(ctx, r.url)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer == "" {
		return nil, errors.New("discovery: no issuer")
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") && !strings.HasPrefix(doc.JWKSURI, "http://") {
		return nil, errors.New("discovery: jwks_uri is not an http or https URL")
	}
	b, err = r.v.get(ctx, doc.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys, err := parseJWKs(b, false)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return &remoteState{issuer: doc.Issuer, keys: newKeySet(keys), fetched: r.v.c.Now()}, nil
}

// get fetches a JSON document of at most MaxDocumentBytes.
func (v *Validator) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.c.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, v.c.MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(b)) > v.c.MaxDocumentBytes {
		return nil, fmt.Errorf("GET %s: document larger than %d bytes", url, v.c.MaxDocumentBytes)
	}
	return b, nil
}
