package portaltest

import (
	"github.com/porticoapi/portico/portal"
)

// identityApplyTests check identity providers in change sets, as a config
// file's identity_providers section writes them.
var identityApplyTests = []storeTestCase{
	{"UpsertKeepsSecretAndDeletes", func(st *storeTest) {
		t := st.t
		st.apply(&portal.ChangeSet{IdentityProviders: []*portal.IdentityProvider{newIdentityProvider("corp"), newIdentityProvider("dex")}})
		corp, err := st.s.FindIdentityProviderByName(st.ctx, "corp")
		if err != nil || corp.ClientSecret != "s3cret-corp" || corp.ClientID != "client-corp" {
			t.Fatalf("after insert: %+v, %v", corp, err)
		}
		before := st.version()
		// An empty secret keeps the stored one; other fields are replaced.
		upd := newIdentityProvider("corp")
		upd.ClientSecret, upd.DisplayName, upd.Scopes = "", "Corp", nil
		st.apply(&portal.ChangeSet{IdentityProviders: []*portal.IdentityProvider{upd}, DeleteIdentityProviders: []string{"dex"}})
		if st.version() == before {
			t.Fatal("Apply did not move the version")
		}
		got, err := st.s.FindIdentityProviderByName(st.ctx, "corp")
		if err != nil || got.ClientSecret != "s3cret-corp" || got.DisplayName != "Corp" || got.Scopes != nil || got.ID != corp.ID {
			t.Fatalf("after upsert: %+v, %v", got, err)
		}
		_, err = st.s.FindIdentityProviderByName(st.ctx, "dex")
		wantCode(t, err, portal.ENOTFOUND)
		// A given secret replaces it.
		upd = newIdentityProvider("corp")
		upd.ClientSecret = "rotated"
		st.apply(&portal.ChangeSet{IdentityProviders: []*portal.IdentityProvider{upd}})
		if got, _ := st.s.FindIdentityProviderByName(st.ctx, "corp"); got.ClientSecret != "rotated" {
			t.Fatalf("secret after rotation = %q", got.ClientSecret)
		}
	}},
	{"RefusalWritesNothing", func(st *storeTest) {
		t := st.t
		st.apply(&portal.ChangeSet{IdentityProviders: []*portal.IdentityProvider{newIdentityProvider("corp")}})
		before := st.version()
		bad := newIdentityProvider("bad")
		bad.Issuer = ""
		err := st.s.Apply(st.ctx, &portal.ChangeSet{
			IdentityProviders:       []*portal.IdentityProvider{newIdentityProvider("new"), bad},
			DeleteIdentityProviders: []string{"corp"},
		})
		wantCode(t, err, portal.EINVALID)
		wantMessage(t, err, "Identity provider bad")
		err = st.s.Apply(st.ctx, &portal.ChangeSet{DeleteIdentityProviders: []string{"corp", "ghost"}})
		wantCode(t, err, portal.ENOTFOUND)
		if st.version() != before {
			t.Fatal("a refused Apply moved the version")
		}
		all, err := st.s.FindIdentityProviders(st.ctx)
		if err != nil || names(all, func(p *portal.IdentityProvider) string { return p.Name }) != "corp" {
			t.Fatalf("after refusals: %v, %v", all, err)
		}
	}},
}
