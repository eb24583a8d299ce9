package jwtcheck

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/porticoapi/portico/portal"
)

// Defaults for the zero values of Config.
const (
	DefaultRefreshInterval           = time.Hour
	DefaultUnknownKidRefetchInterval = 5 * time.Minute
	DefaultRetryInterval             = 10 * time.Second
	DefaultMaxDocumentBytes          = 1 << 20
	DefaultMaxTokenBytes             = 16 << 10
	DefaultCacheSize                 = 10_000
)

// Config is how a Validator fetches and caches; the policy itself is the
// portal.ValidateJWT given to New.
type Config struct {
	// HTTPClient fetches discovery documents and key sets; nil: a client
	// with a 10 second timeout.
	HTTPClient *http.Client
	// Now is the clock for token lifetimes and fetch intervals; nil:
	// time.Now.
	Now func() time.Time
	// RefreshInterval is how old fetched keys may grow before they are
	// fetched again in the background; 0: DefaultRefreshInterval.
	RefreshInterval time.Duration
	// UnknownKidRefetchInterval is how often a token with an unknown kid
	// may make the validator fetch again; 0: its default.
	UnknownKidRefetchInterval time.Duration
	// RetryInterval is how long a provider that failed is left alone
	// before the next attempt; 0: DefaultRetryInterval.
	RetryInterval time.Duration
	// MaxDocumentBytes bounds a fetched document; 0: DefaultMaxDocumentBytes.
	MaxDocumentBytes int64
	// MaxTokenBytes bounds a token; 0: DefaultMaxTokenBytes.
	MaxTokenBytes int
	// CacheSize bounds the cache of validated tokens; 0: DefaultCacheSize;
	// negative: no cache.
	CacheSize int
	// OnFetchError, when set, hears of every failed fetch (for the log).
	OnFetchError func(url string, err error)
}

// Validator checks tokens against one validate_jwt policy. It is safe for
// concurrent use and keeps its fetched keys and validated tokens for its
// lifetime, so callers should keep one per policy.
type Validator struct {
	c         Config
	p         portal.ValidateJWT
	static    *keySet
	hasHMAC   bool
	remotes   []*remote
	issuers   map[string]bool
	audiences map[string]bool
	cache     *tokenCache
	headers   headerCache
}

// Result is a token that passed. It is shared between requests that
// present the same token and must not be modified.
type Result struct {
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt time.Time // zero when the token has no exp
	// Payload is the token's decoded payload, a JSON object.
	Payload []byte
}

