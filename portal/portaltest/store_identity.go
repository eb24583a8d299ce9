package portaltest

import (
	"reflect"
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
	// An identity is stored unconfirmed when created so; only
	// UserUpdate.ConfirmIdentities confirms it, in the transaction of the
	// change (a refused change confirms nothing), and only the user's own.
	{"UnconfirmedIdentities", func(st *storeTest) {
		t := st.t
		st.user("admin@example.com", portal.RoleAdmin)
		mallory := &portal.User{Email: "vic@example.com", Name: "Vic", Role: portal.RoleDeveloper, State: portal.UserPending}
		if err := st.s.CreateUser(st.ctx, mallory); err != nil {
			t.Fatal(err)
		}
		bob := st.user("bob@example.com", portal.RoleDeveloper)
		i := &portal.Identity{UserID: mallory.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "mallory", Unconfirmed: true}
		other := &portal.Identity{UserID: bob.ID, Provider: "corp", Issuer: "https://idp.example.com", Subject: "bob", Unconfirmed: true}
		for _, id := range []*portal.Identity{i, other} {
			if err := st.s.CreateIdentity(st.ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		unconfirmed := func(id *portal.Identity) bool {
			t.Helper()
			got, err := st.s.FindIdentity(st.ctx, id.Issuer, id.Subject)
			if err != nil {
				t.Fatal(err)
			}
			list, err := st.s.FindUserIdentities(st.ctx, id.UserID)
			if err != nil || len(list) != 1 || list[0].Unconfirmed != got.Unconfirmed {
				t.Fatalf("FindUserIdentities = %+v, %v; want the identity as FindIdentity has it, %+v", list, err, got)
			}
			return got.Unconfirmed
		}
		if !unconfirmed(i) {
			t.Fatal("an identity created unconfirmed reads back confirmed")
		}
		// Making the account active (as a config file does) confirms
		// nothing.
		active := portal.UserActive
		if _, err := st.s.UpdateUser(st.ctx, mallory.ID, portal.UserUpdate{State: &active}); err != nil {
			t.Fatal(err)
		}
		if !unconfirmed(i) {
			t.Fatal("activating the account confirmed its identity")
		}
		// A refused change confirms nothing either.
		bad := portal.Role("root")
		_, err := st.s.UpdateUser(st.ctx, mallory.ID, portal.UserUpdate{Role: &bad, ConfirmIdentities: true})
		wantCode(t, err, portal.EINVALID)
		if !unconfirmed(i) {
			t.Fatal("a refused change confirmed the identity")
		}
		if _, err := st.s.UpdateUser(st.ctx, mallory.ID, portal.UserUpdate{ConfirmIdentities: true}); err != nil {
			t.Fatal(err)
		}
		if unconfirmed(i) {
			t.Fatal("ConfirmIdentities left the identity unconfirmed")
		}
		if !unconfirmed(other) {
			t.Fatal("ConfirmIdentities confirmed another user's identity")
		}
	}},
}
