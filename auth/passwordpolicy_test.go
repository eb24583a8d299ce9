package auth_test

import (
	"strings"
	"testing"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		pw    string
		min   int
		email string
		ok    bool
	}{
		{"correct horse battery staple", 0, "a@example.com", true},
		{"пароль-из-слов", 0, "", true},             // non-ASCII counts characters, not bytes
		{"密码很长很长", 6, "", true},                     // 6 characters, 18 bytes
		{"密码很长很", 6, "", false},                     // 5 characters, 15 bytes
		{strings.Repeat("long ", 200), 0, "", true}, // 1,000 bytes
		{strings.Repeat("x", 1025), 0, "", false},   // too long to hash
		{"k3#Lm9q", 0, "", false},                   // 7 < 8
		{"k3#Lm9", 6, "", true},                     // an administrator allows 6
		{"password", 0, "", false},
		{"PassWord123", 0, "", false}, // common, whatever the case
		{"  qwertyuiop ", 0, "", false},
		{"iloveyou", 6, "", false},
		{"Dee@Example.com", 0, "dee@example.com", false},
		{"deedeedee", 0, "deedeedee@example.com", false},
		{"aaaaaaaaaaaa", 0, "", false},
		{"\xff\xfe invalid text", 0, "", false},
	} {
		err := auth.CheckNewPassword(tc.pw, tc.min, tc.email)
		if (err == nil) != tc.ok {
			t.Errorf("CheckNewPassword(%.20q, %d, %q) = %v, want ok=%v", tc.pw, tc.min, tc.email, err, tc.ok)
		}
		if err != nil && portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("CheckNewPassword(%.20q): code %q, want invalid", tc.pw, portal.ErrorCode(err))
		}
	}
}

// TestCommonPasswordList: the embedded list is a few hundred entries, all
// found again, and ordinary passphrases are not in it.
func TestCommonPasswordList(t *testing.T) {
	for _, pw := range []string{"123456", "password", "qwerty123", "letmein", "welcome1", "P@ssw0rd", "1q2w3e4r", "monkey"} {
		if !auth.IsCommonPassword(pw) {
			t.Errorf("%q is not in the list", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "k3#Lm9q!", "Ünïcödé passphrase"} {
		if auth.IsCommonPassword(pw) {
			t.Errorf("%q is in the list", pw)
		}
	}
}
