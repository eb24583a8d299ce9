package auth

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"github.com/porticoapi/portico/portal"
)

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the set read from common_passwords.txt, built on
// first use and never changed after.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 512)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// IsCommonPassword reports whether pw, ignoring case and surrounding
// spaces, is one of the few hundred passwords that guessing tries first.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(pw))]
	return ok
}

// CheckNewPassword checks a password that a person chooses (at sign-up,
// reset or change): the length rules of ValidatePassword with minLength
// (0: MinPasswordLength), not one of the most common passwords, not the
// account's email address or the part before its @, and not one character
// repeated. Any other character, of any script, is allowed; nothing else
// is demanded (no composition rules), as NIST SP 800-63B advises.
func CheckNewPassword(pw string, minLength int, email string) error {
	if err := ValidatePassword(pw, minLength); err != nil {
		return err
	}
	if IsCommonPassword(pw) {
		return portal.Errorf(portal.EINVALID, "This password is among the most commonly used ones, which are tried first. Choose another.")
	}
	lower := strings.ToLower(strings.TrimSpace(pw))
	email = portal.NormalizeEmail(email)
	local, _, _ := strings.Cut(email, "@")
	if email != "" && (lower == email || lower == local) {
		return portal.Errorf(portal.EINVALID, "Your password must not be your email address.")
	}
	if repeated(pw) {
		return portal.Errorf(portal.EINVALID, "Your password must not be one character repeated.")
	}
	return nil
}

// repeated reports whether s is one character (ignoring spaces) over and
// over.
func repeated(s string) bool {
	var first rune = -1
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		if first == -1 {
			first = r
		} else if r != first {
			return false
		}
	}
	return true
}