// Claims decodes every claim of the token. Validation reads only the
// claims it checks, so this costs what it costs only to callers that need
// the rest.
func (r *Result) Claims() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(r.Payload, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// New prepares a validator for p. It parses the static keys and fails if
// one cannot be used; it fetches nothing (see Prefetch).
func New(p portal.ValidateJWT, c Config) (*Validator, error) {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.UnknownKidRefetchInterval <= 0 {
		c.UnknownKidRefetchInterval = DefaultUnknownKidRefetchInterval
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.MaxDocumentBytes <= 0 {
		c.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if c.MaxTokenBytes <= 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.OnFetchError == nil {
		c.OnFetchError = func(string, error) {}
	}
	v := &Validator{c: c, p: p, issuers: set(p.Issuers), audiences: set(p.Audiences)}
	var keys []*key
	for i, s := range p.SigningKeys {
		ks, err := parseStaticKey(s)
		if err != nil {
			return nil, fmt.Errorf("jwtcheck: signing key %d: %w", i+1, err)
		}
		keys = append(keys, ks...)
	}
	for _, k := range keys {
		v.hasHMAC = v.hasHMAC || k.hmac != nil
	}
	v.static = newKeySet(keys)
	for _, u := range p.OpenIDConfig {
		v.remotes = append(v.remotes, &remote{url: u, v: v})
	}
	if c.CacheSize > 0 {
		v.cache = newTokenCache(c.CacheSize)
	}
	return v, nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// Prefetch fetches every provider's documents now, so that the first
// token does not wait for them. It returns the first error.
func (v *Validator) Prefetch(ctx context.Context) error {
	var first error
	now := v.c.Now()
	for _, r := range v.remotes {
		if r.current(ctx, now) == nil && first == nil {
			first = fmt.Errorf("jwtcheck: %s unavailable", r.url)
		}
	}
	return first
}

// b64 decodes JWS parts: unpadded base64url, and strict so that one token
// has one spelling.
var b64 = base64.RawURLEncoding.Strict()

// Validate checks token against the policy.
func (v *Validator) Validate(ctx context.Context, token string) (*Result, *Failure) {
	if token == "" {
		return nil, fail(ReasonMissing, "empty token")
	}
	if len(token) > v.c.MaxTokenBytes {
		return nil, fail(ReasonTooLarge, "token of %d bytes is larger than %d", len(token), v.c.MaxTokenBytes)
	}
	now := v.c.Now()
	var sum [32]byte
	if v.cache != nil {
		sum = sha256.Sum256(readOnlyBytes(token))
		if res := v.cache.get(sum, now.UnixNano()); res != nil {
			return res, nil
		}
	}
	res, until, f := v.validate(ctx, token, now)
	if f != nil {
		return nil, f
	}
	if v.cache != nil && until.valid {
		v.cache.put(sum, cacheEntry{res: res, from: until.from, until: until.until}, now.UnixNano())
	}
	return res, nil
}

// readOnlyBytes views s as bytes without copying it, for hashing and
// decoding, which only read. A copy of a 1 KiB token would be the only
// allocation of a cached validation.
func readOnlyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// window is when a validated token may be served from the cache, in Unix
// nanoseconds, clock skew included.
type window struct {
	from, until int64
	valid       bool
}

type jwsHeader struct {
	alg, kid string
}

func (v *Validator) validate(ctx context.Context, token string, now time.Time) (*Result, window, *Failure) {
	// Compact JWS: exactly three parts. Five would be an encrypted token.
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return nil, window{}, fail(ReasonMalformed, "not a compact JWS (no '.')")
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return nil, window{}, fail(ReasonMalformed, "not a compact JWS (two parts)")
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		return nil, window{}, fail(ReasonMalformed, "not a compact JWS (more than three parts; encrypted tokens are not accepted)")
	}
	raw := readOnlyBytes(token)
	buf := make([]byte, b64.DecodedLen(d1)+b64.DecodedLen(d2-d1-1)+b64.DecodedLen(len(token)-d2-1))
	hn, err1 := b64.Decode(buf, raw[:d1])
	pn, err2 := b64.Decode(buf[hn:], raw[d1+1:d2])
	sn, err3 := b64.Decode(buf[hn+pn:], raw[d2+1:])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, window{}, fail(ReasonMalformed, "a part is not unpadded base64url")
	}
	hdrJSON, payload, sig := buf[:hn], buf[hn:hn+pn], buf[hn+pn:hn+pn+sn]

	h, cachedHeader := v.headers.get(token[:d1])
	if !cachedHeader {
		var f *Failure
		if h, f = parseHeader(hdrJSON); f != nil {
			return nil, window{}, f
		}
	}
	if strings.EqualFold(h.alg, "none") {
		return nil, window{}, fail(ReasonUnsigned, "alg %s: unsigned tokens are never accepted", quote(h.alg))
	}
	alg, ok := lookupAlgorithm(h.alg)
	if !ok {
		return nil, window{}, fail(ReasonAlgorithm, "alg %s is not supported", quote(h.alg))
	}
	if alg.fam == famHMAC && !v.hasHMAC {
		return nil, window{}, fail(ReasonAlgorithm, "alg %s needs a symmetric signing key and none is configured", alg.name)
	}
	if len(sig) == 0 {
		return nil, window{}, fail(ReasonSignature, "empty signature")
	}

	var reg registered
	if !isObject(payload) {
		return nil, window{}, fail(ReasonMalformed, "the payload is not a JSON object")
	}
	if err := json.Unmarshal(payload, &reg); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, window{}, fail(ReasonMalformed, "claim %s has the wrong type", quote(te.Field))
		}
		return nil, window{}, fail(ReasonMalformed, "the payload is not a JSON object of claims")
	}
	iss := reg.Iss

	var stArr [4]*remoteState
	states := stArr[:0]
	for _, r := range v.remotes {
		states = append(states, r.current(ctx, now))
	}
	if f := v.checkIssuer(iss, states); f != nil {
		return nil, window{}, f
	}

	signed := raw[:d2]
	var candArr [8]*key
	cands := v.static.candidates(candArr[:0], h.kid, alg)
	for _, s := range states {
		if s != nil && v.bound(s, iss) {
			cands = s.keys.candidates(cands, h.kid, alg)
		}
	}
	verified := verifyAny(cands, alg, signed, sig)
	if !verified && h.kid != "" {
		// The provider may have rotated its keys: fetch again, at most
		// once per UnknownKidRefetchInterval, and look in the new set.
		for i, r := range v.remotes {
			s := states[i]
			if s == nil || !v.bound(s, iss) || len(s.keys.byKid[h.kid]) > 0 {
				continue
			}
			ns := r.refetchForKid(ctx, now, s)
			if ns == nil || !v.bound(ns, iss) {
				continue
			}
			states[i] = ns
			more := ns.keys.candidates(nil, h.kid, alg)
			cands = append(cands, more...)
			if verifyAny(more, alg, signed, sig) {
				verified = true
				break
			}
		}
	}
	if verified && !cachedHeader {
		v.headers.put(token[:d1], h)
	}
	if !verified {
		if len(cands) > 0 {
			return nil, window{}, fail(ReasonSignature, "signature (alg %s, kid %s) does not verify with %d candidate key(s)", alg.name, quote(h.kid), len(cands))
		}
		if slices.Contains(states, nil) {
			return nil, window{}, fail(ReasonProviderUnavailable, "no %s key with kid %s, and an OpenID provider is unavailable", alg.name, quote(h.kid))
		}
		return nil, window{}, fail(ReasonKeyNotFound, "no %s key with kid %s for issuer %s", alg.name, quote(h.kid), quote(iss))
	}

	return v.checkClaims(&reg, payload, now)
}

