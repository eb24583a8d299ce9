package portaltest

import (
	"time"

	"github.com/porticoapi/portico/portal"
)

// sessionUpdateTests: a session loaded before it was revoked is never
// written back by its save.
var sessionUpdateTests = []storeTestCase{
	{"UpdateExistingOnly", func(st *storeTest) {
		t := st.t
		u := st.user("dev@example.com", portal.RoleDeveloper)
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		s := &portal.Session{ID: "live", UserID: u.ID, Data: []byte("a"), CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		if err := st.s.SaveSession(st.ctx, s); err != nil {
			t.Fatal(err)
		}
		s.Data, s.ExpiresAt = []byte("b"), now.Add(time.Hour)
		if err := st.s.UpdateSession(st.ctx, s); err != nil {
			t.Fatal(err)
		}
		if got, err := st.s.FindSession(st.ctx, "live", now.Add(30*time.Minute)); err != nil || string(got.Data) != "b" || got.UserID != u.ID {
			t.Fatalf("updated session = %+v, %v", got, err)
		}

		// Revoked between load and save: the update finds no row and
		// writes none.
		if err := st.s.DeleteUserSessions(st.ctx, u.ID, ""); err != nil {
			t.Fatal(err)
		}
		wantCode(t, st.s.UpdateSession(st.ctx, s), portal.ENOTFOUND)
		_, err := st.s.FindSession(st.ctx, "live", now)
		wantCode(t, err, portal.ENOTFOUND)
		wantCode(t, st.s.UpdateSession(st.ctx, &portal.Session{ID: "never", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), portal.ENOTFOUND)
		_, err = st.s.FindSession(st.ctx, "never", now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
}

// passwordTests: SetPassword changes the password, the link, the other
// links and the sessions together or not at all.
var passwordTests = []storeTestCase{
	{"ResetWithLink", func(st *storeTest) {
		t := st.t
		now := time.Now().UTC().Truncate(time.Second)
		u := &portal.User{Email: "pending@example.com", Name: "Pen Ding", Role: portal.RoleDeveloper, State: portal.UserPending, PasswordHash: "old"}
		if err := st.s.CreateUser(st.ctx, u); err != nil {
			t.Fatal(err)
		}
		other := st.user("other@example.com", portal.RoleDeveloper)
		for _, tok := range []*portal.AccountToken{
			{Hash: "link", Purpose: portal.TokenResetPassword, UserID: u.ID},
			{Hash: "older", Purpose: portal.TokenResetPassword, UserID: u.ID},
			{Hash: "others", Purpose: portal.TokenResetPassword, UserID: other.ID},
			{Hash: "expired", Purpose: portal.TokenResetPassword, UserID: u.ID, ExpiresAt: now.Add(-time.Second)},
			{Hash: "confirm", Purpose: portal.TokenConfirmSignup, UserID: u.ID},
		} {
			tok.CreatedAt = now.Add(-time.Minute)
			if tok.ExpiresAt.IsZero() {
				tok.ExpiresAt = now.Add(time.Hour)
			}
			if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []*portal.Session{{ID: "u-1", UserID: u.ID}, {ID: "u-2", UserID: u.ID}, {ID: "o-1", UserID: other.ID}} {
			s.CreatedAt, s.ExpiresAt = now, now.Add(time.Hour)
			if err := st.s.SaveSession(st.ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		unchanged := func(what string) {
			t.Helper()
			got, err := st.s.FindUserByID(st.ctx, u.ID)
			if err != nil || got.PasswordHash != "old" || got.State != portal.UserPending {
				t.Fatalf("%s changed the user: %+v, %v", what, got, err)
			}
			if _, err := st.s.FindAccountToken(st.ctx, "link", portal.TokenResetPassword, now); err != nil {
				t.Fatalf("%s used the link up: %v", what, err)
			}
			if _, err := st.s.FindSession(st.ctx, "u-1", now); err != nil {
				t.Fatalf("%s ended a session: %v", what, err)
			}
		}
		// Links that do not work change nothing.
		for name, ch := range map[string]portal.PasswordChange{
			"an unknown link":        {PasswordHash: "new", ResetToken: "nope", Now: now, Activate: true},
			"an expired link":        {PasswordHash: "new", ResetToken: "expired", Now: now, Activate: true},
			"another user's link":    {PasswordHash: "new", ResetToken: "others", Now: now, Activate: true},
			"a link of another kind": {PasswordHash: "new", ResetToken: "confirm", Now: now, Activate: true},
			"a link past its time":   {PasswordHash: "new", ResetToken: "link", Now: now.Add(time.Hour), Activate: true},
		} {
			_, err := st.s.SetPassword(st.ctx, u.ID, ch)
			wantCode(t, err, portal.ENOTFOUND)
			unchanged(name)
		}
		// An invalid change (no hash) uses nothing up either.
		_, err := st.s.SetPassword(st.ctx, u.ID, portal.PasswordChange{ResetToken: "link", Now: now})
		wantCode(t, err, portal.EINVALID)
		unchanged("an empty hash")

		got, err := st.s.SetPassword(st.ctx, u.ID, portal.PasswordChange{PasswordHash: "new", ResetToken: "link", Now: now, Activate: true})
		if err != nil || got.PasswordHash != "new" || got.State != portal.UserActive {
			t.Fatalf("SetPassword = %+v, %v", got, err)
		}
		for _, hash := range []string{"link", "older"} {
			_, err := st.s.FindAccountToken(st.ctx, hash, portal.TokenResetPassword, now)
			wantCode(t, err, portal.ENOTFOUND)
		}
		if _, err := st.s.FindAccountToken(st.ctx, "others", portal.TokenResetPassword, now); err != nil {
			t.Fatalf("another user's link was voided: %v", err)
		}
		for id, want := range map[string]bool{"u-1": false, "u-2": false, "o-1": true} {
			_, err := st.s.FindSession(st.ctx, id, now)
			if got := err == nil; got != want {
				t.Fatalf("session %s present = %v, want %v", id, got, want)
			}
		}
		// The link works once.
		_, err = st.s.SetPassword(st.ctx, u.ID, portal.PasswordChange{PasswordHash: "newer", ResetToken: "link", Now: now})
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"ChangeKeepsOneSession", func(st *storeTest) {
		t := st.t
		now := time.Now().UTC().Truncate(time.Second)
		u := st.user("dev@example.com", portal.RoleDeveloper)
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "link", Purpose: portal.TokenResetPassword, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"mine", "other"} {
			if err := st.s.SaveSession(st.ctx, &portal.Session{ID: id, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.s.SetPassword(st.ctx, u.ID, portal.PasswordChange{PasswordHash: "changed", Now: now, KeepSession: "mine"})
		if err != nil || got.PasswordHash != "changed" {
			t.Fatalf("SetPassword = %+v, %v", got, err)
		}
		if _, err := st.s.FindSession(st.ctx, "mine", now); err != nil {
			t.Fatalf("the kept session ended: %v", err)
		}
		_, err = st.s.FindSession(st.ctx, "other", now)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindAccountToken(st.ctx, "link", portal.TokenResetPassword, now)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.SetPassword(st.ctx, u.ID+100, portal.PasswordChange{PasswordHash: "x", Now: now})
		wantCode(t, err, portal.ENOTFOUND)
	}},

	// A pending account's unconfirmed identities go with its activation
	// by a password; a confirmed one stays. A password set on an active
	// account (or without Activate) keeps them.
	{"ActivateDropsPendingIdentities", func(st *storeTest) {
		t := st.t
		now := time.Now().UTC().Truncate(time.Second)
		pending := &portal.User{Email: "taken@example.com", Name: "Taken", Role: portal.RoleDeveloper, State: portal.UserPending}
		if err := st.s.CreateUser(st.ctx, pending); err != nil {
			t.Fatal(err)
		}
		active := st.user("dev@example.com", portal.RoleDeveloper)
		for _, i := range []*portal.Identity{
			{UserID: pending.ID, Subject: "mallory", Unconfirmed: true},
			{UserID: pending.ID, Subject: "kept"},
			{UserID: active.ID, Subject: "dev"},
		} {
			i.Provider, i.Issuer = "corp", "https://idp.example"
			if err := st.s.CreateIdentity(st.ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		subjects := func(uid int64) string {
			ids, err := st.s.FindUserIdentities(st.ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			return names(ids, func(i *portal.Identity) string { return i.Subject })
		}
		// Without Activate the pending account keeps its identities.
		if _, err := st.s.SetPassword(st.ctx, pending.ID, portal.PasswordChange{PasswordHash: "first", Now: now}); err != nil {
			t.Fatal(err)
		}
		if got := subjects(pending.ID); got != "mallory,kept" {
			t.Fatalf("identities of the pending user after a password without activation = %s; want mallory,kept", got)
		}
		got, err := st.s.SetPassword(st.ctx, pending.ID, portal.PasswordChange{PasswordHash: "reset", Now: now, Activate: true})
		if err != nil || got.State != portal.UserActive {
			t.Fatalf("SetPassword with Activate = %+v, %v", got, err)
		}
		if got := subjects(pending.ID); got != "kept" {
			t.Fatalf("identities of the activated user = %s; want only the confirmed one, kept", got)
		}
		_, err = st.s.FindIdentity(st.ctx, "https://idp.example", "mallory")
		wantCode(t, err, portal.ENOTFOUND)
		// Activate on an account already active changes nothing else.
		if _, err := st.s.SetPassword(st.ctx, active.ID, portal.PasswordChange{PasswordHash: "reset", Now: now, Activate: true}); err != nil {
			t.Fatal(err)
		}
		if got := subjects(active.ID); got != "dev" {
			t.Fatalf("identities of the active user after a reset = %s; want dev", got)
		}
	}},
}

// lastAdminTests: the store, inside the change's transaction, refuses to
// leave the portal without an active administrator.
var lastAdminTests = []storeTestCase{
	{"OnlyAdmin", func(st *storeTest) {
		t := st.t
		admin := st.user("admin@example.com", portal.RoleAdmin)
		dev := st.user("dev@example.com", portal.RoleDeveloper)
		developer, blocked, pending := portal.RoleDeveloper, portal.UserBlocked, portal.UserPending
		for name, upd := range map[string]portal.UserUpdate{
			"demote":  {Role: &developer},
			"block":   {State: &blocked},
			"pending": {State: &pending},
		} {
			_, err := st.s.UpdateUser(st.ctx, admin.ID, upd)
			wantCode(t, err, portal.ECONFLICT)
			wantMessage(t, err, "admin@example.com", "last active administrator")
			if got, err := st.s.FindUserByID(st.ctx, admin.ID); err != nil || !got.IsAdmin() {
				t.Fatalf("%s of the only admin went through: %+v, %v", name, got, err)
			}
		}
		err := st.s.DeleteUser(st.ctx, admin.ID)
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "last active administrator")
		if _, err := st.s.FindUserByID(st.ctx, admin.ID); err != nil {
			t.Fatalf("the only admin was deleted: %v", err)
		}
		// Other changes of the only admin, and of anyone else, pass.
		name := "Still Admin"
		if _, err := st.s.UpdateUser(st.ctx, admin.ID, portal.UserUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.s.UpdateUser(st.ctx, dev.ID, portal.UserUpdate{State: &blocked}); err != nil {
			t.Fatal(err)
		}
		if err := st.s.DeleteUser(st.ctx, dev.ID); err != nil {
			t.Fatal(err)
		}
	}},

	{"TwoAdminsOneLeaves", func(st *storeTest) {
		t := st.t
		a := st.user("a@example.com", portal.RoleAdmin)
		b := st.user("b@example.com", portal.RoleAdmin)
		// A blocked administrator does not count.
		c := st.user("c@example.com", portal.RoleAdmin)
		blocked := portal.UserBlocked
		if _, err := st.s.UpdateUser(st.ctx, c.ID, portal.UserUpdate{State: &blocked}); err != nil {
			t.Fatal(err)
		}
		if err := st.s.DeleteUser(st.ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		err := st.s.DeleteUser(st.ctx, b.ID)
		wantCode(t, err, portal.ECONFLICT)
		developer := portal.RoleDeveloper
		_, err = st.s.UpdateUser(st.ctx, b.ID, portal.UserUpdate{Role: &developer})
		wantCode(t, err, portal.ECONFLICT)
		// The blocked one may go: it was no active administrator.
		if err := st.s.DeleteUser(st.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}},

	{"Apply", func(st *storeTest) {
		t := st.t
		// A store without an administrator may be filled by a file
		// without one.
		if err := st.s.Apply(st.ctx, &portal.ChangeSet{Users: []*portal.User{
			{Email: "dev@example.com", Name: "Dev", Role: portal.RoleDeveloper, State: portal.UserActive},
		}}); err != nil {
			t.Fatalf("apply to a store without administrators: %v", err)
		}
		st.user("admin@example.com", portal.RoleAdmin)
		for name, cs := range map[string]*portal.ChangeSet{
			"demote": {Users: []*portal.User{{Email: "admin@example.com", Name: "Admin", Role: portal.RoleDeveloper, State: portal.UserActive}}},
			"block":  {Users: []*portal.User{{Email: "admin@example.com", Name: "Admin", Role: portal.RoleAdmin, State: portal.UserBlocked}}},
			"prune":  {DeleteUsers: []string{"admin@example.com"}},
		} {
			err := st.s.Apply(st.ctx, cs)
			wantCode(t, err, portal.ECONFLICT)
			wantMessage(t, err, "no active administrator")
			if got, err := st.s.FindUserByEmail(st.ctx, "admin@example.com"); err != nil || !got.IsAdmin() {
				t.Fatalf("%s of the only admin by apply went through: %+v, %v", name, got, err)
			}
		}
		// Handing over in one file passes.
		if err := st.s.Apply(st.ctx, &portal.ChangeSet{Users: []*portal.User{
			{Email: "dev@example.com", Name: "Dev", Role: portal.RoleAdmin, State: portal.UserActive},
			{Email: "admin@example.com", Name: "Admin", Role: portal.RoleDeveloper, State: portal.UserActive},
		}}); err != nil {
			t.Fatalf("hand over by apply: %v", err)
		}
	}},
}

// defaultSessionTests pin the session timeouts a new store starts with.
var defaultSessionTests = []storeTestCase{
	{"IdleAndAbsolute", func(st *storeTest) {
		got, err := st.s.FindSettings(st.ctx)
		if err != nil {
			st.t.Fatal(err)
		}
		if got.Session.IdleTimeout != 30*time.Minute || got.Session.AbsoluteTimeout != 12*time.Hour {
			st.t.Fatalf("default session timeouts = %s idle, %s absolute; want 30m and 12h", got.Session.IdleTimeout, got.Session.AbsoluteTimeout)
		}
	}},
}
