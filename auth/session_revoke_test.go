package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

// TestRevokedSessionNotWrittenBack: a request that loaded its session
// before another request revoked it (a password change, a block, a
// sign-out elsewhere) does not write the session back when it saves it
// (a flash, the idle deadline's slide): the row stays gone, the cookie is
// deleted, and the request goes on anonymous.
func TestRevokedSessionNotWrittenBack(t *testing.T) {
	st, keys := newStore(t)
	ctx := context.Background()
	u := &portal.User{Email: "dev@example.com", Name: "Dee", Role: portal.RoleDeveloper, State: portal.UserActive}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() *http.Cookie {
		t.Helper()
		w := httptest.NewRecorder()
		if err := a.StartSession(ctx, w, httptest.NewRequest(http.MethodPost, "/signin", nil), u); err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0]
	}
	deleted := func(w *httptest.ResponseRecorder) bool {
		for _, c := range w.Result().Cookies() {
			if c.Name == a.CookieName() && c.MaxAge < 0 {
				return true
			}
		}
		return false
	}

	for _, tc := range []struct {
		name string
		save func(w http.ResponseWriter, r *http.Request) error
	}{
		{"Save", func(w http.ResponseWriter, r *http.Request) error {
			sess, err := a.Session(r)
			if err != nil {
				return err
			}
			return a.Store().Save(r, w, sess)
		}},
		{"SetFlash", func(w http.ResponseWriter, r *http.Request) error { return a.SetFlash(w, r, "notice", "Saved.") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/profile", nil)
			r.AddCookie(signIn())
			sess, err := a.Session(r) // loaded before the revocation
			if err != nil || sess.IsNew {
				t.Fatalf("load = %v, new %v", err, sess.IsNew)
			}
			id := sess.ID
			if err := a.RevokeSessions(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			if err := tc.save(w, r); !errors.Is(err, auth.ErrSessionEnded) {
				t.Fatalf("save of a revoked session = %v, want ErrSessionEnded", err)
			}
			if _, err := st.FindSession(ctx, id, time.Now()); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("the revoked session is back: %v", err)
			}
			if !deleted(w) {
				t.Fatalf("the cookie was not deleted: %v", w.Result().Cookies())
			}
			if sess.ID != "" || len(sess.Values) != 0 {
				t.Fatalf("the session still holds %q %v", sess.ID, sess.Values)
			}
		})
	}
}

// TestTokensWithoutStore: an Auth without Config.Tokens refuses account
// links with an error instead of panicking.
func TestTokensWithoutStore(t *testing.T) {
	st, keys := newStore(t)
	a, err := auth.New(auth.Config{Sessions: st, Users: st, Settings: st, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.PeekToken(ctx, portal.TokenResetPassword, "token"); err == nil {
		t.Fatal("PeekToken without a token store did not fail")
	}
	if _, err := a.RedeemToken(ctx, portal.TokenConfirmSignup, "token"); err == nil {
		t.Fatal("RedeemToken without a token store did not fail")
	}
}
