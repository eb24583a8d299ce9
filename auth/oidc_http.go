package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of the portal's calls to identity providers.
const (
	// DefaultProviderTimeout bounds one call (discovery, keys, token,
	// userinfo), connection and body included.
	DefaultProviderTimeout = 10 * time.Second
	// MaxProviderResponse bounds the body of a provider's answer: discovery
	// documents and key sets are a few KiB, so 1 MiB leaves ample room and
	// keeps a hostile or broken provider from filling memory.
	MaxProviderResponse = 1 << 20
	// DefaultKeyRefetchInterval is the least time between two fetches of a
	// provider's key set: a token the cached keys do not verify makes the
	// portal refetch the keys (the provider may have rotated them, or
	// replaced a key under the same kid), but a provider minting such
	// tokens must not make the portal fetch on every sign-in.
	DefaultKeyRefetchInterval = time.Minute
	// keyFetchRetry is the least time between a failed fetch of a key set
	// and the next: short, so that a provider's passing failure does not
	// refuse every sign-in for a whole interval, but enough that a failing
	// provider is not asked on every callback.
	keyFetchRetry = 5 * time.Second
)

// NewProviderClient returns the HTTP client for calls to identity
// providers: every call ends within timeout (DefaultProviderTimeout when
// 0), and reading more than MaxProviderResponse bytes of a body fails.
func NewProviderClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultProviderTimeout
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: limitedTransport{base: base, max: MaxProviderResponse},
		// A provider's endpoints answer directly; following redirects
		// would let an endpoint send the portal anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// limitedTransport caps the body of every response.
type limitedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if res.ContentLength > t.max {
		res.Body.Close()
		return nil, fmt.Errorf("%s answered with %d bytes, more than the %d allowed: %w", r.URL.Redacted(), res.ContentLength, t.max, errResponseTooLarge)
	}
	res.Body = &limitedBody{rc: res.Body, left: t.max}
	return res, nil
}

var errResponseTooLarge = errors.New("the identity provider's response is too large")

// limitedBody fails once more than its limit has been read, rather than
// truncating silently (a cut JSON document could still parse).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errResponseTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// asymmetricAlgs are the ID token signature algorithms the portal
// accepts: never "none", never HMAC (whose key would be the client secret,
// which the provider's token endpoint is not the only holder of).
var asymmetricAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// keySet is an oidc.KeySet over a provider's jwks_uri that refetches the
// keys when the cached ones do not verify a token, whether its kid is
// unknown (a rotation) or known (new key material under the same kid),
// at most once per interval, counted from the last refetch (not from the
// first fetch). go-oidc's RemoteKeySet refetches on every unknown kid (it
// only merges concurrent fetches), with no bound at all.
//
// ID tokens reach the portal from the provider's token endpoint over the
// back channel, never from the browser, so a visitor cannot hand the
// portal a forged token to make it refetch; what the interval bounds is
// a provider that misbehaves (or a broken key set), which must not cost
// it a fetch on every sign-in.
type keySet struct {
	url      string
	client   *http.Client
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex // held during a fetch, so that fetches never overlap
	keys    []jose.JSONWebKey
	next    time.Time // no fetch before: interval after a refetch, keyFetchRetry after a failure
	fetches int
}

func newKeySet(url string, client *http.Client, interval time.Duration, now func() time.Time) *keySet {
	if interval <= 0 {
		interval = DefaultKeyRefetchInterval
	}
	return &keySet{url: url, client: client, interval: interval, now: now}
}

var errBadSignature = errors.New("the signature does not verify with the provider's keys")

var errKeyRefetchLimited = errors.New("the signature does not verify with the provider's keys, and the key set was fetched too recently to fetch it again")

// VerifySignature checks jwt's signature with the provider's keys and
// returns its payload.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, asymmetricAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("a JWT must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	defer k.mu.Unlock()
	if payload, ok := verifyWith(jws, kid, k.keys); ok {
		return payload, nil
	}
	// A known kid whose key does not verify is refetched as well: the
	// provider may have replaced the key material under the same kid, and
	// refusing it for good would lock every user of the provider out
	// until the portal restarts.
	if k.now().Before(k.next) {
		return nil, errKeyRefetchLimited
	}
	refetch := k.fetches > 0
	k.fetches++
	keys, err := k.fetch(ctx)
	if err != nil {
		k.next = k.now().Add(keyFetchRetry)
		return nil, err
	}
	if refetch {
		// Only a refetch opens the window: the first fetch merely fills
		// the set, so that a provider rotating its keys soon after is
		// followed at the first token it signs with the new one, while
		// tokens the keys keep failing cost the provider at most one
		// fetch per interval.
		k.next = k.now().Add(k.interval)
	}
	k.keys = keys
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	return nil, errBadSignature
}

func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if !key.IsPublic() {
			continue // a private or symmetric key in a JWKS is never trusted
		}
		if payload, err := jws.Verify(&key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, k.client, k.url, &doc); err != nil {
		return nil, fmt.Errorf("fetch keys: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue // a key type go-jose does not know is skipped (RFC 7517 section 5)
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// getJSON GETs url with client and decodes its JSON answer into v.
func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}
