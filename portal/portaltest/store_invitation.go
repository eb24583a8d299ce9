package portaltest

import (
	"errors"
	"time"

	"github.com/porticoapi/portico/portal"
)

// invitationTests cover what invitations add to account tokens: listing
// the live tokens of a purpose, and recording invitations in Apply.
var invitationTests = []storeTestCase{
	{"Accept", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		invite := func(email, hash string) *portal.User {
			t.Helper()
			u := &portal.User{Email: email, Name: "Invited " + email, Role: portal.RoleAdmin, State: portal.UserPending}
			if err := st.s.CreateUser(st.ctx, u); err != nil {
				t.Fatal(err)
			}
			for _, tok := range []*portal.AccountToken{
				{Hash: hash, Purpose: portal.TokenInvitation, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
				{Hash: hash + "-confirm", Purpose: portal.TokenConfirmSignup, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			} {
				if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			return u
		}
		// unchanged checks that a refused acceptance left the user and
		// the link as they were.
		unchanged := func(u *portal.User, hash string) {
			t.Helper()
			got, err := st.s.FindUserByID(st.ctx, u.ID)
			if err != nil || got.State != u.State || got.PasswordHash != u.PasswordHash {
				t.Fatalf("user after a refusal = %+v, %v; was %+v", got, err, u)
			}
			if _, err := st.s.FindAccountToken(st.ctx, hash, portal.TokenInvitation, now); err != nil {
				t.Fatalf("the link after a refusal: %v", err)
			}
		}

		// With a password; a stranger's identity, linked while the
		// account was pending, goes.
		ann := invite("ann@example.com", "inv-ann")
		if err := st.s.CreateIdentity(st.ctx, &portal.Identity{UserID: ann.ID, Provider: "corp", Issuer: "https://idp.example", Subject: "stranger", Unconfirmed: true}); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-ann", Now: now})
		wantCode(t, err, portal.EINVALID)
		_, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-ann", Now: now, PasswordHash: "$h", Identity: &portal.Identity{Issuer: "i", Subject: "s"}})
		wantCode(t, err, portal.EINVALID)
		_, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-ann", Now: now.Add(time.Hour), PasswordHash: "$h"})
		wantCode(t, err, portal.ENOTFOUND) // expired
		got, err := st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-ann", Now: now, PasswordHash: "$ann"})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != portal.UserActive || got.PasswordHash != "$ann" || got.Role != portal.RoleAdmin {
			t.Fatalf("accepted with a password: %+v", got)
		}
		if ids, err := st.s.FindUserIdentities(st.ctx, ann.ID); err != nil || len(ids) != 0 {
			t.Fatalf("identities after accepting = %+v, %v", ids, err)
		}
		for _, purpose := range []portal.TokenPurpose{portal.TokenInvitation, portal.TokenConfirmSignup} {
			if live, err := st.s.FindAccountTokens(st.ctx, purpose, now); err != nil || len(live) != 0 {
				t.Fatalf("%s links after accepting = %+v, %v", purpose, live, err)
			}
		}
		_, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-ann", Now: now, PasswordHash: "$again"})
		wantCode(t, err, portal.ENOTFOUND) // once only

		// With an identity; one linked to another account is refused and
		// changes nothing.
		bea := invite("bea@example.com", "inv-bea")
		taken := &portal.Identity{UserID: ann.ID, Provider: "corp", Issuer: "https://idp.example", Subject: "ann"}
		if err := st.s.CreateIdentity(st.ctx, taken); err != nil {
			t.Fatal(err)
		}
		_, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-bea", Now: now,
			Identity: &portal.Identity{Provider: "corp", Issuer: "https://idp.example", Subject: "ann"}})
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "already linked")
		unchanged(bea, "inv-bea")
		got, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-bea", Now: now,
			Identity: &portal.Identity{Provider: "corp", Issuer: "https://idp.example", Subject: "bea", Email: "bea@idp.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != portal.UserActive || got.PasswordHash != "" {
			t.Fatalf("accepted with an identity: %+v", got)
		}
		if i, err := st.s.FindIdentity(st.ctx, "https://idp.example", "bea"); err != nil || i.UserID != bea.ID {
			t.Fatalf("the identity after accepting = %+v, %v", i, err)
		}

		// A block made since the link was sent stays.
		cy := invite("cy@example.com", "inv-cy")
		blocked := portal.UserBlocked
		if cy, err = st.s.UpdateUser(st.ctx, cy.ID, portal.UserUpdate{State: &blocked}); err != nil {
			t.Fatal(err)
		}
		_, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-cy", Now: now, PasswordHash: "$cy"})
		wantCode(t, err, portal.EFORBIDDEN)
		unchanged(cy, "inv-cy")
	}},
	// An identity unconfirmed on another pending account (its holder's
	// own sign-up the provider did not vouch for, at another address)
	// moves to the invited account, confirmed; the account it leaves goes
	// when nothing is left of it. Linked any other way, it is refused.
	{"AcceptMovesUnconfirmedIdentity", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		pending := func(email string) *portal.User {
			t.Helper()
			u := &portal.User{Email: email, Name: "Bob", Role: portal.RoleDeveloper, State: portal.UserPending}
			if err := st.s.CreateUser(st.ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		token := func(u *portal.User, hash string, purpose portal.TokenPurpose) {
			t.Helper()
			if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: hash, Purpose: purpose, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		identity := func(u *portal.User, subject string, unconfirmed bool) *portal.Identity {
			t.Helper()
			i := &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: "https://idp.example", Subject: subject, Unconfirmed: unconfirmed}
			if err := st.s.CreateIdentity(st.ctx, i); err != nil {
				t.Fatal(err)
			}
			return i
		}
		accept := func(hash, subject string) (*portal.User, error) {
			return st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: hash, Now: now,
				Identity: &portal.Identity{Provider: "corp", Issuer: "https://idp.example", Subject: subject, Email: "bob@idp.example"}})
		}

		home := pending("bob@home.example")
		identity(home, "bob", true)
		token(home, "home-confirm", portal.TokenConfirmSignup)
		corp := pending("bob@corp.example")
		token(corp, "inv-corp", portal.TokenInvitation)
		got, err := accept("inv-corp", "bob")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != corp.ID || got.State != portal.UserActive {
			t.Fatalf("accepted = %+v", got)
		}
		i, err := st.s.FindIdentity(st.ctx, "https://idp.example", "bob")
		if err != nil || i.UserID != corp.ID || i.Unconfirmed || i.Email != "bob@idp.example" {
			t.Fatalf("the identity after accepting = %+v, %v", i, err)
		}
		// Nothing else was left of the account it left: it goes, with its
		// confirmation link.
		_, err = st.s.FindUserByID(st.ctx, home.ID)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindAccountToken(st.ctx, "home-confirm", portal.TokenConfirmSignup, now)
		wantCode(t, err, portal.ENOTFOUND)

		// One holding a subscription an administrator gave it stays,
		// pending, without the identity and its confirmation links.
		st.api("echo")
		home = pending("bo@home.example")
		identity(home, "bo", true)
		token(home, "bo-confirm", portal.TokenConfirmSignup)
		st.subscription(&portal.Subscription{Name: "bo-sub", OwnerID: home.ID, Scope: apiScope("echo"), State: portal.SubscriptionActive})
		corp = pending("bo@corp.example")
		token(corp, "inv-bo", portal.TokenInvitation)
		if _, err := accept("inv-bo", "bo"); err != nil {
			t.Fatal(err)
		}
		if u, err := st.s.FindUserByID(st.ctx, home.ID); err != nil || u.State != portal.UserPending {
			t.Fatalf("the account with a subscription the identity left = %+v, %v", u, err)
		}
		if ids, err := st.s.FindUserIdentities(st.ctx, home.ID); err != nil || len(ids) != 0 {
			t.Fatalf("identities left on it = %+v, %v", ids, err)
		}
		_, err = st.s.FindAccountToken(st.ctx, "bo-confirm", portal.TokenConfirmSignup, now)
		wantCode(t, err, portal.ENOTFOUND)

		// The account it leaves stays when it is still invited itself.
		home = pending("ann@home.example")
		identity(home, "ann", true)
		token(home, "inv-home", portal.TokenInvitation)
		corp = pending("ann@corp.example")
		token(corp, "inv-ann", portal.TokenInvitation)
		if _, err := accept("inv-ann", "ann"); err != nil {
			t.Fatal(err)
		}
		if u, err := st.s.FindUserByID(st.ctx, home.ID); err != nil || u.State != portal.UserPending {
			t.Fatalf("the invited account the identity left = %+v, %v", u, err)
		}

		// Confirmed elsewhere, or unconfirmed on an account that is not
		// pending: refused, and the link still works.
		active := st.user("cy@example.com", portal.RoleDeveloper)
		identity(active, "cy-unconfirmed", true)
		identity(active, "cy", false)
		blocked := pending("dee@example.com")
		identity(blocked, "dee", true)
		state := portal.UserBlocked
		if _, err := st.s.UpdateUser(st.ctx, blocked.ID, portal.UserUpdate{State: &state}); err != nil {
			t.Fatal(err)
		}
		eve := pending("eve@example.com")
		token(eve, "inv-eve", portal.TokenInvitation)
		for _, subject := range []string{"cy", "cy-unconfirmed", "dee"} {
			_, err := accept("inv-eve", subject)
			wantCode(t, err, portal.ECONFLICT)
			if i, err := st.s.FindIdentity(st.ctx, "https://idp.example", subject); err != nil || i.UserID == eve.ID {
				t.Fatalf("identity %s after a refusal = %+v, %v", subject, i, err)
			}
		}
		if _, err := st.s.FindAccountToken(st.ctx, "inv-eve", portal.TokenInvitation, now); err != nil {
			t.Fatalf("the link after a refusal: %v", err)
		}

		// A live link of an account no longer waiting for it gets the
		// answer the invitation page gives.
		token(active, "inv-cy", portal.TokenInvitation)
		_, err = st.s.AcceptInvitation(st.ctx, portal.InvitationAcceptance{Token: "inv-cy", Now: now, PasswordHash: "$cy"})
		if !errors.Is(err, portal.ErrInvitationAnswered) {
			t.Fatalf("accepting for an active account: %v, want ErrInvitationAnswered", err)
		}
	}},
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

