package auth_test

import (
	"strings"
	"testing"

	"github.com/porticoapi/portico/auth"
)

func TestHashAndVerifyPassword(t *testing.T) {
	for _, pw := range []string{
		"correct horse battery staple",
		"pässwörd-ünïcödé-密码",
		strings.Repeat("long", 256), // 1,024 bytes
	} {
		h, err := auth.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("hash %q is not argon2id in PHC form", h)
		}
		if !auth.VerifyPassword(h, pw) {
			t.Fatalf("VerifyPassword rejects the right password %.20q", pw)
		}
		if auth.VerifyPassword(h, pw+"x") || auth.VerifyPassword(h, pw[:len(pw)-1]) {
			t.Fatalf("VerifyPassword accepts a wrong password for %.20q", pw)
		}
		h2, _ := auth.HashPassword(pw)
		if h == h2 {
			t.Fatal("two hashes of one password are equal; the salt is not random")
		}
	}
	if _, err := auth.HashPassword(strings.Repeat("x", 1025)); err == nil {
		t.Fatal("HashPassword accepted 1,025 bytes")
	}
}

func TestVerifyPasswordRefusesBadHashes(t *testing.T) {
	for _, h := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3/uGMZqRLr8YZ9fd8iRwbl2lFMKbvRJ3CrnJrAtEW3A",
		"$argon2id$v=19$m=999999999,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3/uGMZqRLr8YZ9fd8iRwbl2lFMKbvRJ3CrnJrAtEW3A",
	} {
		if auth.VerifyPassword(h, "anything") {
			t.Fatalf("VerifyPassword(%q) = true", h)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		pw  string
		min int
		ok  bool
	}{
		{"1234567", 0, false},
		{"12345678", 0, true},
		{"123456", 6, true},
		{"ääääääää", 0, true}, // 8 characters, 16 bytes
		{"äääääää", 0, false},
		{strings.Repeat("x", 1025), 0, false},
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", 0, false},
	} {
		if err := auth.ValidatePassword(tc.pw, tc.min); (err == nil) != tc.ok {
			t.Errorf("ValidatePassword(%.12q, %d) = %v, want ok=%v", tc.pw, tc.min, err, tc.ok)
		}
	}
}
