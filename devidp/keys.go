package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Algorithm is a JWS signing algorithm the provider can sign with.
type Algorithm string

// Algorithms of Mint. The RSA ones share one RSA key, ES256 uses a P-256
// key and EdDSA an Ed25519 key; each key has its own kid.
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	EdDSA Algorithm = "EdDSA"
)

// keySet is one generation of signing keys.
type keySet struct {
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	ed     ed25519.PrivateKey
	rsaKid string
	ecKid  string
	edKid  string
}

func newKeySet() (*keySet, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate RSA key: %w", err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate EC key: %w", err)
	}
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate Ed25519 key: %w", err)
	}
	return &keySet{rsa: rk, ec: ek, ed: edk, rsaKid: "rsa-" + randomID(), ecKid: "ec-" + randomID(), edKid: "ed-" + randomID()}, nil
}

// signer returns the private key and kid for alg.
func (k *keySet) signer(alg Algorithm) (crypto.Signer, string, error) {
	switch alg {
	case RS256, RS384, RS512, PS256, PS384, PS512:
		return k.rsa, k.rsaKid, nil
	case ES256:
		return k.ec, k.ecKid, nil
	case EdDSA:
		return k.ed, k.edKid, nil
	}
	return nil, "", fmt.Errorf("devidp: unsupported algorithm %q", alg)
}

func (k *keySet) publicJWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.rsa.PublicKey, KeyID: k.rsaKid, Use: "sig"},
		{Key: &k.ec.PublicKey, KeyID: k.ecKid, Algorithm: string(ES256), Use: "sig"},
		{Key: k.ed.Public(), KeyID: k.edKid, Algorithm: string(EdDSA), Use: "sig"},
	}}
}

// RotateKeys replaces every signing key with a new one under a new kid.
// The old keys leave the JWKS at once.
func (p *Provider) RotateKeys() error {
	ks, err := newKeySet()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.keys = ks
	p.mu.Unlock()
	return nil
}

// KeyID returns the kid of the current key for alg.
func (p *Provider) KeyID(alg Algorithm) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, kid, _ := p.keys.signer(alg)
	return kid
}

// PublicKeyPEM returns the current public key for alg as a PEM "PUBLIC
// KEY" block, as an administrator would paste it into signing_keys.
func (p *Provider) PublicKeyPEM(alg Algorithm) string {
	p.mu.Lock()
	s, _, err := p.keys.signer(alg)
	p.mu.Unlock()
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// PublicJWK returns the current public key for alg as a JWK (with its kid).
func (p *Provider) PublicJWK(alg Algorithm) string {
	p.mu.Lock()
	s, kid, err := p.keys.signer(alg)
	p.mu.Unlock()
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: s.Public(), KeyID: kid, Use: "sig"})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// A MintOption changes how Mint signs.
type MintOption func(*mintOptions)

type mintOptions struct {
	alg         Algorithm
	kid         *string
	header      map[jose.HeaderKey]any
	unpublished bool
	none        string // the alg spelling of an unsigned token, when set
	hmacAlg     jose.SignatureAlgorithm
	hmacKey     []byte
}

// WithAlgorithm signs with alg (default RS256).
func WithAlgorithm(alg Algorithm) MintOption { return func(o *mintOptions) { o.alg = alg } }

// WithKeyID sets the kid header to kid instead of the signing key's; ""
// leaves the header out.
func WithKeyID(kid string) MintOption { return func(o *mintOptions) { o.kid = &kid } }

// WithHeader adds a protected header field (it may also replace alg or
// kid, after signing choices are made).
func WithHeader(name string, value any) MintOption {
	return func(o *mintOptions) {
		if o.header == nil {
			o.header = map[jose.HeaderKey]any{}
		}
		o.header[jose.HeaderKey(name)] = value
	}
}

// WithUnpublishedKey signs with a key of the same kind that is not in the
// JWKS, under the published key's kid: a forged token.
func WithUnpublishedKey() MintOption { return func(o *mintOptions) { o.unpublished = true } }

// WithAlgNone makes an unsigned token (empty signature) whose alg header
// is spelling ("none", "None", "NONE", ...).
func WithAlgNone(spelling string) MintOption { return func(o *mintOptions) { o.none = spelling } }

// WithHMAC signs with an HMAC algorithm ("HS256", "HS384", "HS512") and
// secret, for symmetric-key tests and for the attack that uses a public
// key's bytes as the secret. No kid is set unless WithKeyID says so.
func WithHMAC(alg string, secret []byte) MintOption {
	return func(o *mintOptions) { o.hmacAlg, o.hmacKey = jose.SignatureAlgorithm(alg), secret }
}

// Mint signs claims as a JWT. Claims the map lacks get defaults: iss (the
// provider), iat (now) and exp (now + TokenTTL); a claim whose value is nil
// is left out, so {"exp": nil} makes a token without expiry. It panics if
// signing fails, which only a bad option can cause.
func (p *Provider) Mint(claims map[string]any, opts ...MintOption) string {
	o := mintOptions{alg: RS256}
	for _, f := range opts {
		f(&o)
	}
	now := p.now()
	full := map[string]any{"iss": p.issuer, "iat": now.Unix(), "exp": now.Add(p.ttl).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(full, k)
			continue
		}
		full[k] = v
	}
	tok, err := p.mint(full, o)
	if err != nil {
		panic(err)
	}
	return tok
}

func (p *Provider) mint(claims map[string]any, o mintOptions) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: encode claims: %w", err)
	}
	if o.none != "" {
		h := map[string]any{"alg": o.none, "typ": "JWT"}
		if o.kid != nil && *o.kid != "" {
			h["kid"] = *o.kid
		}
		for k, v := range o.header {
			h[string(k)] = v
		}
		hb, err := json.Marshal(h)
		if err != nil {
			return "", err
		}
		enc := base64.RawURLEncoding
		return enc.EncodeToString(hb) + "." + enc.EncodeToString(payload) + ".", nil
	}

	var sk jose.SigningKey
	if o.hmacKey != nil {
		kid := ""
		if o.kid != nil {
			kid = *o.kid
		}
		sk = jose.SigningKey{Algorithm: o.hmacAlg, Key: jose.JSONWebKey{Key: o.hmacKey, KeyID: kid}}
	} else {
		p.mu.Lock()
		ks, published := p.keys, p.keys
		if o.unpublished {
			ks = p.unpublished
		}
		p.mu.Unlock()
		key, _, err := ks.signer(o.alg)
		if err != nil {
			return "", err
		}
		_, kid, _ := published.signer(o.alg)
		if o.kid != nil {
			kid = *o.kid
		}
		sk = jose.SigningKey{Algorithm: jose.SignatureAlgorithm(o.alg), Key: jose.JSONWebKey{Key: key, KeyID: kid}}
	}
	so := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range o.header {
		so = so.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(sk, so)
	if err != nil {
		return "", fmt.Errorf("devidp: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devidp: sign: %w", err)
	}
	return jws.CompactSerialize()
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
