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
// (a flash, the idle deadline's slide): the row stays gone, the request
// goes on anonymous, and the answer sets no cookie, not even a deletion
// (see TestConcurrentSignInKeepsRotatedCookie).
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
			if got := w.Result().Header.Values("Set-Cookie"); len(got) != 0 {
				t.Fatalf("the save of a revoked session set cookies: %q", got)
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
}

// TestConcurrentSignInKeepsRotatedCookie: two tabs share session X; tab A
// signs in, which rotates X to Y and sets Y's cookie, while tab B, which
// loaded X before that, saves it (a flash). B's save fails with
// ErrSessionEnded and must send no cookie: were it a deletion arriving
// after A's answer, the browser would drop Y and the user would be
// signed out right after signing in.
func TestConcurrentSignInKeepsRotatedCookie(t *testing.T) {
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
	// The anonymous session X both tabs hold (a flash before sign-in).
	w := httptest.NewRecorder()
	if err := a.SetFlash(w, httptest.NewRequest(http.MethodGet, "/signin", nil), "notice", "Welcome."); err != nil {
		t.Fatal(err)
	}
	x := w.Result().Cookies()[0]

	tabB := httptest.NewRequest(http.MethodPost, "/profile", nil)
	tabB.AddCookie(x)
	if sess, err := a.Session(tabB); err != nil || sess.IsNew {
		t.Fatalf("tab B's load = %v, new %v", err, sess.IsNew)
	}

	tabA := httptest.NewRequest(http.MethodPost, "/signin", nil)
	tabA.AddCookie(x)
	wA := httptest.NewRecorder()
	if err := a.StartSession(ctx, wA, tabA, u); err != nil {
		t.Fatal(err)
	}
	// A browser applies A's answer, then B's, the later cookie winning.
	jar := map[string]string{}
	apply := func(w *httptest.ResponseRecorder) {
		for _, c := range w.Result().Cookies() {
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
	}
	apply(wA)
	y, ok := jar[a.CookieName()]
	if !ok || y == x.Value {
		t.Fatalf("sign-in set no new session cookie: %v", wA.Result().Cookies())
	}

	wB := httptest.NewRecorder()
	if err := a.SetFlash(wB, tabB, "notice", "Saved."); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("tab B's save = %v, want ErrSessionEnded", err)
	}
	if got := wB.Result().Header.Values("Set-Cookie"); len(got) != 0 {
		t.Fatalf("tab B's answer set cookies: %q", got)
	}
	apply(wB)
	if jar[a.CookieName()] != y {
		t.Fatalf("after both answers the browser holds %q, want the signed-in session", jar[a.CookieName()])
	}
	next := httptest.NewRequest(http.MethodGet, "/", nil)
	next.AddCookie(&http.Cookie{Name: a.CookieName(), Value: y})
	sess, err := a.Session(next)
	if err != nil || sess.IsNew {
		t.Fatalf("the next request's session = %v, new %v", err, sess.IsNew)
	}
}
