package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinSecretLength is the shortest master secret accepted, in bytes.
const MinSecretLength = 32

// sealVersion prefixes every sealed value so that the format can change.
const sealVersion = 1

// Keyring holds the keys derived from the master secret. It is safe for
// concurrent use.
type Keyring struct {
	lookup      []byte
	aead        cipher.AEAD
	cookieHash  []byte
	cookieBlock []byte
}

// New derives the keys from secret with HKDF-SHA256, one info label each,
// so that no key is used for two purposes.
func New(secret []byte) (*Keyring, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("secret must be at least %d bytes, got %d", MinSecretLength, len(secret))
	}
	derive := func(label string, n int) []byte {
		k, err := hkdf.Key(sha256.New, secret, nil, "portico "+label, n)
		if err != nil {
			panic(err) // only for lengths beyond 255*32 bytes
		}
		return k
	}
	block, err := aes.NewCipher(derive("seal v1", 32))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{
		lookup:      derive("lookup v1", 32),
		aead:        aead,
		cookieHash:  derive("cookie hash v1", 64),
		cookieBlock: derive("cookie block v1", 32),
	}, nil
}

// KeyHash returns HMAC-SHA256(key) under the lookup key.
func (k *Keyring) KeyHash(key string) []byte {
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte(key))
	return m.Sum(nil)
}

// Seal encrypts and authenticates plaintext with a random nonce.
func (k *Keyring) Seal(plaintext []byte) []byte {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return k.aead.Seal(out, out[1:], plaintext, out[:1])
}

// ErrOpen is returned when a sealed value was altered or sealed under
// another secret.
var ErrOpen = errors.New("keyring: sealed value cannot be opened (altered, or sealed with another secret)")

// Open reverses Seal.
func (k *Keyring) Open(sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrOpen
	}
	p, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealed[:1])
	if err != nil {
		return nil, ErrOpen
	}
	return p, nil
}

// CookieKeys returns the hash (64 bytes) and block (32 bytes) keys for
// gorilla/securecookie.
func (k *Keyring) CookieKeys() (hashKey, blockKey []byte) {
	return k.cookieHash, k.cookieBlock
}
