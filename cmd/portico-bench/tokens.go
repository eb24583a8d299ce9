package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// The claims every bench token carries, and the gateway's policy checks.
const (
	benchIssuer   = "https://idp.bench.example/"
	benchAudience = "api://bench"
)

// tokenIssuer mints RS256 tokens with a key of its own, as an identity
// provider would; the gateway trusts its public key as a static signing key.
type tokenIssuer struct {
	key       *rsa.PrivateKey
	publicPEM string
	header    string // the encoded JOSE header, the same for every token
}

func newTokenIssuer() (*tokenIssuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "bench"})
	return &tokenIssuer{
		key:       key,
		publicPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		header:    base64.RawURLEncoding.EncodeToString(h),
	}, nil
}

// mint returns the n-th token: distinct tokens for distinct n.
func (ti *tokenIssuer) mint(n int) string {
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{
		"iss": benchIssuer, "aud": benchAudience, "sub": "bench-client", "jti": strconv.Itoa(n),
		"iat": now, "nbf": now - 60, "exp": now + 3600, "scope": "items.read",
	})
	signing := ti.header + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, ti.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // a 2048-bit key of our own cannot fail to sign
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// mintMany mints n distinct tokens on every core.
func (ti *tokenIssuer) mintMany(n int) []string {
	out := make([]string, n)
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = ti.mint(i + 1)
			}
		}(w)
	}
	wg.Wait()
	return out
}
