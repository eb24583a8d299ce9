package portaltest

import (
	"time"

	"github.com/porticoapi/portico/portal"
)

// invitationTests cover what invitations add to account tokens: listing
// the live tokens of a purpose, and recording invitations in Apply.
var invitationTests = []storeTestCase{
	{"FindAccountTokens", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		a := st.user("a@example.com", portal.RoleDeveloper)
		b := st.user("b@example.com", portal.RoleDeveloper)
		for _, tok := range []*portal.AccountToken{
			{Hash: "late", Purpose: portal.TokenInvitation, UserID: a.ID, ExpiresAt: now.Add(48 * time.Hour)},
			{Hash: "soon", Purpose: portal.TokenInvitation, UserID: b.ID, ExpiresAt: now.Add(time.Hour)},
			{Hash: "gone", Purpose: portal.TokenInvitation, UserID: b.ID, ExpiresAt: now},
			{Hash: "reset", Purpose: portal.TokenResetPassword, UserID: a.ID, ExpiresAt: now.Add(time.Hour)},
		} {
			tok.CreatedAt = now.Add(-time.Minute)
			if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.s.FindAccountTokens(st.ctx, portal.TokenInvitation, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Hash != "soon" || got[1].Hash != "late" || got[0].UserID != b.ID ||
			got[1].Purpose != portal.TokenInvitation || !got[1].ExpiresAt.Equal(now.Add(48*time.Hour)) || !got[1].CreatedAt.Equal(now.Add(-time.Minute)) {
			t.Fatalf("FindAccountTokens = %+v", got)
		}
		got, err = st.s.FindAccountTokens(st.ctx, portal.TokenConfirmSignup, now)
		if err != nil || len(got) != 0 {
			t.Fatalf("FindAccountTokens(confirm) = %+v, %v", got, err)
		}
		// Deleting the user deletes their invitation.
		if err := st.s.DeleteUser(st.ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got, err = st.s.FindAccountTokens(st.ctx, portal.TokenInvitation, now); err != nil || len(got) != 1 || got[0].Hash != "soon" {
			t.Fatalf("FindAccountTokens after deleting a user = %+v, %v", got, err)
		}
	}},
	{"ApplyRecordsInvitations", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		old := st.user("old@example.com", portal.RoleDeveloper)
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "older", Purpose: portal.TokenInvitation, UserID: old.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		v0, err := st.s.Version(st.ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = st.s.Apply(st.ctx, &portal.ChangeSet{
			Users: []*portal.User{{Email: "New@Example.com", Name: "New", Role: portal.RoleAdmin, State: portal.UserPending}},
			Invitations: []*portal.NewInvitation{
				{Email: "new@example.com", Token: portal.AccountToken{Hash: "inv-new", CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}},
				{Email: "old@example.com", Token: portal.AccountToken{Hash: "inv-old", CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		u, err := st.s.FindUserByEmail(st.ctx, "new@example.com")
		if err != nil || u.State != portal.UserPending {
			t.Fatalf("invited user = %+v, %v", u, err)
		}
		tok, err := st.s.FindAccountToken(st.ctx, "inv-new", portal.TokenInvitation, now)
		if err != nil || tok.UserID != u.ID {
			t.Fatalf("invitation of the new user = %+v, %v", tok, err)
		}
		// A new invitation replaces the user's older one.
		_, err = st.s.FindAccountToken(st.ctx, "older", portal.TokenInvitation, now)
		wantCode(t, err, portal.ENOTFOUND)
		if tok, err := st.s.FindAccountToken(st.ctx, "inv-old", portal.TokenInvitation, now); err != nil || tok.UserID != old.ID {
			t.Fatalf("invitation of the existing user = %+v, %v", tok, err)
		}
		if v1, err := st.s.Version(st.ctx); err != nil || v1 <= v0 {
			t.Fatalf("version %d -> %d, %v", v0, v1, err)
		}

		// An invitation of an unknown user fails the whole change set.
		err = st.s.Apply(st.ctx, &portal.ChangeSet{
			Users: []*portal.User{{Email: "third@example.com", Name: "Third", Role: portal.RoleDeveloper, State: portal.UserPending}},
			Invitations: []*portal.NewInvitation{
				{Email: "third@example.com", Token: portal.AccountToken{Hash: "inv-third", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}},
				{Email: "nobody@example.com", Token: portal.AccountToken{Hash: "inv-nobody", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}},
			},
		})
		wantCode(t, err, portal.ENOTFOUND)
		wantMessage(t, err, "nobody@example.com")
		_, err = st.s.FindUserByEmail(st.ctx, "third@example.com")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindAccountToken(st.ctx, "inv-third", portal.TokenInvitation, now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
}
