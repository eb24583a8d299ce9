package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/portal"
)

var unlinkAction = regexp.MustCompile(`action="(/profile/identities/unlink/\d+)"`)

// linkIdentity links the devidp user sub through the provider idp to the
// account signed in to b, from the profile's button.
func (e *oidcEnv) linkIdentity(t *testing.T, b *browser, idp, sub string) {
	t.Helper()
	login := b.post(t, e.portal.URL+"/profile/identities/link/"+idp, url.Values{}, true)
	if end := b.submitLogin(t, login, sub, true); end.status != http.StatusOK || end.url.Path != "/profile" {
		t.Fatalf("link %s at %s landed on %d %s", sub, idp, end.status, end.url)
	}
}

// TestProfileIdentities: a developer with a password sees the identity
// they linked, with its provider, email and dates, links another at each
// provider and unlinks one.
func TestProfileIdentities(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "dee-at-corp", Email: "dee@corp.example", Name: "Dee at Corp"})

	b := newBrowser(t)
	if p := b.post(t, e.portal.URL+"/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}}, true); p.status != http.StatusOK {
		t.Fatalf("password sign-in = %d", p.status)
	}
	p := b.get(t, e.portal.URL+"/profile", false)
	for _, want := range []string{`data-testid="profile-identities"`, "No identity is linked", `action="/profile/identities/link/corp"`, `data-testid="link-idp-corp"`, "Change your password"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("profile before linking lacks %s:\n%s", want, p.body)
		}
	}

	e.linkIdentity(t, b, "corp", "dee-at-corp")
	p = b.get(t, e.portal.URL+"/profile", false)
	if n := strings.Count(p.body, `data-testid="identity-row"`); n != 1 {
		t.Fatalf("%d identity rows after linking", n)
	}
	for _, want := range []string{`data-testid="identity-provider">Contoso staff<`, `data-testid="identity-email">dee@corp.example<`, `data-testid="unlink-identity"`, " UTC"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("profile after linking lacks %s:\n%s", want, p.body)
		}
	}
	m := unlinkAction.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no unlink form:\n%s", p.body)
	}

	// Another user cannot unlink it, nor learn that it exists.
	a := newBrowser(t)
	a.post(t, e.portal.URL+"/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}, true)
	if r := a.post(t, e.portal.URL+m[1], url.Values{}, false); r.status != http.StatusNotFound {
		t.Fatalf("another user's unlink = %d", r.status)
	}
	for _, bad := range []string{"/profile/identities/unlink/0", "/profile/identities/unlink/x", "/profile/identities/unlink/99999"} {
		if r := b.post(t, e.portal.URL+bad, url.Values{}, false); r.status != http.StatusNotFound {
			t.Fatalf("POST %s = %d", bad, r.status)
		}
	}
	// Anonymous: sign in first.
	if r := newBrowser(t).post(t, e.portal.URL+m[1], url.Values{}, false); r.status != http.StatusUnauthorized {
		t.Fatalf("anonymous unlink = %d", r.status)
	}
	if ids := e.identities(t, developerEmail); len(ids) != 1 {
		t.Fatalf("identities after refused unlinks: %d", len(ids))
	}

	// The owner, who has a password, unlinks it.
	r := b.post(t, e.portal.URL+m[1], url.Values{}, false)
	if r.status != http.StatusSeeOther || r.location != "/profile" {
		t.Fatalf("unlink = %d, Location %q", r.status, r.location)
	}
	if ids := e.identities(t, developerEmail); len(ids) != 0 {
		t.Fatalf("identities after unlink: %+v", ids)
	}
	p = b.get(t, e.portal.URL+"/profile", false)
	if !strings.Contains(p.body, "Your Contoso staff identity is unlinked") || strings.Contains(p.body, `data-testid="identity-row"`) {
		t.Fatalf("profile after unlink:\n%s", p.body)
	}
}

