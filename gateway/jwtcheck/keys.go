package jwtcheck

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Key sizes below which keys are not used: RSA keys shorter than 2048 bits
// are breakable in practice, and RFC 7518 section 3.2 asks for an HMAC key
// at least as long as the hash.
const (
	minRSABits    = 2048
	minHMACLength = 32
)

// family is the kind of key an algorithm needs.
type family uint8

const (
	famRSA family = iota + 1 // RS* and PS*
	famEC
	famEd
	famHMAC
)

// algorithm is one JWS algorithm the validator accepts.
type algorithm struct {
	name  string
	fam   family
	hash  crypto.Hash
	pss   bool
	curve elliptic.Curve // ES*: the curve the key must be on
}

// lookupAlgorithm returns the algorithm named by a token's alg header.
// Names are case-sensitive (RFC 7515 section 4.1.1).
func lookupAlgorithm(name string) (algorithm, bool) {
	switch name {
	case "RS256":
		return algorithm{name: name, fam: famRSA, hash: crypto.SHA256}, true
	case "RS384":
		return algorithm{name: name, fam: famRSA, hash: crypto.SHA384}, true
	case "RS512":
		return algorithm{name: name, fam: famRSA, hash: crypto.SHA512}, true
	case "PS256":
		return algorithm{name: name, fam: famRSA, hash: crypto.SHA256, pss: true}, true
	case "PS384":
		return algorithm{name: name, fam: famRSA, hash: crypto.SHA384, pss: true}, true
	case "PS512":
		return algorithm{name: name, fam: famRSA, hash: crypto.SHA512, pss: true}, true
	case "ES256":
		return algorithm{name: name, fam: famEC, hash: crypto.SHA256, curve: elliptic.P256()}, true
	case "ES384":
		return algorithm{name: name, fam: famEC, hash: crypto.SHA384, curve: elliptic.P384()}, true
	case "ES512":
		return algorithm{name: name, fam: famEC, hash: crypto.SHA512, curve: elliptic.P521()}, true
	case "EdDSA":
		return algorithm{name: name, fam: famEd}, true
	case "HS256":
		return algorithm{name: name, fam: famHMAC, hash: crypto.SHA256}, true
	case "HS384":
		return algorithm{name: name, fam: famHMAC, hash: crypto.SHA384}, true
	case "HS512":
		return algorithm{name: name, fam: famHMAC, hash: crypto.SHA512}, true
	}
	return algorithm{}, false
}

// key is one verification key. Exactly one of the key fields is set.
type key struct {
	kid  string
	alg  string // the JWK's alg, when it names one: the only one it may verify
	rsa  *rsa.PublicKey
	ec   *ecdsa.PublicKey
	ed   ed25519.PublicKey
	hmac []byte
}

func (k *key) family() family {
	switch {
	case k.rsa != nil:
		return famRSA
	case k.ec != nil:
		return famEC
	case k.ed != nil:
		return famEd
	}
	return famHMAC
}

// fits reports whether k may verify a token signed with a.
func (k *key) fits(a algorithm) bool {
	if k.family() != a.fam || (k.alg != "" && k.alg != a.name) {
		return false
	}
	switch a.fam {
	case famEC:
		return k.ec.Curve == a.curve
	case famHMAC:
		return len(k.hmac) >= a.hash.Size()
	}
	return true
}

// digest hashes the signing input without allocating for the hashes JWS
// uses.
func digest(h crypto.Hash, in []byte, buf *[64]byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(in)
		copy(buf[:], d[:])
		return buf[:32]
	case crypto.SHA384:
		d := sha512.Sum384(in)
		copy(buf[:], d[:])
		return buf[:48]
	default:
		d := sha512.Sum512(in)
		copy(buf[:], d[:])
		return buf[:64]
	}
}

