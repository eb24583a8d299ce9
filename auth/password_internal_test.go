package auth

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
	"golang.org/x/crypto/argon2"
)

// hashCall is one argon2id key derivation: its cost parameters.
type hashCall struct {
	time, memory uint32
	threads      uint8
}

// TestUnknownEmailCostsAHash: signing in with an unknown email, or to an
// account without a password, derives one argon2id key with the same
// parameters as a wrong password for a known account, so that the time
// taken does not tell which addresses have accounts.
func TestUnknownEmailCostsAHash(t *testing.T) {
	ctx := context.Background()
	keys, err := keyring.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "auth.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hash, err := HashPassword("the right password")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*portal.User{
		{Email: "known@example.com", Name: "Known", PasswordHash: hash},
		{Email: "nopassword@example.com", Name: "No Password"},
	} {
		u.Role, u.State = portal.RoleDeveloper, portal.UserActive
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(Config{Sessions: st, Users: st, Settings: st, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	var calls []hashCall
	a.idKey = func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		calls = append(calls, hashCall{time, memory, threads})
		return argon2.IDKey(pw, salt, time, memory, threads, keyLen)
	}
	want := hashCall{argonTime, argonMemory, argonThreads}
	for _, email := range []string{"known@example.com", "unknown@example.com", "nopassword@example.com"} {
		t.Run(email, func(t *testing.T) {
			calls = nil
			r := httptest.NewRequest(http.MethodPost, "/signin", nil)
			if _, err := a.SignIn(ctx, httptest.NewRecorder(), r, email, "a wrong password"); portal.ErrorCode(err) != portal.EUNAUTHORIZED {
				t.Fatalf("SignIn = %v, want EUNAUTHORIZED", err)
			}
			if len(calls) != 1 || calls[0] != want {
				t.Fatalf("hashes = %+v, want one with %+v", calls, want)
			}
		})
	}
}
