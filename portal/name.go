package portal

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// MaxNameLength bounds the names of APIs, products, subscriptions and
// identity providers.
const MaxNameLength = 80

// ValidName reports whether s can name an object and appear unescaped in a
// URL path segment: letters, digits, '-', '_' and '.', starting with a letter
// or digit.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}

func validateName(kind, name string) error {
	if name == "" {
		return Errorf(EINVALID, "%s name required.", kind)
	} else if !ValidName(name) {
		return Errorf(EINVALID, "%s name %q must be 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit.", kind, name, MaxNameLength)
	}
	return nil
}

// ReservedGatewayPaths are served by every listener and never proxied, so
// no API may start with them.
var reservedGatewayPaths = []string{"healthz", "readyz", "metrics"}

// ValidateAPIPath checks an API's gateway path: one or more URL-safe
// segments separated by '/', without leading or trailing slash.
func ValidateAPIPath(p string) error {
	if p == "" {
		return Errorf(EINVALID, "API path required.")
	} else if len(p) > 400 {
		return Errorf(EINVALID, "API path must be at most 400 characters.")
	}
	segments := strings.Split(p, "/")
	for _, seg := range segments {
		if seg == "" || seg == "." || seg == ".." {
			return Errorf(EINVALID, "API path %q must be segments separated by single '/', without a leading or trailing '/'.", p)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
				return Errorf(EINVALID, "API path %q may only contain letters, digits, '-', '_', '.', '~' and '/'.", p)
			}
		}
	}
	for _, r := range reservedGatewayPaths {
		if strings.EqualFold(segments[0], r) {
			return Errorf(EINVALID, "API path %q is reserved for the gateway's own %s endpoint.", p, "/"+r)
		}
	}
	return nil
}

// KeyLength is the length of a generated subscription key: 32 lowercase hex
// characters, 128 bits from crypto/rand.
const KeyLength = 32

// GenerateKey returns a new random subscription key.
func GenerateKey() string {
	b := make([]byte, KeyLength/2)
	rand.Read(b) // never fails since Go 1.24; it crashes the program instead
	return hex.EncodeToString(b)
}

// ValidateKey checks a subscription key chosen by an administrator or a
// config file: 16 to 256 visible ASCII characters, so it fits a header and a
// query parameter unchanged and is not trivially guessable.
func ValidateKey(key string) error {
	if len(key) < 16 || len(key) > 256 {
		return Errorf(EINVALID, "Subscription key must be 16 to 256 characters.")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c > '~' || c == '&' || c == '#' || c == '%' || c == '+' {
			return Errorf(EINVALID, "Subscription key may only contain visible ASCII characters other than '&', '#', '%%' and '+'.")
		}
	}
	return nil
}
