package jwtcheck

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"

	"github.com/porticoapi/portico/devidp"
)

// benchPool is a set of distinct RS256 tokens from one provider, minted
// once per benchmark run.
type benchPool struct {
	idp    *devidp.Provider
	clk    *clock
	tokens []string
}

func newBenchPool(b *testing.B, n int) *benchPool {
	b.Helper()
	clk := newClock()
	idp := startIDP(b, clk)
	p := &benchPool{idp: idp, clk: clk}
	for i := range n {
		p.tokens = append(p.tokens, idp.Mint(map[string]any{
			"aud": "api://echo", "sub": "client-" + strconv.Itoa(i), "azp": "client-app",
			"scope": "orders.read orders.write", "roles": []string{"reader"}, "jti": strconv.Itoa(i),
		}))
	}
	return p
}

// BenchmarkRawRSAVerify is the floor: rsa.VerifyPKCS1v15 of one token's
// signature over its precomputed SHA-256 digest.
func BenchmarkRawRSAVerify(b *testing.B) {
	p := newBenchPool(b, 1)
	blk, _ := pem.Decode([]byte(p.idp.PublicKeyPEM(devidp.RS256)))
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	tok := p.tokens[0]
	dot := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte(tok[:dot]))
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateUncachedRS256 validates a different token each time
// (a pool of 256), with a cache of one entry so that every lookup misses
// and every success is stored: the full cost of a fresh token.
func BenchmarkValidateUncachedRS256(b *testing.B) {
	p := newBenchPool(b, 256)
	pol := policy(p.idp)
	v := newValidator(b, pol, p.clk, func(c *Config) { c.CacheSize = 1 })
	ctx := context.Background()
	if _, f := v.Validate(ctx, p.tokens[0]); f != nil { // fetches the keys
		b.Fatal(f)
	}
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		if _, f := v.Validate(ctx, p.tokens[i%len(p.tokens)]); f != nil {
			b.Fatal(f)
		}
		i++
	}
}

// BenchmarkValidateCached validates the same token again and again.
func BenchmarkValidateCached(b *testing.B) {
	p := newBenchPool(b, 1)
	v := newValidator(b, policy(p.idp), p.clk, nil)
	ctx := context.Background()
	if _, f := v.Validate(ctx, p.tokens[0]); f != nil {
		b.Fatal(f)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, f := v.Validate(ctx, p.tokens[0]); f != nil {
			b.Fatal(f)
		}
	}
}