func verifyAny(cands []*key, alg algorithm, signed, sig []byte) bool {
	for _, k := range cands {
		if k.verify(alg, signed, sig) {
			return true
		}
	}
	return false
}

// jwsHeaderJSON is the part of the JOSE header the validator reads.
// encoding/json matches member names without case; that gives a signer
// nothing it could not do with the exact names, since the header is part
// of what is signed, and crit is refused in any spelling.
type jwsHeaderJSON struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// parseHeader reads the JOSE header. jku, x5u, jwk and x5c are never
// read: keys come from the policy only.
func parseHeader(b []byte) (jwsHeader, *Failure) {
	var hj jwsHeaderJSON
	if !isObject(b) || json.Unmarshal(b, &hj) != nil {
		return jwsHeader{}, fail(ReasonMalformed, "the header is not a JSON object with string alg and kid")
	}
	if hj.Alg == "" {
		return jwsHeader{}, fail(ReasonMalformed, "the header has no alg")
	}
	// crit names extensions the signer requires the verifier to
	// understand (RFC 7515 section 4.1.11); this one understands none.
	if hj.Crit != nil {
		return jwsHeader{}, fail(ReasonHeader, "crit header present; no extensions are supported")
	}
	return jwsHeader{alg: hj.Alg, kid: hj.Kid}, nil
}

// isObject reports whether b holds a JSON object (and not null, which
// encoding/json would take as an empty struct).
func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