// unconfirmedSignUpTests: the periodic clean-up removes exactly the
// accounts of provider sign-ups nobody confirmed.
var unconfirmedSignUpTests = []storeTestCase{
	{"DeleteUnconfirmedSignUps", func(st *storeTest) {
		t := st.t
		now := time.Now().UTC()
		mk := func(email string, role portal.Role, state portal.UserState, password string) *portal.User {
			t.Helper()
			u := &portal.User{Email: email, Name: "N", Role: role, State: state, PasswordHash: password}
			if err := st.s.CreateUser(st.ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		identity := func(u *portal.User, subject string, unconfirmed bool) {
			t.Helper()
			if err := st.s.CreateIdentity(st.ctx, &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: "https://idp.example", Subject: subject, Unconfirmed: unconfirmed}); err != nil {
				t.Fatal(err)
			}
		}
		gone := mk("gone@example.com", portal.RoleDeveloper, portal.UserPending, "")
		identity(gone, "gone", true)
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "gone-confirm", Purpose: portal.TokenConfirmSignup, UserID: gone.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var kept []*portal.User
		u := mk("confirmed-too@example.com", portal.RoleDeveloper, portal.UserPending, "")
		identity(u, "u1", true)
		identity(u, "u2", false)
		kept = append(kept, u)
		u = mk("password@example.com", portal.RoleDeveloper, portal.UserPending, "$hash")
		identity(u, "u3", true)
		kept = append(kept, u)
		u = mk("admin@example.com", portal.RoleAdmin, portal.UserPending, "")
		identity(u, "u4", true)
		kept = append(kept, u)
		u = mk("invited@example.com", portal.RoleDeveloper, portal.UserPending, "")
		identity(u, "u5", true)
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "inv", Purpose: portal.TokenInvitation, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, u)
		u = mk("subscribed@example.com", portal.RoleDeveloper, portal.UserPending, "")
		identity(u, "u6", true)
		st.api("echo")
		st.subscription(&portal.Subscription{Name: "sub", OwnerID: u.ID, Scope: apiScope("echo"), State: portal.SubscriptionActive})
		kept = append(kept, u)
		kept = append(kept, mk("no-identity@example.com", portal.RoleDeveloper, portal.UserPending, ""))
		u = mk("active@example.com", portal.RoleDeveloper, portal.UserActive, "")
		identity(u, "u7", true)
		kept = append(kept, u)

		// Made before a time long past: none.
		v := st.version()
		if n, err := st.s.DeleteUnconfirmedSignUps(st.ctx, now.Add(-24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("DeleteUnconfirmedSignUps(a day ago) = %d, %v", n, err)
		}
		if st.version() != v {
			t.Fatal("a clean-up that removed nothing moved the store's version")
		}
		if n, err := st.s.DeleteUnconfirmedSignUps(st.ctx, now.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("DeleteUnconfirmedSignUps = %d, %v; want 1", n, err)
		}
		_, err := st.s.FindUserByID(st.ctx, gone.ID)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindIdentity(st.ctx, "https://idp.example", "gone")
		wantCode(t, err, portal.ENOTFOUND)
		for _, k := range kept {
			if _, err := st.s.FindUserByID(st.ctx, k.ID); err != nil {
				t.Fatalf("%s was removed: %v", k.Email, err)
			}
		}
	}},
}
