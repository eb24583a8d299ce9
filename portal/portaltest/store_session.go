package portaltest

import (
	"bytes"
	"time"

	"github.com/porticoapi/portico/portal"
)

var sessionTests = []storeTestCase{
	{"SaveFindExpire", func(st *storeTest) {
		t := st.t
		u := st.user("dev@example.com", portal.RoleDeveloper)
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		s := &portal.Session{ID: "hash-1", UserID: u.ID, Data: []byte("values"), CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute)}
		if err := st.s.SaveSession(st.ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := st.s.FindSession(st.ctx, "hash-1", now)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "hash-1" || got.UserID != u.ID || !bytes.Equal(got.Data, []byte("values")) ||
			!got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("FindSession = %+v", got)
		}
		if _, err := st.s.FindSession(st.ctx, "hash-1", s.ExpiresAt.Add(-time.Nanosecond)); err != nil {
			t.Fatalf("a session is valid until its deadline: %v", err)
		}
		_, err = st.s.FindSession(st.ctx, "hash-1", s.ExpiresAt)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSession(st.ctx, "nope", now)
		wantCode(t, err, portal.ENOTFOUND)

		// Saving again replaces: an anonymous session signs in, the deadline moves.
		anon := &portal.Session{ID: "hash-2", Data: []byte("a"), CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		if err := st.s.SaveSession(st.ctx, anon); err != nil {
			t.Fatal(err)
		}
		if got, err := st.s.FindSession(st.ctx, "hash-2", now); err != nil || got.UserID != 0 {
			t.Fatalf("anonymous session = %+v, %v", got, err)
		}
		anon.UserID, anon.Data, anon.ExpiresAt = u.ID, []byte("b"), now.Add(time.Hour)
		if err := st.s.SaveSession(st.ctx, anon); err != nil {
			t.Fatal(err)
		}
		got, err = st.s.FindSession(st.ctx, "hash-2", now.Add(30*time.Minute))
		if err != nil || got.UserID != u.ID || string(got.Data) != "b" {
			t.Fatalf("replaced session = %+v, %v", got, err)
		}

		if err := st.s.DeleteSession(st.ctx, "hash-1"); err != nil {
			t.Fatal(err)
		}
		_, err = st.s.FindSession(st.ctx, "hash-1", now)
		wantCode(t, err, portal.ENOTFOUND)
		if err := st.s.DeleteSession(st.ctx, "hash-1"); err != nil {
			t.Fatalf("deleting a missing session: %v", err)
		}
	}},

	{"DeleteUserSessions", func(st *storeTest) {
		t := st.t
		u := st.user("dev@example.com", portal.RoleDeveloper)
		other := st.user("other@example.com", portal.RoleDeveloper)
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		for _, s := range []*portal.Session{
			{ID: "u-1", UserID: u.ID}, {ID: "u-2", UserID: u.ID}, {ID: "u-3", UserID: u.ID},
			{ID: "o-1", UserID: other.ID}, {ID: "anon"},
		} {
			s.CreatedAt, s.ExpiresAt = now, now.Add(time.Hour)
			if err := st.s.SaveSession(st.ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.s.DeleteUserSessions(st.ctx, u.ID, "u-2"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"u-1": false, "u-2": true, "u-3": false, "o-1": true, "anon": true} {
			_, err := st.s.FindSession(st.ctx, id, now)
			if got := err == nil; got != want {
				t.Fatalf("session %s present = %v (%v), want %v", id, got, err, want)
			}
		}
		if err := st.s.DeleteUserSessions(st.ctx, u.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindSession(st.ctx, "u-2", now)
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"DeleteExpired", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		for i, d := range []time.Duration{-time.Hour, -time.Second, 0, time.Second, time.Hour} {
			s := &portal.Session{ID: string(rune('a' + i)), CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(d)}
			if err := st.s.SaveSession(st.ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		n, err := st.s.DeleteExpiredSessions(st.ctx, now)
		if err != nil || n != 3 {
			t.Fatalf("DeleteExpiredSessions = %d, %v; want 3 (those FindSession no longer returns)", n, err)
		}
		for id, want := range map[string]bool{"a": false, "b": false, "c": false, "d": true, "e": true} {
			_, err := st.s.FindSession(st.ctx, id, now.Add(-3*time.Hour))
			if got := err == nil; got != want {
				t.Fatalf("session %s present = %v (%v), want %v", id, got, err, want)
			}
		}
		if n, err := st.s.DeleteExpiredSessions(st.ctx, now); err != nil || n != 0 {
			t.Fatalf("second DeleteExpiredSessions = %d, %v", n, err)
		}
	}},
}
