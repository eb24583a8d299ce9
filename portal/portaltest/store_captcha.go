package portaltest

import (
	"time"

	"github.com/porticoapi/portico/portal"
)

// anonymousSession saves a session without a user, as a visitor's before
// sign-in, and returns its id.
func (st *storeTest) anonymousSession(id string, now time.Time) string {
	st.t.Helper()
	if err := st.s.SaveSession(st.ctx, &portal.Session{ID: id, Data: []byte("v"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		st.t.Fatalf("SaveSession(%s): %v", id, err)
	}
	return id
}

var captchaTests = []storeTestCase{
	{"CreateFindTakeOnce", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		sid := st.anonymousSession("session-1", now)
		c := &portal.Captcha{ID: "cap-1", SessionID: sid, Digits: "012345", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := st.s.CreateCaptcha(st.ctx, c); err != nil {
			t.Fatal(err)
		}
		wantCode(t, st.s.CreateCaptcha(st.ctx, &portal.Captcha{ID: "cap-1", SessionID: sid, Digits: "1", ExpiresAt: now.Add(time.Minute)}), portal.ECONFLICT)
		got, err := st.s.FindCaptcha(st.ctx, "cap-1", now)
		if err != nil || got.SessionID != sid || got.Digits != "012345" || !got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(c.ExpiresAt) {
			t.Fatalf("FindCaptcha = %+v, %v", got, err)
		}
		// Finding does not use it up; taking does, once.
		got, err = st.s.TakeCaptcha(st.ctx, "cap-1", now)
		if err != nil || got.Digits != "012345" || got.SessionID != sid {
			t.Fatalf("TakeCaptcha = %+v, %v", got, err)
		}
		_, err = st.s.TakeCaptcha(st.ctx, "cap-1", now)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindCaptcha(st.ctx, "cap-1", now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
	{"Expiry", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		sid := st.anonymousSession("session-1", now)
		for _, id := range []string{"old", "older", "fresh"} {
			exp := now.Add(time.Minute)
			if id == "fresh" {
				exp = now.Add(time.Hour)
			}
			if err := st.s.CreateCaptcha(st.ctx, &portal.Captcha{ID: id, SessionID: sid, Digits: "9", CreatedAt: now, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		later := now.Add(time.Minute)
		_, err := st.s.FindCaptcha(st.ctx, "old", later)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.TakeCaptcha(st.ctx, "old", later)
		wantCode(t, err, portal.ENOTFOUND)
		n, err := st.s.DeleteExpiredCaptchas(st.ctx, later)
		if err != nil || n != 1 { // "old" was taken already
			t.Fatalf("DeleteExpiredCaptchas = %d, %v; want 1", n, err)
		}
		if _, err := st.s.FindCaptcha(st.ctx, "fresh", later); err != nil {
			t.Fatalf("a live challenge was deleted: %v", err)
		}
	}},
	{"BelongToSession", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		wantCode(t, st.s.CreateCaptcha(st.ctx, &portal.Captcha{ID: "c", SessionID: "no-such-session", Digits: "1", ExpiresAt: now.Add(time.Minute)}), portal.ENOTFOUND)
		wantCode(t, st.s.CreateCaptcha(st.ctx, &portal.Captcha{ID: "c", Digits: "1", ExpiresAt: now.Add(time.Minute)}), portal.EINVALID)
		sid := st.anonymousSession("session-1", now)
		if err := st.s.CreateCaptcha(st.ctx, &portal.Captcha{ID: "c", SessionID: sid, Digits: "1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		// Ending the session (sign-in rotates it) ends its challenges.
		if err := st.s.DeleteSession(st.ctx, sid); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindCaptcha(st.ctx, "c", now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
}

var accountTokenTests = []storeTestCase{
	{"CreatePeekTakeOnce", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		u := st.user("dev@example.com", portal.RoleDeveloper)
		tok := &portal.AccountToken{Hash: "h1", Purpose: portal.TokenResetPassword, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
			t.Fatal(err)
		}
		wantCode(t, st.s.CreateAccountToken(st.ctx, tok), portal.ECONFLICT)
		wantCode(t, st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "h2", Purpose: portal.TokenResetPassword, UserID: u.ID + 100, ExpiresAt: now.Add(time.Hour)}), portal.ENOTFOUND)
		wantCode(t, st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "h2", UserID: u.ID, ExpiresAt: now.Add(time.Hour)}), portal.EINVALID)

		// The purpose is part of the key: a reset token confirms nothing.
		_, err := st.s.FindAccountToken(st.ctx, "h1", portal.TokenConfirmSignup, now)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.TakeAccountToken(st.ctx, "h1", portal.TokenConfirmSignup, now)
		wantCode(t, err, portal.ENOTFOUND)

		for range 2 {
			got, err := st.s.FindAccountToken(st.ctx, "h1", portal.TokenResetPassword, now)
			if err != nil || got.UserID != u.ID || got.Purpose != portal.TokenResetPassword || !got.ExpiresAt.Equal(tok.ExpiresAt) || !got.CreatedAt.Equal(now) {
				t.Fatalf("FindAccountToken = %+v, %v", got, err)
			}
		}
		got, err := st.s.TakeAccountToken(st.ctx, "h1", portal.TokenResetPassword, now)
		if err != nil || got.UserID != u.ID {
			t.Fatalf("TakeAccountToken = %+v, %v", got, err)
		}
		_, err = st.s.TakeAccountToken(st.ctx, "h1", portal.TokenResetPassword, now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
	{"ExpiryAndDeletion", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		u := st.user("dev@example.com", portal.RoleDeveloper)
		other := st.user("other@example.com", portal.RoleDeveloper)
		for _, tok := range []*portal.AccountToken{
			{Hash: "expiring", Purpose: portal.TokenConfirmSignup, UserID: u.ID, ExpiresAt: now.Add(time.Minute)},
			{Hash: "reset-1", Purpose: portal.TokenResetPassword, UserID: u.ID, ExpiresAt: now.Add(time.Hour)},
			{Hash: "reset-2", Purpose: portal.TokenResetPassword, UserID: u.ID, ExpiresAt: now.Add(time.Hour)},
			{Hash: "confirm", Purpose: portal.TokenConfirmSignup, UserID: u.ID, ExpiresAt: now.Add(time.Hour)},
			{Hash: "other", Purpose: portal.TokenResetPassword, UserID: other.ID, ExpiresAt: now.Add(time.Hour)},
		} {
			tok.CreatedAt = now
			if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		later := now.Add(time.Minute)
		_, err := st.s.FindAccountToken(st.ctx, "expiring", portal.TokenConfirmSignup, later)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.TakeAccountToken(st.ctx, "expiring", portal.TokenConfirmSignup, later)
		wantCode(t, err, portal.ENOTFOUND)
		if n, err := st.s.DeleteExpiredAccountTokens(st.ctx, later); err != nil || n != 0 { // taken already
			t.Fatalf("DeleteExpiredAccountTokens = %d, %v", n, err)
		}
		if n, err := st.s.DeleteExpiredAccountTokens(st.ctx, now.Add(2*time.Hour)); err != nil || n != 4 {
			t.Fatalf("DeleteExpiredAccountTokens later = %d, %v; want 4", n, err)
		}
	}},
	{"DeleteUserTokens", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		u := st.user("dev@example.com", portal.RoleDeveloper)
		other := st.user("other@example.com", portal.RoleDeveloper)
		for _, tok := range []*portal.AccountToken{
			{Hash: "reset-1", Purpose: portal.TokenResetPassword, UserID: u.ID},
			{Hash: "reset-2", Purpose: portal.TokenResetPassword, UserID: u.ID},
			{Hash: "confirm", Purpose: portal.TokenConfirmSignup, UserID: u.ID},
			{Hash: "other", Purpose: portal.TokenResetPassword, UserID: other.ID},
		} {
			tok.CreatedAt, tok.ExpiresAt = now, now.Add(time.Hour)
			if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.s.DeleteUserAccountTokens(st.ctx, u.ID, portal.TokenResetPassword); err != nil {
			t.Fatal(err)
		}
		for hash, want := range map[string]string{"reset-1": portal.ENOTFOUND, "reset-2": portal.ENOTFOUND, "other": ""} {
			_, err := st.s.FindAccountToken(st.ctx, hash, portal.TokenResetPassword, now)
			wantCode(t, err, want)
		}
		if _, err := st.s.FindAccountToken(st.ctx, "confirm", portal.TokenConfirmSignup, now); err != nil {
			t.Fatalf("a token of another purpose was deleted: %v", err)
		}
		// Deleting the user deletes their tokens.
		if err := st.s.DeleteUser(st.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindAccountToken(st.ctx, "confirm", portal.TokenConfirmSignup, now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
}
