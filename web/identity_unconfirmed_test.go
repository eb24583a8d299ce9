package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/portal"
)

// TestOIDCUnconfirmedIdentity: a provider sign-up whose address the
// provider does not vouch for links its identity unconfirmed. Whatever
// makes the account usable meanwhile (an administrator's block and
// unblock, a config file's state: active), that identity does not sign
// in; only the confirmation link mailed to the address makes it.
func TestOIDCUnconfirmedIdentity(t *testing.T) {
	ctx := context.Background()
	const victim = "vic@example.org"
	setup := func(t *testing.T) (*oidcEnv, *portal.User) {
		t.Helper()
		e := newOIDCEnv(t, oidcOptions{})
		e.addProvider(t, nil)
		e.idp.AddUser(devidp.User{Subject: "mallory-1", Email: victim, Name: "Mallory", EmailUnverified: true})
		end := e.signIn(t, newBrowser(t), "corp", "mallory-1", "")
		if end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
			t.Fatalf("the sign-up = %d\n%s", end.status, end.body)
		}
		u, err := e.store.FindUserByEmail(ctx, victim)
		if err != nil || u.State != portal.UserPending {
			t.Fatalf("the signed-up account %+v, %v", u, err)
		}
		if ids := e.identities(t, victim); len(ids) != 1 || !ids[0].Unconfirmed {
			t.Fatalf("identities of the pending account %+v, want one unconfirmed", ids)
		}
		return e, u
	}
	// refused fails unless signing in with the stranger's identity is
	// refused with the message about the mailed link, and logged so.
	refused := func(t *testing.T, e *oidcEnv) {
		t.Helper()
		before := e.reasons("identity_unconfirmed")
		b := newBrowser(t)
		end := e.signIn(t, b, "corp", "mallory-1", "")
		if end.status != http.StatusForbidden || !strings.Contains(end.body, "confirm your email address with the link in the message we sent you") || e.signedIn(t, b) {
			t.Fatalf("sign-in with the unconfirmed identity = %d at %s, signed in: %v\n%s", end.status, end.url, e.signedIn(t, b), end.body)
		}
		if e.reasons("identity_unconfirmed") != before+1 {
			t.Fatalf("not logged as identity_unconfirmed\n%s", e.logs.String())
		}
	}
	// confirmed fails unless the sign-up's confirmation link makes the
	// identity sign in.
	confirmed := func(t *testing.T, e *oidcEnv) {
		t.Helper()
		token := e.linkOf(t, victim, "/confirm/signup?token=")
		if p := newBrowser(t).post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {token}}, true); p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="signup-confirmed"`) {
			t.Fatalf("confirming = %d\n%s", p.status, p.body)
		}
		if u, _ := e.store.FindUserByEmail(ctx, victim); u.State != portal.UserActive {
			t.Fatalf("confirmed account %+v", u)
		}
		if ids := e.identities(t, victim); len(ids) != 1 || ids[0].Unconfirmed {
			t.Fatalf("identities after confirming %+v, want one confirmed", ids)
		}
		b := newBrowser(t)
		if end := e.signIn(t, b, "corp", "mallory-1", ""); end.status != http.StatusOK || !e.signedIn(t, b) {
			t.Fatalf("sign-in after confirming = %d at %s\n%s", end.status, end.url, end.body)
		}
	}

	t.Run("blocked and unblocked", func(t *testing.T) {
		e, u := setup(t)
		admin := newBrowser(t)
		admin.post(t, e.portal.URL+"/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}, true)
		if e.who(t, admin) != "Ada Admin" {
			t.Fatal("the administrator is not signed in")
		}
		for _, action := range []string{"block", "unblock"} {
			if r := admin.post(t, e.portal.URL+"/admin/users/"+strconv.FormatInt(u.ID, 10)+"/"+action, nil, false); r.status != http.StatusSeeOther {
				t.Fatalf("%s = %d\n%s", action, r.status, r.body)
			}
		}
		// Nobody can sign in to it yet: it waits for its confirmation,
		// as before the block.
		if got, _ := e.store.FindUserByEmail(ctx, victim); got.State != portal.UserPending {
			t.Fatalf("unblocked account is %s, want pending", got.State)
		}
		refused(t, e)
		confirmed(t, e)
	})

	t.Run("made active in the store", func(t *testing.T) {
		e, u := setup(t)
		// As `portico apply` with state: active does.
		active := portal.UserActive
		if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &active}); err != nil {
			t.Fatal(err)
		}
		refused(t, e)
		confirmed(t, e)
	})

	// An account usable another way shows the unconfirmed identity on
	// its profile, which its owner can unlink; it never counts as a way
	// to sign in that would let the owner unlink their last real one.
	t.Run("on the profile", func(t *testing.T) {
		e, u := setup(t)
		e.idp.AddUser(devidp.User{Subject: "vic-1", Email: victim, Name: "Vic"})
		if err := e.store.CreateIdentity(ctx, &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: e.idp.Issuer(), Subject: "vic-1"}); err != nil {
			t.Fatal(err)
		}
		active := portal.UserActive
		if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &active}); err != nil {
			t.Fatal(err)
		}
		refused(t, e)
		b := newBrowser(t)
		if end := e.signIn(t, b, "corp", "vic-1", ""); end.status != http.StatusOK || !e.signedIn(t, b) {
			t.Fatalf("the owner's sign-in = %d at %s\n%s", end.status, end.url, end.body)
		}
		var mallory, vic *portal.Identity
		for _, i := range e.identities(t, victim) {
			switch i.Subject {
			case "mallory-1":
				mallory = i
			case "vic-1":
				vic = i
			}
		}
		profile := b.get(t, e.portal.URL+"/profile", false)
		if profile.status != http.StatusOK || strings.Count(profile.body, `data-testid="identity-unconfirmed"`) != 1 {
			t.Fatalf("profile = %d, want one identity marked unconfirmed\n%s", profile.status, profile.body)
		}
		unlinks := regexp.MustCompile(`action="/profile/identities/unlink/(\d+)"`).FindAllStringSubmatch(profile.body, -1)
		if len(unlinks) != 1 || unlinks[0][1] != strconv.FormatInt(mallory.ID, 10) {
			t.Fatalf("unlink buttons %v, want only the unconfirmed identity's (%d): the owner's is their only way in", unlinks, mallory.ID)
		}
		if r := b.post(t, e.portal.URL+"/profile/identities/unlink/"+strconv.FormatInt(vic.ID, 10), nil, false); r.status != http.StatusConflict {
			t.Fatalf("unlinking the owner's only confirmed identity = %d, want 409\n%s", r.status, r.body)
		}
		if r := b.post(t, e.portal.URL+"/profile/identities/unlink/"+strconv.FormatInt(mallory.ID, 10), nil, false); r.status != http.StatusSeeOther {
			t.Fatalf("unlinking the unconfirmed identity = %d\n%s", r.status, r.body)
		}
		if ids := e.identities(t, victim); len(ids) != 1 || ids[0].Subject != "vic-1" {
			t.Fatalf("identities after unlinking %+v", ids)
		}
	})

	// Signing in at the provider with an unconfirmed identity of one's
	// own, from the profile, links it again confirmed.
	t.Run("linked again from the profile", func(t *testing.T) {
		e, u := setup(t)
		hash, err := auth.HashPassword("a long passphrase of the owner")
		if err != nil {
			t.Fatal(err)
		}
		active := portal.UserActive
		if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &active, PasswordHash: &hash}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		b.post(t, e.portal.URL+"/signin", url.Values{"email": {victim}, "password": {"a long passphrase of the owner"}}, true)
		if !e.signedIn(t, b) {
			t.Fatal("the owner is not signed in with the password")
		}
		login := b.post(t, e.portal.URL+"/profile/identities/link/corp", nil, true)
		if end := b.submitLogin(t, login, "mallory-1", true); end.status != http.StatusOK || end.url.Path != "/profile" {
			t.Fatalf("linking = %d at %s\n%s", end.status, end.url, end.body)
		}
		if ids := e.identities(t, victim); len(ids) != 1 || ids[0].Subject != "mallory-1" || ids[0].Unconfirmed {
			t.Fatalf("identities after linking %+v, want mallory-1 confirmed", ids)
		}
		b2 := newBrowser(t)
		if end := e.signIn(t, b2, "corp", "mallory-1", ""); end.status != http.StatusOK || !e.signedIn(t, b2) {
			t.Fatalf("sign-in after linking = %d at %s\n%s", end.status, end.url, end.body)
		}
	})
}