// TestUnlinkLastWayToSignIn: a user must keep a way to sign in. Without a
// password (or with password sign-in turned off) their only identity
// cannot be unlinked; with a second identity at a configured provider,
// either can.
func TestUnlinkLastWayToSignIn(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	ctx := context.Background()
	if err := e.store.CreateIdentityProvider(ctx, &portal.IdentityProvider{Name: "partner", Type: portal.IdentityProviderOIDC, DisplayName: "Partner accounts",
		ClientID: "portal", ClientSecret: oidcSecret, Issuer: e.idp.Issuer(), SignUp: false}); err != nil {
		t.Fatal(err)
	}
	e.idp.SetRedirectURIs("portal", e.portal.URL+"/signin/corp/callback", e.portal.URL+"/signin/partner/callback")
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc"})
	e.idp.AddUser(devidp.User{Subject: "olive-2", Email: "olive@partner.example", Name: "Olive at Partner"})

	// Olive's account is made by her first sign-in: no password.
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "olive-1", ""); end.status != http.StatusOK || e.who(t, b) != "Olive Oidc" {
		t.Fatalf("sign-in = %d as %q", end.status, e.who(t, b))
	}
	p := b.get(t, e.portal.URL+"/profile", false)
	if !strings.Contains(p.body, `href="/reset-password">Set a password<`) || strings.Contains(p.body, "Change your password") {
		t.Fatalf("a user without a password is offered to change it:\n%s", p.body)
	}
	if strings.Contains(p.body, `data-testid="unlink-identity"`) || !strings.Contains(p.body, `data-testid="identity-keep"`) {
		t.Fatalf("the only identity can be unlinked from the page:\n%s", p.body)
	}
	ids := e.identities(t, "olive@example.org")
	if len(ids) != 1 {
		t.Fatalf("identities: %d", len(ids))
	}
	only := "/profile/identities/unlink/" + strconv.FormatInt(ids[0].ID, 10)
	r := b.post(t, e.portal.URL+only, url.Values{}, false)
	if r.status != http.StatusConflict || !strings.Contains(r.body, `data-testid="error-message"`) || !strings.Contains(r.body, "only way you can sign in") {
		t.Fatalf("unlink of the only identity = %d\n%s", r.status, r.body)
	}
	if len(e.identities(t, "olive@example.org")) != 1 {
		t.Fatal("the only identity was unlinked")
	}

	// With a second identity, at another provider, the first can go.
	e.linkIdentity(t, b, "partner", "olive-2")
	p = b.get(t, e.portal.URL+"/profile", false)
	if n := strings.Count(p.body, `data-testid="unlink-identity"`); n != 2 {
		t.Fatalf("%d unlink buttons with two identities:\n%s", n, p.body)
	}
	if r := b.post(t, e.portal.URL+only, url.Values{}, false); r.status != http.StatusSeeOther {
		t.Fatalf("unlink with another identity left = %d\n%s", r.status, r.body)
	}
	left := e.identities(t, "olive@example.org")
	if len(left) != 1 || left[0].Subject != "olive-2" {
		t.Fatalf("identities left: %+v", left)
	}
	// ... and the one left is the last again.
	if r := b.post(t, e.portal.URL+"/profile/identities/unlink/"+strconv.FormatInt(left[0].ID, 10), url.Values{}, false); r.status != http.StatusConflict {
		t.Fatalf("unlink of the last identity = %d", r.status)
	}
	// It still signs her in.
	if end := e.signIn(t, newBrowser(t), "partner", "olive-2", ""); end.status != http.StatusOK {
		t.Fatalf("sign-in with the identity left = %d", end.status)
	}

	// A password counts only while password sign-in is on.
	d := newBrowser(t)
	d.post(t, e.portal.URL+"/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}}, true)
	e.idp.AddUser(devidp.User{Subject: "dee-1", Email: "dee@corp.example", Name: "Dee at Corp"})
	e.linkIdentity(t, d, "corp", "dee-1")
	st, err := e.store.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.BasicAuth.SignIn = false
	if err := e.store.UpdateSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	dee := e.identities(t, developerEmail)
	if r := d.post(t, e.portal.URL+"/profile/identities/unlink/"+strconv.FormatInt(dee[0].ID, 10), url.Values{}, false); r.status != http.StatusConflict {
		t.Fatalf("unlink with password sign-in off = %d", r.status)
	}
	p = d.get(t, e.portal.URL+"/profile", false)
	if strings.Contains(p.body, "Set a password") {
		t.Fatal("a password is offered while password sign-in is off")
	}
}

