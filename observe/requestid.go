package observe

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

// MaxRequestIDLength bounds a caller's request id.
const MaxRequestIDLength = 128

// RequestID returns the caller's X-Request-Id when it is well formed, and a
// new id otherwise.
func RequestID(r *http.Request) string {
	if v := r.Header[RequestIDHeader]; len(v) == 1 && ValidRequestID(v[0]) {
		return v[0]
	}
	return NewRequestID()
}

// ValidRequestID accepts 1 to 128 characters of letters, digits and
// "-_.:", enough for UUIDs, trace ids and most proxies' ids, and nothing
// that could split a log line or a header.
func ValidRequestID(s string) bool {
	if s == "" || len(s) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// NewRequestID returns 128 random bits as 32 hex characters.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