// verify checks sig over the signing input in with k, which fits a.
func (k *key) verify(a algorithm, in, sig []byte) bool {
	var buf [64]byte
	switch a.fam {
	case famRSA:
		d := digest(a.hash, in, &buf)
		if a.pss {
			return rsa.VerifyPSS(k.rsa, a.hash, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(k.rsa, a.hash, d, sig) == nil
	case famEC:
		// JWS carries R and S as two fixed-size big-endian halves (RFC
		// 7518 section 3.4), not ASN.1.
		size := (a.curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		d := digest(a.hash, in, &buf)
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k.ec, d, r, s)
	case famEd:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, in, sig)
	case famHMAC:
		m := hmac.New(a.hash.New, k.hmac)
		m.Write(in)
		return hmac.Equal(m.Sum(buf[:0]), sig)
	}
	return false
}

// keySet is the keys of one source, by kid.
type keySet struct {
	all   []*key
	byKid map[string][]*key
}

func newKeySet(keys []*key) *keySet {
	s := &keySet{all: keys, byKid: map[string][]*key{}}
	for _, k := range keys {
		if k.kid != "" {
			s.byKid[k.kid] = append(s.byKid[k.kid], k)
		}
	}
	return s
}

// candidates appends the keys of s that may verify a token with kid and a.
// A token without kid is tried against every fitting key; a key without a
// kid (a static PEM key) is tried for any kid.
func (s *keySet) candidates(dst []*key, kid string, a algorithm) []*key {
	if s == nil {
		return dst
	}
	if kid == "" {
		for _, k := range s.all {
			if k.fits(a) {
				dst = append(dst, k)
			}
		}
		return dst
	}
	for _, k := range s.byKid[kid] {
		if k.fits(a) {
			dst = append(dst, k)
		}
	}
	for _, k := range s.all {
		if k.kid == "" && k.fits(a) {
			dst = append(dst, k)
		}
	}
	return dst
}

// parseStaticKey reads one signing_keys entry: PEM (public keys and
// certificates, any number of blocks), a JWK or JWK set, or else a base64
// symmetric key. Base64 that decodes to a public key or certificate is
// taken as that public key, never as an HMAC secret: a public key is not a
// secret.
func parseStaticKey(s string) ([]*key, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "-----BEGIN"):
		return parsePEM(s)
	case strings.HasPrefix(s, "{"):
		return parseJWKs([]byte(s), true)
	}
	raw, err := decodeBase64(s)
	if err != nil {
		return nil, errors.New("not PEM, JWK or base64")
	}
	if k, err := publicKeyFromDER(raw); err == nil {
		return []*key{k}, nil
	}
	if len(raw) < minHMACLength {
		return nil, fmt.Errorf("symmetric key of %d bytes is shorter than %d", len(raw), minHMACLength)
	}
	return []*key{{hmac: raw}}, nil
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func parsePEM(s string) ([]*key, error) {
	var keys []*key
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var k *key
		var err error
		switch b.Type {
		case "PUBLIC KEY", "CERTIFICATE":
			k, err = publicKeyFromDER(b.Bytes)
		case "RSA PUBLIC KEY":
			var pub *rsa.PublicKey
			if pub, err = x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
				k, err = fromPublic(pub)
			}
		default:
			err = fmt.Errorf("PEM block %q is not a public key or certificate", b.Type)
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM block")
	}
	return keys, nil
}

func publicKeyFromDER(der []byte) (*key, error) {
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		return fromPublic(pub)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errors.New("not a public key or certificate")
	}
	return fromPublic(cert.PublicKey)
}

func fromPublic(pub any) (*key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is shorter than %d", p.N.BitLen(), minRSABits)
		}
		return &key{rsa: p}, nil
	case *ecdsa.PublicKey:
		return &key{ec: p}, nil
	case ed25519.PublicKey:
		return &key{ed: p}, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", pub)
}

// parseJWKs reads a JWK or a JWK set. Keys that cannot be used (unknown
// types, encryption keys, short RSA keys) are skipped. Symmetric ("oct")
// keys are taken only when symmetric is set: a key set fetched from a
// provider is public, and a secret in it is never trusted.
func parseJWKs(b []byte, symmetric bool) ([]*key, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, errors.New("not a JSON object")
	}
	raws := set.Keys
	if set.Keys == nil {
		raws = []json.RawMessage{b}
	}
	keys := make([]*key, 0, len(raws))
	for _, raw := range raws {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			continue
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			continue
		}
		var k *key
		if secret, ok := jwk.Key.([]byte); ok {
			if !symmetric || len(secret) < minHMACLength {
				continue
			}
			k = &key{hmac: secret}
		} else {
			pub := jwk.Key
			if !jwk.IsPublic() {
				pub = jwk.Public().Key
			}
			var err error
			if k, err = fromPublic(pub); err != nil {
				continue
			}
		}
		k.kid, k.alg = jwk.KeyID, jwk.Algorithm
		keys = append(keys, k)
	}
	if set.Keys == nil && len(keys) == 0 {
		return nil, errors.New("not a usable JWK")
	}
	return keys, nil
}
