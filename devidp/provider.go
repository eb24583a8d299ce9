package devidp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultTokenTTL is the lifetime of the access tokens /token issues.
const DefaultTokenTTL = time.Hour

// Paths the provider serves, relative to its issuer URL.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	JWKSPath          = "/jwks"
	TokenPath         = "/token"
	AuthorizationPath = "/authorize"
)

// Config is what a Provider needs.
type Config struct {
	// Issuer is the provider's own base URL, e.g. "http://127.0.0.1:41234",
	// without a trailing slash. Callers listen first, then build the
	// provider with the listener's address. The issuer may have a path
	// ("http://localhost:8080/dev-idp"): the provider then answers the
	// full paths under it, so that it can be mounted at that path of a
	// larger server.
	Issuer string
	// Now is the clock for issued tokens; nil: time.Now.
	Now func() time.Time
	// TokenTTL is the lifetime of tokens from /token; 0: DefaultTokenTTL.
	TokenTTL time.Duration
	// EntraIssuerBase turns on Entra mode, e.g.
	// "https://login.microsoftonline.com": ID tokens then carry tid and oid
	// and the issuer {EntraIssuerBase}/{tid}/v2.0 of the user's tenant, and
	// discovery is also served at /{tenant}/v2.0/.well-known/openid-configuration
	// (with the {tenantid} issuer template for organizations and common).
	EntraIssuerBase string
}

// Provider is the development OpenID Connect provider. Its methods are
// safe for concurrent use.
type Provider struct {
	issuer string
	now    func() time.Time
	ttl    time.Duration
	mux    http.Handler

	mu              sync.Mutex
	keys            *keySet
	unpublished     *keySet // same kinds of keys, never in the JWKS
	clients         map[string]client
	discoveryIssuer string // "" : the real issuer
	down            bool
	oversized       bool
	entraBase       string
	users           []User
	redirects       map[string][]string
	codes           map[string]grant
	access          map[string]accessGrant
	misbehaviour    Misbehaviour
	octKey          []byte // the symmetric key HMACPublishedKey publishes

	jwksFetches      atomic.Int64
	discoveryFetches atomic.Int64
	tokensIssued     atomic.Int64
}

// New generates the provider's keys and builds its routes.
func New(c Config) (*Provider, error) {
	iu, err := url.Parse(c.Issuer)
	if c.Issuer == "" || err != nil || (iu.Scheme != "http" && iu.Scheme != "https") || iu.Host == "" || iu.RawQuery != "" || iu.Fragment != "" {
		return nil, errors.New("devidp: Config.Issuer must be an http or https URL without query or fragment")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	keys, err := newKeySet()
	if err != nil {
		return nil, err
	}
	unpublished, err := newKeySet()
	if err != nil {
		return nil, err
	}
	octKey := make([]byte, 32)
	randRead(octKey)
	p := &Provider{
		octKey:      octKey,
		issuer:      strings.TrimSuffix(c.Issuer, "/"),
		now:         c.Now,
		ttl:         c.TokenTTL,
		keys:        keys,
		unpublished: unpublished,
		clients:     map[string]client{},
		entraBase:   strings.TrimSuffix(c.EntraIssuerBase, "/"),
		redirects:   map[string][]string{},
		codes:       map[string]grant{},
		access:      map[string]accessGrant{},
	}
	p.mux = p.routes()
	if prefix := strings.TrimSuffix(iu.Path, "/"); prefix != "" {
		p.mux = http.StripPrefix(prefix, p.mux)
	}
	return p, nil
}

// Issuer returns the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// DiscoveryURL returns the URL of the discovery document.
func (p *Provider) DiscoveryURL() string { return p.issuer + DiscoveryPath }

// ServeHTTP serves the provider's endpoints, or 503 on everything while
// the provider is down.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	p.mux.ServeHTTP(w, r)
}

// SetDown makes every endpoint answer 503 (true) or serve again (false).
func (p *Provider) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// SetDiscoveryIssuer makes the discovery document advertise issuer instead
// of the real one; "" restores the real one. Tokens keep the real issuer.
func (p *Provider) SetDiscoveryIssuer(issuer string) {
	p.mu.Lock()
	p.discoveryIssuer = issuer
	p.mu.Unlock()
}

// SetOversizedJWKS pads the JWKS document past 2 MiB (true), so that
// clients can show they refuse documents that are too large.
func (p *Provider) SetOversizedJWKS(on bool) {
	p.mu.Lock()
	p.oversized = on
	p.mu.Unlock()
}

// JWKSFetches returns how many times /jwks was served (while up).
func (p *Provider) JWKSFetches() int { return int(p.jwksFetches.Load()) }

// DiscoveryFetches returns how many times the discovery document was
// served (while up).
func (p *Provider) DiscoveryFetches() int { return int(p.discoveryFetches.Load()) }

// TokensIssued returns how many tokens /token issued.
func (p *Provider) TokensIssued() int { return int(p.tokensIssued.Load()) }

type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	p.serveDiscovery(w, p.issuer)
}

// serveDiscovery answers with the discovery document advertising iss
// (unless SetDiscoveryIssuer overrides it).
func (p *Provider) serveDiscovery(w http.ResponseWriter, iss string) {
	p.discoveryFetches.Add(1)
	algs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	p.mu.Lock()
	if p.discoveryIssuer != "" {
		iss = p.discoveryIssuer
	}
	if p.misbehaviour == HMACClientSecret || p.misbehaviour == HMACPublishedKey {
		algs = append([]string{"HS256", "none"}, algs...)
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                            iss,
		AuthorizationEndpoint:             p.issuer + AuthorizationPath,
		TokenEndpoint:                     p.issuer + TokenPath,
		JWKSURI:                           p.issuer + JWKSPath,
		ResponseTypesSupported:            []string{"code"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  algs,
		GrantTypesSupported:               []string{"authorization_code", "client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		ScopesSupported:                   []string{"openid", "profile", "email"},
		UserInfoEndpoint:                  p.issuer + UserInfoPath,
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsSupported:                   []string{"iss", "aud", "sub", "iat", "exp", "nonce", "email", "email_verified", "name", "tid", "oid", "xms_edov"},
	})
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	p.jwksFetches.Add(1)
	p.mu.Lock()
	set := p.keys.publicJWKS()
	oversized := p.oversized
	if p.misbehaviour == HMACPublishedKey {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: p.octKey, KeyID: octKeyID, Algorithm: "HS256", Use: "sig"})
	}
	p.mu.Unlock()
	if !oversized {
		writeJSON(w, http.StatusOK, set)
		return
	}
	// A valid document that is simply too big: the real keys, and a
	// member no client reads, filled with 2 MiB of hex.
	pad := make([]byte, 1<<20)
	randRead(pad)
	writeJSON(w, http.StatusOK, map[string]any{"keys": set.Keys, "padding": hex.EncodeToString(pad)})
}

// randRead fills b from crypto/rand, which never fails since Go 1.24.
func randRead(b []byte) { rand.Read(b) }

// writeJSON answers with v as JSON; the provider's answers are never
// cached by clients on their own (RFC 6749 section 5.1 asks for no-store on
// tokens, and tests want every fetch to reach the provider).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