// registered are the claims the validator always reads. Like the
// header, they are matched without case by encoding/json; the payload is
// signed, so no spelling gives a signer more than the exact one would.
type registered struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud audience `json:"aud"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
}

// audience is the aud claim: one string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	case string(b) == "null":
		*a = nil
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = list
	return nil
}

// bound reports whether the keys of a provider whose state is s may verify
// a token from iss: its own issuer's tokens; and with a single provider,
// also those of the issuers the policy lists explicitly (Entra's v1 and v2
// issuers share one key set).
func (v *Validator) bound(s *remoteState, iss string) bool {
	return s.issuer == iss || (len(v.remotes) == 1 && v.issuers[iss])
}

func (v *Validator) checkIssuer(iss string, states []*remoteState) *Failure {
	if len(v.issuers) > 0 {
		if v.issuers[iss] {
			return nil
		}
		return fail(ReasonIssuer, "iss %s not in %v", quote(iss), v.p.Issuers)
	}
	if len(v.remotes) == 0 {
		return nil // no issuer to compare with: the keys decide
	}
	var known []string
	unavailable := false
	for _, s := range states {
		if s == nil {
			unavailable = true
			continue
		}
		if s.issuer == iss {
			return nil
		}
		known = append(known, s.issuer)
	}
	if unavailable {
		return fail(ReasonProviderUnavailable, "iss %s is not a known issuer and an OpenID provider is unavailable", quote(iss))
	}
	return fail(ReasonIssuer, "iss %s not in the discovered issuers %v", quote(iss), known)
}

func (v *Validator) checkClaims(reg *registered, payload []byte, now time.Time) (*Result, window, *Failure) {
	skew := v.p.ClockSkew
	nowS := float64(now.UnixNano()) / 1e9
	res := &Result{Issuer: reg.Iss, Subject: reg.Sub, Audience: reg.Aud, Payload: payload}
	win := window{from: -1 << 63}

	if reg.Exp == nil && v.p.RequireExpirationTime {
		return nil, window{}, fail(ReasonNoExpiration, "exp absent and require_expiration_time is set")
	}
	if reg.Exp != nil {
		exp := *reg.Exp
		if nowS >= exp+skew.Seconds() {
			return nil, window{}, fail(ReasonExpired, "exp %s is %s in the past (clock skew %s)",
				time.Unix(int64(exp), 0).UTC().Format(time.RFC3339), time.Duration((nowS-exp)*1e9).Round(time.Second), skew)
		}
		res.ExpiresAt = time.Unix(int64(exp), 0)
		win.until, win.valid = int64(exp*1e9)+int64(skew), true
	}
	if reg.Nbf != nil {
		nbf := *reg.Nbf
		if nowS+skew.Seconds() < nbf {
			return nil, window{}, fail(ReasonNotYetValid, "nbf %s is %s in the future (clock skew %s)",
				time.Unix(int64(nbf), 0).UTC().Format(time.RFC3339), time.Duration((nbf-nowS)*1e9).Round(time.Second), skew)
		}
		win.from = int64(nbf*1e9) - int64(skew)
	}

	if len(v.audiences) > 0 && !slices.ContainsFunc(reg.Aud, func(a string) bool { return v.audiences[a] }) {
		return nil, window{}, fail(ReasonAudience, "aud %s not in %v", quoteList(reg.Aud), v.p.Audiences)
	}

	if len(v.p.RequiredClaims) == 0 {
		return res, win, nil
	}
	// Only policies with required claims pay for reading every claim.
	claims, err := res.Claims()
	if err != nil {
		return nil, window{}, fail(ReasonMalformed, "the payload is not a JSON object of claims")
	}
	for _, rc := range v.p.RequiredClaims {
		val, present := claims[rc.Name]
		if !present || val == nil {
			return nil, window{}, fail(ReasonClaimMissing, "claim %s absent", quote(rc.Name))
		}
		if len(rc.Values) == 0 {
			continue
		}
		have := stringsOf(val, rc.Separator)
		if rc.Match == portal.ClaimMatchAny {
			if !slices.ContainsFunc(rc.Values, func(w string) bool { return slices.Contains(have, w) }) {
				return nil, window{}, fail(ReasonClaimValue, "claim %s values %s contain none of %v", quote(rc.Name), quoteList(have), rc.Values)
			}
			continue
		}
		for _, w := range rc.Values {
			if !slices.Contains(have, w) {
				return nil, window{}, fail(ReasonClaimValue, "claim %s values %s lack %s (match all)", quote(rc.Name), quoteList(have), quote(w))
			}
		}
	}
	return res, win, nil
}

// stringsOf returns a claim's string values: a string (split on sep when
// set, parts trimmed of spaces) or the strings of an array. Values of other
// types match nothing.
func stringsOf(v any, sep string) []string {
	switch t := v.(type) {
	case string:
		if sep == "" {
			return []string{t}
		}
		parts := strings.Split(t, sep)
		out := parts[:0]
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func quoteList(list []string) string {
	if len(list) > 10 {
		list = append(list[:10:10], "...")
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}
