package auth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

func newStore(t *testing.T) (*sqlite.Store, *keyring.Keyring) {
	t.Helper()
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
	return st, keys
}

func TestNew(t *testing.T) {
	st, keys := newStore(t)
	for _, tc := range []struct {
		name string
		c    auth.Config
		want string // cookie name, or "" for an error
	}{
		{"https", auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys, PublicURL: "https://portal.example.com"}, "__Host-portico"},
		{"http", auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys, PublicURL: "http://localhost:8080"}, "portico"},
		{"no public URL", auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys}, "portico"},
		{"bad public URL", auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys, PublicURL: "portal.example.com"}, ""},
		{"no sessions", auth.Config{Users: st, Settings: st, Keys: keys}, ""},
		{"no keys", auth.Config{Sessions: st, Users: st, Settings: st}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(tc.c)
			if tc.want == "" {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.CookieName() != tc.want {
				t.Fatalf("cookie %q, want %q", a.CookieName(), tc.want)
			}
		})
	}
}

// TestRequire: the guards pass the right users and report the others
// through the caller's error function.
func TestRequire(t *testing.T) {
	admin := &portal.User{ID: 1, Role: portal.RoleAdmin, State: portal.UserActive}
	dev := &portal.User{ID: 2, Role: portal.RoleDeveloper, State: portal.UserActive}
	for _, tc := range []struct {
		name     string
		guard    func(auth.ErrorFunc) func(http.Handler) http.Handler
		user     *portal.User
		wantCode string // "" when the request passes
	}{
		{"user, anonymous", auth.RequireUser, nil, portal.EUNAUTHORIZED},
		{"user, developer", auth.RequireUser, dev, ""},
		{"admin, anonymous", auth.RequireAdmin, nil, portal.EUNAUTHORIZED},
		{"admin, developer", auth.RequireAdmin, dev, portal.EFORBIDDEN},
		{"admin, admin", auth.RequireAdmin, admin, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got error
			passed := false
			h := tc.guard(func(w http.ResponseWriter, r *http.Request, err error) { got = err })(
				http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true }))
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.user != nil {
				r = r.WithContext(portal.NewContextWithUser(r.Context(), tc.user))
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if passed != (tc.wantCode == "") || portal.ErrorCode(got) != tc.wantCode && tc.wantCode != "" {
				t.Fatalf("passed %v, error %v; want code %q", passed, got, tc.wantCode)
			}
		})
	}
}

// failingSessions is a session store that cannot be read.
type failingSessions struct{ portal.SessionService }

func (failingSessions) FindSession(context.Context, string, time.Time) (*portal.Session, error) {
	return nil, errors.New("disk on fire")
}

// TestStoreFailure: when sessions cannot be read, the visitor is anonymous
// to public pages, and guarded pages answer with the failure rather than a
// sign-in page that could not help.
func TestStoreFailure(t *testing.T) {
	st, keys := newStore(t)
	a, err := auth.New(auth.Config{Sessions: failingSessions{st}, Users: st, Settings: st, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	var got error
	var user *portal.User
	h := a.Authenticate(auth.RequireUser(func(w http.ResponseWriter, r *http.Request, err error) { got = err })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { user = portal.UserFromContext(r.Context()) })))
	r := httptest.NewRequest(http.MethodGet, "/profile", nil)
	r.Header.Set("Cookie", "portico="+strings.Repeat("A", 43))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if user != nil || portal.ErrorCode(got) != portal.EINTERNAL || !strings.Contains(got.Error(), "disk on fire") {
		t.Fatalf("user %v, error %v", user, got)
	}
}
