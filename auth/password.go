package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/porticoapi/portico/portal"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters, OWASP's second recommended set (19 MiB, 2 passes,
// one lane): a sign-in costs about 20 ms on one core, and a store of
// hashes costs an attacker the same per guess.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Password length limits. The maximum keeps a hash from being a denial of
// service; 1,024 bytes is far beyond any passphrase.
const (
	MinPasswordLength = 8
	MaxPasswordBytes  = 1024
)

// ValidatePassword checks a new password's length in characters (so that
// non-ASCII passwords count as typed). minLength 0 means MinPasswordLength.
func ValidatePassword(pw string, minLength int) error {
	if minLength <= 0 {
		minLength = MinPasswordLength
	}
	if !utf8.ValidString(pw) {
		return portal.Errorf(portal.EINVALID, "Password must be valid text.")
	}
	if utf8.RuneCountInString(pw) < minLength {
		return portal.Errorf(portal.EINVALID, "Password must be at least %d characters.", minLength)
	}
	if len(pw) > MaxPasswordBytes {
		return portal.Errorf(portal.EINVALID, "Password must be at most %d bytes.", MaxPasswordBytes)
	}
	return nil
}

// HashPassword returns an argon2id hash of pw in PHC string form.
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", portal.Errorf(portal.EINVALID, "Password must be at most %d bytes.", MaxPasswordBytes)
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// dummyHash is verified against when a user does not exist, so that
// answering for an unknown email costs as much as for a known one.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3/uGMZqRLr8YZ9fd8iRwbl2lFMKbvRJ3CrnJrAtEW3A"

// VerifyPassword reports whether pw matches hash, in constant time. An
// empty or malformed hash is checked against a dummy hash and fails, so the
// time taken does not tell whether the account exists or has a password.
func VerifyPassword(hash, pw string) bool {
	return verifyPassword(hash, pw, argon2.IDKey)
}

// keyFunc derives an argon2id key; argon2.IDKey, or a counting one in
// tests that check that every answer costs a hash.
type keyFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

func verifyPassword(hash, pw string, idKey keyFunc) bool {
	ok := hash != ""
	p, err := parseHash(hash)
	if err != nil {
		ok = false
		p, _ = parseHash(dummyHash)
	}
	if len(pw) > MaxPasswordBytes {
		ok = false
		pw = pw[:MaxPasswordBytes]
	}
	key := idKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1 && ok
}

type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseHash(s string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, fmt.Errorf("not an argon2id hash")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("argon2id parameters: %w", err)
	}
	// Bound the work a stored hash can demand: hashes come from our own
	// store, but a restored or hand-edited row must not stall sign-in.
	if p.memory < 8*1024 || p.memory > 256*1024 || p.time < 1 || p.time > 10 || p.threads < 1 || p.threads > 8 {
		return p, fmt.Errorf("argon2id parameters out of range")
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, fmt.Errorf("argon2id salt")
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, fmt.Errorf("argon2id key")
	}
	return p, nil
}