// TestRenameProviderKeepsIdentities: renaming a provider on its form
// carries the identities linked through it along, so the profile still
// shows them under the provider, an identity can be unlinked while the
// renamed one is still a way in, and an administrator who signs in
// through it may turn password sign-in off.
func TestRenameProviderKeepsIdentities(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	ctx := context.Background()
	if err := e.store.CreateIdentityProvider(ctx, &portal.IdentityProvider{Name: "partner", Type: portal.IdentityProviderOIDC, DisplayName: "Partner accounts",
		ClientID: "portal", ClientSecret: oidcSecret, Issuer: e.idp.Issuer()}); err != nil {
		t.Fatal(err)
	}
	e.idp.SetRedirectURIs("portal", e.portal.URL+"/signin/corp/callback", e.portal.URL+"/signin/partner/callback")
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc"})
	e.idp.AddUser(devidp.User{Subject: "olive-2", Email: "olive@partner.example", Name: "Olive at Partner"})
	e.idp.AddUser(devidp.User{Subject: "ada-at-corp", Email: "ada@corp.example", Name: "Ada at Corp"})

	// Olive, without a password, signs in at corp and links partner; the
	// administrator links corp.
	o := newBrowser(t)
	if end := e.signIn(t, o, "corp", "olive-1", ""); end.status != http.StatusOK {
		t.Fatalf("sign-in = %d", end.status)
	}
	e.linkIdentity(t, o, "partner", "olive-2")
	a := e.adminBrowser(t)
	e.linkIdentity(t, a, "corp", "ada-at-corp")

	r := a.post(t, e.portal.URL+"/admin/identity-providers/corp/edit", e.idpFields("name", "staff", "display_name", "Staff accounts"), false)
	if r.status != http.StatusSeeOther {
		t.Fatalf("rename = %d\n%s", r.status, r.body)
	}
	ids := e.identities(t, "olive@example.org")
	if len(ids) != 2 || ids[0].Provider != "staff" || ids[1].Provider != "partner" {
		t.Fatalf("identities after the rename: %d, first naming %q", len(ids), ids[0].Provider)
	}
	p := o.get(t, e.portal.URL+"/profile", false)
	if !strings.Contains(p.body, `data-testid="identity-provider">Staff accounts<`) || strings.Contains(p.body, "no longer offered") {
		t.Fatalf("profile after the rename does not show the identity under the new name:\n%s", p.body)
	}
	if n := strings.Count(p.body, `data-testid="unlink-identity"`); n != 2 {
		t.Fatalf("%d unlink buttons after the rename, want 2:\n%s", n, p.body)
	}
	// The staff identity is a way in, so the partner one can go.
	r = o.post(t, e.portal.URL+"/profile/identities/unlink/"+strconv.FormatInt(ids[1].ID, 10), url.Values{}, false)
	if r.status != http.StatusSeeOther {
		t.Fatalf("unlink partner = %d\n%s", r.status, r.body)
	}
	if ids := e.identities(t, "olive@example.org"); len(ids) != 1 || ids[0].Provider != "staff" {
		t.Fatalf("identities after unlinking: %+v", ids)
	}

	// The administrator signs in through the renamed provider, so turning
	// password sign-in off is allowed.
	off := settingsValues(func(v url.Values) { v.Del("signin"); v.Del("signup") })
	if r := a.post(t, e.portal.URL+"/admin/settings", off, false); r.status != http.StatusSeeOther {
		t.Fatalf("password sign-in off after the rename = %d\n%s", r.status, r.body)
	}
}
