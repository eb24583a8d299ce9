package portal

import (
	"errors"
	"fmt"
)

// Error codes. They say what kind of failure happened, not which status code
// an edge answers with.
const (
	ECONFLICT     = "conflict"     // a unique name, email or key is taken, or a rule between objects is broken
	EINTERNAL     = "internal"     // a bug or an unavailable dependency; never shown to users
	EINVALID      = "invalid"      // the input breaks a validation rule; the message says which
	ENOTFOUND     = "not_found"    // no such object (or the caller may not know it exists)
	EUNAUTHORIZED = "unauthorized" // the caller is not signed in, or the credentials are wrong
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	EUNAVAILABLE  = "unavailable"  // a service the portal depends on (an identity provider) cannot be reached now; the message says so
)

// Error is a failure that is safe to show: Message is written for the user.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("portal error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted user-facing message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain, "" for nil, and a constant text for any other error so that
// internal details never reach users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
