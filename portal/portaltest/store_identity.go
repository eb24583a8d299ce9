package portaltest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

func newIdentityProvider(name string) *portal.IdentityProvider {
	return &portal.IdentityProvider{
		Name: name, Type: portal.IdentityProviderOIDC, DisplayName: "Sign in with " + name,
		ClientID: "client-" + name, ClientSecret: "s3cret-" + name, Issuer: "https://idp.example.com/" + name,
		Scopes: []string{"openid", "email"}, SignUp: true,
	}
}

var identityTests = []storeTestCase{
	{"ProviderCreateFindUpdateDelete", func(st *storeTest) {
		t := st.t
		before := st.version()
		p := newIdentityProvider("corp")
		if err := st.s.CreateIdentityProvider(st.ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 {
			t.Fatal("CreateIdentityProvider set no ID")
		}
		wantStamped(t, "provider", p.CreatedAt, p.UpdatedAt)
		if st.version() == before {
			t.Fatal("creating a provider did not bump the version")
		}
		got, err := st.s.FindIdentityProviderByName(st.ctx, "corp")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("found %+v\nwant %+v", got, p)
		}
		wantCode(t, st.s.CreateIdentityProvider(st.ctx, newIdentityProvider("corp")), portal.ECONFLICT)

		entra := &portal.IdentityProvider{Name: "entra", Type: portal.IdentityProviderEntra, ClientID: "app", ClientSecret: "x",
			Tenant: "organizations", AllowedTenants: []string{"AAAA-1"}}
		if err := st.s.CreateIdentityProvider(st.ctx, entra); err != nil {
			t.Fatal(err)
		}
		all, err := st.s.FindIdentityProviders(st.ctx)
		if err != nil || names(all, func(p *portal.IdentityProvider) string { return p.Name }) != "corp,entra" {
			t.Fatalf("FindIdentityProviders = %v, %v", all, err)
		}
		if len(all[1].AllowedTenants) != 1 || all[1].AllowedTenants[0] != "aaaa-1" || len(all[1].Scopes) != 0 {
			t.Fatalf("entra read back as %+v", all[1])
		}

		// An empty secret keeps the stored one; a rename moves the provider.
		upd := *p
		upd.Name, upd.ClientSecret, upd.SignUp, upd.DisplayName = "corp2", "", false, "Corp"
		u, err := st.s.UpdateIdentityProvider(st.ctx, "corp", &upd)
		if err != nil {
			t.Fatal(err)
		}
		if u.ClientSecret != "s3cret-corp" || u.SignUp || u.ID != p.ID {
			t.Fatalf("updated = %+v", u)
		}
		got, err = st.s.FindIdentityProviderByName(st.ctx, "corp2")
		if err != nil || got.ClientSecret != "s3cret-corp" || got.DisplayName != "Corp" || got.SignUp {
			t.Fatalf("after update = %+v, %v", got, err)
		}
		_, err = st.s.FindIdentityProviderByName(st.ctx, "corp")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.UpdateIdentityProvider(st.ctx, "nope", &upd)
		wantCode(t, err, portal.ENOTFOUND)
		upd.Name = "entra"
		_, err = st.s.UpdateIdentityProvider(st.ctx, "corp2", &upd)
		wantCode(t, err, portal.ECONFLICT)

		wantCode(t, st.s.DeleteIdentityProvider(st.ctx, "corp2"), "")
		wantCode(t, st.s.DeleteIdentityProvider(st.ctx, "corp2"), portal.ENOTFOUND)
	}},
	{"ProviderRenameMovesIdentities", func(st *storeTest) {
		// The profile and the sign-in checks find an identity's provider by
		// the name it was linked through; a rename must carry it along.
		t := st.t
		ada := st.user("ada@example.com", portal.RoleDeveloper)
		corp, other := newIdentityProvider("corp"), newIdentityProvider("other")
		for _, p := range []*portal.IdentityProvider{corp, other} {
			if err := st.s.CreateIdentityProvider(st.ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range []*portal.Identity{
			{UserID: ada.ID, Provider: "corp", Issuer: corp.Issuer, Subject: "ada-1"},
			{UserID: ada.ID, Provider: "other", Issuer: other.Issuer, Subject: "ada-2"},
		} {
			if err := st.s.CreateIdentity(st.ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		providers := func() string {
			list, err := st.s.FindUserIdentities(st.ctx, ada.ID)
			if err != nil {
				t.Fatal(err)
			}
			return names(list, func(i *portal.Identity) string { return i.Provider })
		}
		upd := *corp
		upd.Name = "staff"
		if _, err := st.s.UpdateIdentityProvider(st.ctx, "corp", &upd); err != nil {
			t.Fatal(err)
		}
		if got := providers(); got != "staff,other" {
			t.Fatalf("identities after renaming corp to staff name %s", got)
		}
		// A refused rename moves nothing.
		upd.Name = "other"
		_, err := st.s.UpdateIdentityProvider(st.ctx, "staff", &upd)
		wantCode(t, err, portal.ECONFLICT)
		if got := providers(); got != "staff,other" {
			t.Fatalf("identities after a refused rename name %s", got)
		}
		// An update that keeps the name leaves them as they are.
		upd.Name, upd.DisplayName = "staff", "Staff"
		if _, err := st.s.UpdateIdentityProvider(st.ctx, "staff", &upd); err != nil {
			t.Fatal(err)
		}
		if got := providers(); got != "staff,other" {
			t.Fatalf("identities after an update name %s", got)
		}
	}},
	{"ProviderValidate", func(st *storeTest) {
		for _, bad := range []func(p *portal.IdentityProvider){
			func(p *portal.IdentityProvider) { p.Name = "has space" },
			func(p *portal.IdentityProvider) { p.Type = "saml" },
			func(p *portal.IdentityProvider) { p.ClientID = "" },
			func(p *portal.IdentityProvider) { p.Issuer = "" },
			func(p *portal.IdentityProvider) { p.Issuer = "http://idp.example.com" },
			func(p *portal.IdentityProvider) { p.Issuer = "https://idp.example.com/?x=1" },
			func(p *portal.IdentityProvider) { p.Tenant = "contoso" },
			func(p *portal.IdentityProvider) { p.Type, p.Issuer = portal.IdentityProviderEntra, "" },
			func(p *portal.IdentityProvider) { p.Type, p.Issuer = portal.IdentityProviderExternalID, "" },
			func(p *portal.IdentityProvider) { p.Scopes = []string{"open id"} },
		} {
			p := newIdentityProvider("bad")
			bad(p)
			wantCode(st.t, st.s.CreateIdentityProvider(st.ctx, p), portal.EINVALID)
		}
		ok := newIdentityProvider("loopback")
		ok.Issuer = "http://127.0.0.1:5556/dex"
		wantCode(st.t, st.s.CreateIdentityProvider(st.ctx, ok), "")
	}},
	{"Identities", func(st *storeTest) {
		t := st.t
		ada := st.user("ada@example.com", portal.RoleDeveloper)
		bob := st.user("bob@example.com", portal.RoleDeveloper)
		before := st.version()
		i := &portal.Identity{UserID: ada.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "sub-1", Email: "ada@idp.example.com"}
		if err := st.s.CreateIdentity(st.ctx, i); err != nil {
			t.Fatal(err)
		}
		if i.ID == 0 || i.CreatedAt.IsZero() {
			t.Fatalf("created %+v", i)
		}
		if st.version() != before {
			t.Fatal("linking an identity bumped the store version")
		}
		got, err := st.s.FindIdentity(st.ctx, "https://idp.example.com", "sub-1")
		if err != nil || !reflect.DeepEqual(got, i) {
			t.Fatalf("FindIdentity = %+v, %v; want %+v", got, err, i)
		}
		// Same subject at another issuer is another identity.
		_, err = st.s.FindIdentity(st.ctx, "https://other.example.com", "sub-1")
		wantCode(t, err, portal.ENOTFOUND)
		// An identity belongs to one user.
		wantCode(t, st.s.CreateIdentity(st.ctx, &portal.Identity{UserID: bob.ID, Provider: "corp", Issuer: i.Issuer, Subject: "sub-1"}), portal.ECONFLICT)
		wantCode(t, st.s.CreateIdentity(st.ctx, &portal.Identity{UserID: 9999, Provider: "corp", Issuer: i.Issuer, Subject: "sub-2"}), portal.ENOTFOUND)
		wantCode(t, st.s.CreateIdentity(st.ctx, &portal.Identity{UserID: ada.ID, Issuer: i.Issuer}), portal.EINVALID)
		second := &portal.Identity{UserID: ada.ID, Provider: "entra", Issuer: portal.EntraIssuerKey("TID"), Subject: "oid"}
		if err := st.s.CreateIdentity(st.ctx, second); err != nil {
			t.Fatal(err)
		}
		list, err := st.s.FindUserIdentities(st.ctx, ada.ID)
		if err != nil || len(list) != 2 || list[0].ID != i.ID || list[1].Issuer != "entra:tid" {
			t.Fatalf("FindUserIdentities = %+v, %v", list, err)
		}
		at := time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)
		if err := st.s.TouchIdentity(st.ctx, i.ID, "new@idp.example.com", at); err != nil {
			t.Fatal(err)
		}
		got, _ = st.s.FindIdentity(st.ctx, i.Issuer, i.Subject)
		if got.Email != "new@idp.example.com" || !got.LastUsed.Equal(at) {
			t.Fatalf("after touch %+v", got)
		}
		wantCode(t, st.s.TouchIdentity(st.ctx, 9999, "", at), portal.ENOTFOUND)
		// Bob cannot unlink Ada's identity.
		wantCode(t, st.s.DeleteIdentity(st.ctx, bob.ID, i.ID), portal.ENOTFOUND)
		wantCode(t, st.s.DeleteIdentity(st.ctx, ada.ID, i.ID), "")
		_, err = st.s.FindIdentity(st.ctx, i.Issuer, i.Subject)
		wantCode(t, err, portal.ENOTFOUND)
		// Deleting the user removes their identities.
		if err := st.s.DeleteUser(st.ctx, ada.ID); err != nil {
			t.Fatal(err)
		}
		_, err = st.s.FindIdentity(st.ctx, second.Issuer, second.Subject)
		wantCode(t, err, portal.ENOTFOUND)
	}},
	// An identity is stored unconfirmed when created so; ConfirmIdentity
	// confirms one identity of its own user only.
	{"ConfirmIdentity", func(st *storeTest) {
		t := st.t
		ada := st.user("ada@example.com", portal.RoleDeveloper)
		bob := st.user("bob@example.com", portal.RoleDeveloper)
		i := &portal.Identity{UserID: ada.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "ada", Unconfirmed: true}
		other := &portal.Identity{UserID: ada.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "ada-2", Unconfirmed: true}
		for _, id := range []*portal.Identity{i, other} {
			if err := st.s.CreateIdentity(st.ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if !st.unconfirmed(i) {
			t.Fatal("an identity created unconfirmed reads back confirmed")
		}
		wantCode(t, st.s.ConfirmIdentity(st.ctx, bob.ID, i.ID), portal.ENOTFOUND)
		if !st.unconfirmed(i) {
			t.Fatal("another user confirmed the identity")
		}
		wantCode(t, st.s.ConfirmIdentity(st.ctx, ada.ID, i.ID), "")
		if st.unconfirmed(i) {
			t.Fatal("ConfirmIdentity left the identity unconfirmed")
		}
		if !st.unconfirmed(other) {
			t.Fatal("ConfirmIdentity confirmed another identity of the user")
		}
		if list, err := st.s.FindUserIdentities(st.ctx, ada.ID); err != nil || len(list) != 2 || list[0].Unconfirmed || !list[1].Unconfirmed {
			t.Fatalf("FindUserIdentities = %+v, %v", list, err)
		}
		wantCode(t, st.s.ConfirmIdentity(st.ctx, ada.ID, i.ID+other.ID+1), portal.ENOTFOUND)
	}},
	// Only the confirmation link confirms the identities of a pending
	// account. Every other change that makes it active (an administrator,
	// a config file's state: active) drops them and voids the link, in
	// its transaction: otherwise the owner of the address, clicking the
	// old mail, would confirm a stranger's identity on the account an
	// administrator has since made theirs.
	{"ActivationDropsUnconfirmed", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		st.user("admin@example.com", portal.RoleAdmin)
		for _, how := range []string{"UpdateUser", "Apply"} {
			t.Run(how, func(t *testing.T) {
				st := &storeTest{t: t, ctx: st.ctx, s: st.s}
				email := strings.ToLower(how) + "@example.com"
				u, stranger, owned := st.pendingSignUp(email, now)
				bad := portal.Role("root")
				active := portal.UserActive
				_, err := st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{Role: &bad, State: &active})
				wantCode(t, err, portal.EINVALID)
				if !st.unconfirmed(stranger) {
					t.Fatal("a refused activation dropped the identity")
				}
				switch how {
				case "UpdateUser":
					if _, err := st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{State: &active}); err != nil {
						t.Fatal(err)
					}
				case "Apply":
					st.apply(&portal.ChangeSet{Users: []*portal.User{{Email: email, Name: "Alice", Role: portal.RoleAdmin, State: portal.UserActive}}})
				}
				if got, err := st.s.FindUserByID(st.ctx, u.ID); err != nil || got.State != portal.UserActive {
					t.Fatalf("user after activation = %+v, %v", got, err)
				}
				_, err = st.s.FindIdentity(st.ctx, stranger.Issuer, stranger.Subject)
				wantCode(t, err, portal.ENOTFOUND)
				if st.unconfirmed(owned) {
					t.Fatal("the confirmed identity changed")
				}
				_, err = st.s.FindAccountToken(st.ctx, email+"-confirm", portal.TokenConfirmSignup, now)
				wantCode(t, err, portal.ENOTFOUND)
				_, err = st.s.ConfirmSignup(st.ctx, email+"-confirm", now)
				wantCode(t, err, portal.ENOTFOUND)
				if _, err := st.s.FindAccountToken(st.ctx, email+"-reset", portal.TokenResetPassword, now); err != nil {
					t.Fatalf("the reset link after activation: %v", err)
				}
			})
		}
	}},
	// ConfirmSignup: the link activates a pending account and confirms its
	// identities in one transaction; a blocked account is refused and
	// keeps its link; a link works once.
	{"ConfirmSignup", func(st *storeTest) {
		t := st.t
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		u, stranger, _ := st.pendingSignUp("vic@example.com", now)
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "vic-second", Purpose: portal.TokenConfirmSignup, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "vic-invite", Purpose: portal.TokenInvitation, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		bob := st.user("bob@example.com", portal.RoleDeveloper)
		bobs := &portal.Identity{UserID: bob.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "bob", Unconfirmed: true}
		if err := st.s.CreateIdentity(st.ctx, bobs); err != nil {
			t.Fatal(err)
		}

		_, err := st.s.ConfirmSignup(st.ctx, "vic@example.com-confirm", now.Add(time.Hour))
		wantCode(t, err, portal.ENOTFOUND) // expired
		_, err = st.s.ConfirmSignup(st.ctx, "vic@example.com-reset", now)
		wantCode(t, err, portal.ENOTFOUND) // another purpose
		blocked, pending := portal.UserBlocked, portal.UserPending
		if _, err := st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{State: &blocked}); err != nil {
			t.Fatal(err)
		}
		_, err = st.s.ConfirmSignup(st.ctx, "vic@example.com-confirm", now)
		wantCode(t, err, portal.EFORBIDDEN)
		if _, err := st.s.FindAccountToken(st.ctx, "vic@example.com-confirm", portal.TokenConfirmSignup, now); err != nil {
			t.Fatalf("the link after a refusal: %v", err)
		}
		if got, err := st.s.FindUserByID(st.ctx, u.ID); err != nil || got.State != portal.UserBlocked || !st.unconfirmed(stranger) {
			t.Fatalf("user after a refusal = %+v, %v", got, err)
		}
		if _, err := st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{State: &pending}); err != nil {
			t.Fatal(err)
		}

		got, err := st.s.ConfirmSignup(st.ctx, "vic@example.com-confirm", now)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.State != portal.UserActive {
			t.Fatalf("ConfirmSignup = %+v", got)
		}
		if st.unconfirmed(stranger) {
			t.Fatal("ConfirmSignup left the identity unconfirmed")
		}
		if !st.unconfirmed(bobs) {
			t.Fatal("ConfirmSignup confirmed another user's identity")
		}
		for hash, purpose := range map[string]portal.TokenPurpose{"vic@example.com-confirm": portal.TokenConfirmSignup, "vic-second": portal.TokenConfirmSignup, "vic-invite": portal.TokenInvitation} {
			_, err = st.s.FindAccountToken(st.ctx, hash, purpose, now)
			wantCode(t, err, portal.ENOTFOUND)
		}
		_, err = st.s.ConfirmSignup(st.ctx, "vic@example.com-confirm", now)
		wantCode(t, err, portal.ENOTFOUND) // once only

		// The link of an account made active without it (before
		// activations voided it) is used up and confirms nothing.
		if err := st.s.CreateAccountToken(st.ctx, &portal.AccountToken{Hash: "bob-confirm", Purpose: portal.TokenConfirmSignup, UserID: bob.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, err := st.s.ConfirmSignup(st.ctx, "bob-confirm", now); err != nil || got.ID != bob.ID || got.State != portal.UserActive {
			t.Fatalf("ConfirmSignup of an active account = %+v, %v", got, err)
		}
		if !st.unconfirmed(bobs) {
			t.Fatal("the link of an active account confirmed its identity")
		}
		_, err = st.s.FindAccountToken(st.ctx, "bob-confirm", portal.TokenConfirmSignup, now)
		wantCode(t, err, portal.ENOTFOUND)
	}},
}

// unconfirmed reports whether the stored identity i is unconfirmed, and
// checks that FindUserIdentities says the same as FindIdentity.
func (st *storeTest) unconfirmed(i *portal.Identity) bool {
	st.t.Helper()
	got, err := st.s.FindIdentity(st.ctx, i.Issuer, i.Subject)
	if err != nil {
		st.t.Fatal(err)
	}
	list, err := st.s.FindUserIdentities(st.ctx, got.UserID)
	if err != nil {
		st.t.Fatal(err)
	}
	for _, l := range list {
		if l.ID == got.ID && l.Unconfirmed != got.Unconfirmed {
			st.t.Fatalf("FindUserIdentities has %+v, FindIdentity %+v", l, got)
		}
	}
	return got.Unconfirmed
}

// pendingSignUp makes what a provider sign-up the provider did not vouch
// for leaves: a pending account with an unconfirmed identity (stranger)
// and a live confirmation link (hash email+"-confirm"); it also gets a
// confirmed identity (owned) and a reset link (email+"-reset"), which no
// activation may touch.
func (st *storeTest) pendingSignUp(email string, now time.Time) (u *portal.User, stranger, owned *portal.Identity) {
	t := st.t
	t.Helper()
	u = &portal.User{Email: email, Name: "Alice", Role: portal.RoleDeveloper, State: portal.UserPending}
	if err := st.s.CreateUser(st.ctx, u); err != nil {
		t.Fatal(err)
	}
	stranger = &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "stranger-" + email, Unconfirmed: true}
	owned = &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "owned-" + email}
	for _, i := range []*portal.Identity{stranger, owned} {
		if err := st.s.CreateIdentity(st.ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range []*portal.AccountToken{
		{Hash: email + "-confirm", Purpose: portal.TokenConfirmSignup, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{Hash: email + "-reset", Purpose: portal.TokenResetPassword, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := st.s.CreateAccountToken(st.ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	return u, stranger, owned
}
