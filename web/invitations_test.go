package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/internal/smtptest"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
)

// invite sends the administration's invitation form as the fixture's
// admin.
func (e *env) invite(t *testing.T, email, name, role string) response {
	t.Helper()
	return e.postForm(t, "/admin/invitations", e.cookieOf(t, "admin"), url.Values{"email": {email}, "name": {name}, "role": {role}})
}

// invitationLink returns the path of the invitation link in the newest
// mail to email kept in the outbox.
func (e *env) invitationLink(t *testing.T, email string) string {
	t.Helper()
	for _, m := range e.outbox(t) {
		if len(m.To) > 0 && m.To[0] == email && strings.Contains(m.Subject, "invited") {
			return linkIn(t, m.Text, "/confirm/invitation?token=")
		}
	}
	t.Fatalf("no invitation mail to %s", email)
	return ""
}

// signedInAs reports whether the session of cookie shows name as the
// signed-in account.
func (e *env) signedInAs(t *testing.T, cookie, name string) bool {
	t.Helper()
	r := e.send(t, http.MethodGet, "/profile", nil, http.Header{"Cookie": {cookie}})
	return r.status == http.StatusOK && strings.Contains(r.body, `data-testid="account-name"`) && strings.Contains(r.body, name)
}

func tokenOf(link string) string { return strings.TrimPrefix(link, "/confirm/invitation?token=") }

// TestInvitationWithPassword: an administrator invites someone from
// /admin/invitations; the mail (over real SMTP) links to a page naming the
// invitee; they choose a password and land signed in with the role they
// were invited with; the link works once.
func TestInvitationWithPassword(t *testing.T) {
	smtp := smtptest.New(t, smtptest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://" + smtp.Addr, From: "portal@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{mail: sender})

	r := e.getAs(t, "/admin/invitations", "admin")
	wantStatus(t, "GET /admin/invitations", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="invitation-form"`) || !strings.Contains(r.body, "48 hours") || count(r.body, `data-testid="invitation-row"`) != 0 {
		t.Fatalf("invitations page:\n%s", r.body)
	}
	r = e.invite(t, " Ivy@Example.org ", "Ivy Invitee", "admin")
	wantStatus(t, "POST /admin/invitations", r, http.StatusSeeOther)
	if r.header.Get("Location") != "/admin/invitations" {
		t.Fatalf("invite led to %q", r.header.Get("Location"))
	}
	msgs := smtp.Wait(t, 1)
	if msgs[0].To[0] != "ivy@example.org" || !strings.Contains(msgs[0].Subject, "invited to Contoso APIs") || !strings.Contains(msgs[0].Text, "48 hours") {
		t.Fatalf("mail to %v %q\n%s", msgs[0].To, msgs[0].Subject, msgs[0].Text)
	}
	link := linkIn(t, msgs[0].Text, "/confirm/invitation?token=")
	token := tokenOf(link)
	u := e.userByEmail(t, "ivy@example.org")
	if u.State != portal.UserPending || u.Role != portal.RoleAdmin || u.PasswordHash != "" || u.Name != "Ivy Invitee" {
		t.Fatalf("invited user %+v", u)
	}
	// Only the token's hash is stored.
	toks, err := e.store.FindAccountTokens(context.Background(), portal.TokenInvitation, e.clock.Now())
	if err != nil || len(toks) != 1 || toks[0].Hash == token || strings.Contains(toks[0].Hash, token) {
		t.Fatalf("stored invitations %+v, %v", toks, err)
	}
	r = e.getAs(t, "/admin/invitations", "admin")
	if count(r.body, `data-testid="invitation-row"`) != 1 || !strings.Contains(r.body, "ivy@example.org") ||
		!strings.Contains(r.body, toks[0].ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")) || !strings.Contains(r.body, "Invitation sent to ivy@example.org.") {
		t.Fatalf("the list lacks the invitation:\n%s", r.body)
	}

	v := e.visitor()
	r = v.get(t, link)
	wantStatus(t, "GET invitation link", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="accept-invitation-form"`) || !strings.Contains(r.body, "Ivy Invitee") ||
		!strings.Contains(r.body, `data-testid="invitation-address">ivy@example.org<`) || !strings.Contains(r.body, "administrator") {
		t.Fatalf("invitation page:\n%s", r.body)
	}
	// A mistake keeps the link and shows why.
	r = v.post(t, "/confirm/invitation", url.Values{"token": {token}, "password": {"a long enough password"}, "password2": {"another one"}})
	wantStatus(t, "different passwords", r, http.StatusBadRequest)
	if !strings.Contains(r.body, `name="token" value="`+token+`"`) || !strings.Contains(r.body, `data-testid="error-message"`) {
		t.Fatalf("the form lost the token or the message:\n%s", r.body)
	}
	const password = "the invitation was kind"
	r = v.post(t, "/confirm/invitation", url.Values{"token": {token}, "password": {password}, "password2": {password}})
	wantStatus(t, "accept with a password", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="invitation-accepted"`) || v.cookie == "" {
		t.Fatalf("no welcome or no session:\n%s", r.body)
	}
	if !e.signedInAs(t, v.cookie, "Ivy Invitee") {
		t.Fatalf("not signed in after accepting")
	}
	if r := v.get(t, "/admin/"); r.status != http.StatusOK {
		t.Fatalf("the invited administrator gets /admin/ = %d", r.status)
	}
	u = e.userByEmail(t, "ivy@example.org")
	if u.State != portal.UserActive || u.PasswordHash == "" {
		t.Fatalf("accepted user %+v", u)
	}
	e.signIn(t, "ivy@example.org", password, "")

	// The link works once, and the invitation leaves the list.
	r = e.get(t, link)
	wantStatus(t, "GET used link", r, http.StatusNotFound)
	if !strings.Contains(r.body, "already accepted") && !strings.Contains(r.body, "already used") {
		t.Fatalf("used link page does not say why:\n%s", r.body)
	}
	wantStatus(t, "POST used link", e.postForm(t, "/confirm/invitation", "", url.Values{"token": {token}, "password": {"yet another password"}, "password2": {"yet another password"}}), http.StatusNotFound)
	if r := e.getAs(t, "/admin/invitations", "admin"); count(r.body, `data-testid="invitation-row"`) != 0 {
		t.Fatalf("an accepted invitation is still listed")
	}
}

// TestInvitationExpires: the link stops working after the settings'
// invitation lifetime, with a page that says so.
func TestInvitationExpires(t *testing.T) {
	e := newEnv(t)
	e.changeSettings(t, func(s *portal.Settings) { s.InvitationTTL = 2 * time.Hour })
	wantStatus(t, "invite", e.invite(t, "late@example.org", "", "developer"), http.StatusSeeOther)
	m := e.outbox(t)[0]
	if !strings.Contains(m.Text, "2 hours") {
		t.Fatalf("mail does not give the lifetime:\n%s", m.Text)
	}
	link := e.invitationLink(t, "late@example.org")
	if u := e.userByEmail(t, "late@example.org"); u.Name != "late" || u.Role != portal.RoleDeveloper {
		t.Fatalf("invited user %+v", u)
	}
	e.clock.Advance(2*time.Hour - time.Second)
	wantStatus(t, "GET link before expiry", e.get(t, link), http.StatusOK)
	e.clock.Advance(time.Second)
	r := e.get(t, link)
	wantStatus(t, "GET expired link", r, http.StatusNotFound)
	if !strings.Contains(r.body, "expired") {
		t.Fatalf("expired link page does not say why:\n%s", r.body)
	}
	wantStatus(t, "POST expired link", e.postForm(t, "/confirm/invitation", "", url.Values{"token": {tokenOf(link)}, "password": {"a fine long password"}, "password2": {"a fine long password"}}), http.StatusNotFound)
	if u := e.userByEmail(t, "late@example.org"); u.State != portal.UserPending {
		t.Fatalf("expired invitation changed the user: %+v", u)
	}
	// Inviting again works. (The admin's session idled out meanwhile.)
	e.mu.Lock()
	delete(e.cookies, "admin")
	e.mu.Unlock()
	wantStatus(t, "invite again", e.invite(t, "late@example.org", "Late Larry", "developer"), http.StatusSeeOther)
	again := e.invitationLink(t, "late@example.org")
	if again == link {
		t.Fatal("the new invitation reuses the old link")
	}
	wantStatus(t, "GET new link", e.get(t, again), http.StatusOK)
	if r := e.getAs(t, "/admin/invitations", "admin"); count(r.body, `data-testid="invitation-row"`) != 1 {
		t.Fatalf("the expired invitation is listed beside the new one")
	}
	if u := e.userByEmail(t, "late@example.org"); u.Name != "Late Larry" {
		t.Fatalf("re-invited user %+v", u)
	}
}

// TestInvitationRevoke: a revoked invitation's link stops working and the
// account made for it goes; an account in use has nothing to revoke.
func TestInvitationRevoke(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, "invite", e.invite(t, "gone@example.org", "Gone Gus", "developer"), http.StatusSeeOther)
	link := e.invitationLink(t, "gone@example.org")
	u := e.userByEmail(t, "gone@example.org")
	page := e.getAs(t, "/admin/invitations", "admin")
	action := "/admin/invitations/" + strconv.FormatInt(u.ID, 10) + "/revoke"
	if !strings.Contains(page.body, `action="`+action+`"`) || !strings.Contains(page.body, `data-testid="invitation-revoke"`) {
		t.Fatalf("no revoke button:\n%s", page.body)
	}
	// Re-inviting replaces the link: the first one stops working.
	wantStatus(t, "invite again", e.invite(t, "gone@example.org", "Gone Gus", "developer"), http.StatusSeeOther)
	second := e.invitationLink(t, "gone@example.org")
	wantStatus(t, "GET replaced link", e.get(t, link), http.StatusNotFound)
	if r := e.getAs(t, "/admin/invitations", "admin"); count(r.body, `data-testid="invitation-row"`) != 1 {
		t.Fatalf("re-inviting listed %d invitations", count(r.body, `data-testid="invitation-row"`))
	}

	r := e.postForm(t, action, e.cookieOf(t, "admin"), nil)
	wantStatus(t, "revoke", r, http.StatusSeeOther)
	wantStatus(t, "GET revoked link", e.get(t, second), http.StatusNotFound)
	if _, err := e.store.FindUserByEmail(context.Background(), "gone@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the invited account stays after revoking: %v", err)
	}
	if r := e.getAs(t, "/admin/invitations", "admin"); count(r.body, `data-testid="invitation-row"`) != 0 || !strings.Contains(r.body, "revoked") {
		t.Fatalf("after revoking:\n%s", r.body)
	}
	// An active account has no invitation to revoke.
	dev := e.userByEmail(t, developerEmail)
	wantStatus(t, "revoke an active account", e.postForm(t, "/admin/invitations/"+strconv.FormatInt(dev.ID, 10)+"/revoke", e.cookieOf(t, "admin"), nil), http.StatusConflict)
	wantStatus(t, "revoke an unknown account", e.postForm(t, "/admin/invitations/999/revoke", e.cookieOf(t, "admin"), nil), http.StatusNotFound)
}

// TestInvitationRefusals: an address with an account, a bad address and
// a bad role are refused with the form kept; a blocked invitee's link
// does not work; the page and the actions are for administrators only.
func TestInvitationRefusals(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		email, role string
		status      int
		message     string
	}{
		{developerEmail, "developer", http.StatusConflict, "already has an account"},
		{"not an address", "developer", http.StatusBadRequest, "not a valid address"},
		{"fine@example.org", "owner", http.StatusBadRequest, "must be admin or developer"},
	} {
		t.Run(tc.email, func(t *testing.T) {
			r := e.invite(t, tc.email, "Named Person", tc.role)
			wantStatus(t, "invite "+tc.email, r, tc.status)
			if !strings.Contains(r.body, tc.message) || !strings.Contains(r.body, `value="Named Person"`) || !strings.Contains(r.body, `data-testid="invitation-form"`) {
				t.Fatalf("the form does not come back with the message %q:\n%s", tc.message, r.body)
			}
		})
	}
	if n := len(e.outbox(t)); n != 0 {
		t.Fatalf("refused invitations sent %d mails", n)
	}

	// A blocked invitee cannot accept.
	wantStatus(t, "invite", e.invite(t, "blocked@example.org", "", "developer"), http.StatusSeeOther)
	link := e.invitationLink(t, "blocked@example.org")
	u := e.userByEmail(t, "blocked@example.org")
	wantStatus(t, "block the invitee", e.postForm(t, "/admin/users/"+strconv.FormatInt(u.ID, 10)+"/block", e.cookieOf(t, "admin"), nil), http.StatusSeeOther)
	wantStatus(t, "GET link of a blocked invitee", e.get(t, link), http.StatusForbidden)

	// Not for developers, nor for anonymous visitors.
	for _, as := range []string{"developer", ""} {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, "/admin/invitations"},
			{http.MethodPost, "/admin/invitations"},
			{http.MethodPost, "/admin/invitations/" + strconv.FormatInt(u.ID, 10) + "/revoke"},
			{http.MethodPost, "/admin/users/1/block"},
			{http.MethodPost, "/admin/users/1/role/developer"},
			{http.MethodGet, "/admin/users/1/delete"},
			{http.MethodPost, "/admin/users/1/delete"},
		} {
			want := http.StatusForbidden
			if as == "" {
				want = http.StatusUnauthorized
				if req.method == http.MethodGet {
					want = http.StatusSeeOther
				}
			}
			h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			if as != "" {
				h.Set("Cookie", e.cookieOf(t, as))
			}
			r := e.send(t, req.method, req.path, strings.NewReader("email=x%40example.org&name=X&role=admin"), h)
			if r.status != want {
				t.Fatalf("%s %s as %q = %d, want %d", req.method, req.path, as, r.status, want)
			}
		}
	}
	if _, err := e.store.FindUserByEmail(context.Background(), "x@example.org"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("a refused request invited someone: %v", err)
	}
	if u := e.userByEmail(t, adminEmail); u.State != portal.UserActive || u.Role != portal.RoleAdmin {
		t.Fatalf("a refused request changed the admin: %+v", u)
	}
}

var userRowAction = regexp.MustCompile(`action="(/admin/users/\d+/[a-z/]+)"`)

// TestAdminUserActions: blocking ends the user's sessions at once and
// their keys stop passing; unblocking lets them back; a role change ends
// their sessions; deleting asks first, then removes the account, its
// sessions and subscriptions.
func TestAdminUserActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.cookieOf(t, "admin")
	dev := e.userByEmail(t, developerEmail)
	base := "/admin/users/" + strconv.FormatInt(dev.ID, 10)
	devSession := e.signIn(t, developerEmail, developerPassword, "")

	r := e.getAs(t, "/admin/users", "admin")
	wantStatus(t, "GET /admin/users", r, http.StatusOK)
	var actions []string
	for _, m := range userRowAction.FindAllStringSubmatch(r.body, -1) {
		actions = append(actions, m[1])
	}
	for _, want := range []string{base + "/block", base + "/role/admin"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Fatalf("the list lacks the action %s: %v", want, actions)
		}
	}
	if !strings.Contains(r.body, `href="`+base+`/delete"`) {
		t.Fatal("the list lacks the delete link")
	}

	// The developer's subscription is active with a key that passes.
	active := portal.SubscriptionActive
	if _, err := e.store.UpdateSubscription(ctx, 1, portal.SubscriptionUpdate{State: &active}); err != nil {
		t.Fatal(err)
	}
	key, _, err := e.store.RevealSubscriptionKeys(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	keyPasses := func() bool {
		t.Helper()
		sub, _, err := e.store.FindSubscriptionByKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return sub.KeysPass(time.Now())
	}
	if !keyPasses() {
		t.Fatal("the key does not pass before blocking")
	}

	wantStatus(t, "block", e.postForm(t, base+"/block", admin, nil), http.StatusSeeOther)
	if e.userByEmail(t, developerEmail).State != portal.UserBlocked {
		t.Fatal("not blocked")
	}
	if e.sessionStored(t, devSession) {
		t.Fatal("the blocked user's session is still stored")
	}
	if e.signedInAs(t, devSession, "Dee Developer") {
		t.Fatal("the blocked user's session still works")
	}
	if keyPasses() {
		t.Fatal("the blocked user's key still passes")
	}
	wantStatus(t, "blocked sign-in", e.postForm(t, "/signin", "", url.Values{"email": {developerEmail}, "password": {developerPassword}}), http.StatusForbidden)
	if r := e.getAs(t, "/admin/users", "admin"); !strings.Contains(r.body, `action="`+base+`/unblock"`) || !strings.Contains(r.body, "is blocked and signed out") {
		t.Fatalf("after blocking the list offers no unblock or notice")
	}

	wantStatus(t, "unblock", e.postForm(t, base+"/unblock", admin, nil), http.StatusSeeOther)
	if e.userByEmail(t, developerEmail).State != portal.UserActive || !keyPasses() {
		t.Fatal("unblocking did not restore the user and key")
	}
	wantStatus(t, "unblock twice", e.postForm(t, base+"/unblock", admin, nil), http.StatusConflict)

	// A role change ends the user's sessions.
	devSession = e.signIn(t, developerEmail, developerPassword, "")
	wantStatus(t, "make admin", e.postForm(t, base+"/role/admin", admin, nil), http.StatusSeeOther)
	if u := e.userByEmail(t, developerEmail); u.Role != portal.RoleAdmin {
		t.Fatalf("role after promoting %s", u.Role)
	}
	if e.sessionStored(t, devSession) || e.signedInAs(t, devSession, "Dee Developer") {
		t.Fatal("a session outlived the role change")
	}
	devSession = e.signIn(t, developerEmail, developerPassword, "")
	if r := e.send(t, http.MethodGet, "/admin/", nil, http.Header{"Cookie": {devSession}}); r.status != http.StatusOK {
		t.Fatalf("the new administrator gets /admin/ = %d", r.status)
	}
	wantStatus(t, "bad role", e.postForm(t, base+"/role/owner", admin, nil), http.StatusBadRequest)
	wantStatus(t, "make developer", e.postForm(t, base+"/role/developer", admin, nil), http.StatusSeeOther)
	if r := e.send(t, http.MethodGet, "/admin/", nil, http.Header{"Cookie": {devSession}}); r.status == http.StatusOK {
		t.Fatal("the demoted user still reaches /admin/")
	}

	// Deleting asks first.
	devSession = e.signIn(t, developerEmail, developerPassword, "")
	r = e.getAs(t, base+"/delete", "admin")
	wantStatus(t, "GET delete", r, http.StatusOK)
	if !strings.Contains(r.body, `data-testid="confirm-delete"`) || !strings.Contains(r.body, developerEmail) || !strings.Contains(r.body, "1 subscription is deleted") {
		t.Fatalf("confirmation page:\n%s", r.body)
	}
	wantStatus(t, "POST delete", e.postForm(t, base+"/delete", admin, nil), http.StatusSeeOther)
	if _, err := e.store.FindUserByEmail(ctx, developerEmail); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the user stays: %v", err)
	}
	if e.sessionStored(t, devSession) || e.signedInAs(t, devSession, "Dee Developer") {
		t.Fatal("the deleted user's session still works")
	}
	if _, _, err := e.store.FindSubscriptionByKey(ctx, key); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the deleted user's key is still found: %v", err)
	}
	wantStatus(t, "delete again", e.postForm(t, base+"/delete", admin, nil), http.StatusNotFound)
	wantStatus(t, "unknown action", e.postForm(t, "/admin/users/1/explode", admin, nil), http.StatusNotFound)
}

// sessionStored reports whether the session of cookie (a Cookie header)
// is still in the store, without a request that would end it on the way.
func (e *env) sessionStored(t *testing.T, cookie string) bool {
	t.Helper()
	_, token, _ := strings.Cut(cookie, "=")
	sum := sha256.Sum256([]byte(token))
	_, err := e.store.FindSession(context.Background(), hex.EncodeToString(sum[:]), e.clock.Now())
	switch portal.ErrorCode(err) {
	case "":
		return true
	case portal.ENOTFOUND:
		return false
	}
	t.Fatal(err)
	return false
}

// TestLastAdministrator: the only active administrator cannot be
// blocked, demoted or deleted; with a second one, they can step down.
func TestLastAdministrator(t *testing.T) {
	e := newEnv(t)
	admin := e.cookieOf(t, "admin")
	ada := e.userByEmail(t, adminEmail)
	base := "/admin/users/" + strconv.FormatInt(ada.ID, 10)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, base + "/block"},
		{http.MethodPost, base + "/role/developer"},
		{http.MethodGet, base + "/delete"},
		{http.MethodPost, base + "/delete"},
	} {
		h := http.Header{"Cookie": {admin}, "Content-Type": {"application/x-www-form-urlencoded"}}
		r := e.send(t, tc.method, tc.path, nil, h)
		wantStatus(t, tc.method+" "+tc.path, r, http.StatusConflict)
		if !strings.Contains(r.body, "last active administrator") {
			t.Fatalf("%s %s does not say why:\n%s", tc.method, tc.path, r.body)
		}
	}
	if u := e.userByEmail(t, adminEmail); u.State != portal.UserActive || u.Role != portal.RoleAdmin {
		t.Fatalf("the last admin changed: %+v", u)
	}
	// A blocked administrator does not count.
	other := e.addUser(t, "bo@example.com", "Bo Blocked", "a password for bo")
	role, blocked := portal.RoleAdmin, portal.UserBlocked
	if _, err := e.store.UpdateUser(context.Background(), other.ID, portal.UserUpdate{Role: &role, State: &blocked}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "demote with only a blocked second admin", e.postForm(t, base+"/role/developer", admin, nil), http.StatusConflict)

	// With a second active administrator, the first may step down: the
	// session that carried the role ends, and they go on, signed in as a
	// developer, on a new one.
	wantStatus(t, "unblock the second", e.postForm(t, "/admin/users/"+strconv.FormatInt(other.ID, 10)+"/unblock", admin, nil), http.StatusSeeOther)
	adminElsewhere := e.signIn(t, adminEmail, adminPassword, "")
	r := e.postForm(t, base+"/role/developer", admin, nil)
	wantStatus(t, "step down", r, http.StatusSeeOther)
	if e.userByEmail(t, adminEmail).Role != portal.RoleDeveloper {
		t.Fatal("not demoted")
	}
	if e.sessionStored(t, admin) || e.signedInAs(t, admin, "Ada Admin") {
		t.Fatal("the demoted admin's old session outlived the role change")
	}
	if e.sessionStored(t, adminElsewhere) {
		t.Fatal("the demoted admin's other session outlived the role change")
	}
	c := sessionCookie(r)
	if c == nil || c.MaxAge < 0 || c.Name+"="+c.Value == admin {
		t.Fatalf("stepping down set no new session cookie: %+v", c)
	}
	rotated := c.Name + "=" + c.Value
	if !e.signedInAs(t, rotated, "Ada Admin") {
		t.Fatal("the demoted admin is not signed in on the new session")
	}
	wantStatus(t, "the demoted admin opens /admin/", e.send(t, http.MethodGet, "/admin/", nil, http.Header{"Cookie": {rotated}}), http.StatusForbidden)
	bo := e.signIn(t, "bo@example.com", "a password for bo", "")
	wantStatus(t, "the last admin blocks themself", e.postForm(t, "/admin/users/"+strconv.FormatInt(other.ID, 10)+"/block", bo, nil), http.StatusConflict)
}

// TestInvitationWithProvider: the invitee accepts by signing in at an
// identity provider (devidp on loopback) that does not allow sign-up:
// the identity is linked to the invited account, which becomes active and
// signed in, and signs in with that identity from then on. An identity
// that belongs to another account is refused and leaves the invitation
// usable.
func TestInvitationWithProvider(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, func(p *portal.IdentityProvider) { p.SignUp = false })
	e.idp.AddUser(devidp.User{Subject: "ivy-1", Email: "ivy.elsewhere@example.net", Name: "Ivy at the IdP"})
	e.idp.AddUser(devidp.User{Subject: "taken-1", Email: "taken@example.net", Name: "Taken"})
	dev, err := e.store.FindUserByEmail(ctx, developerEmail)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateIdentity(ctx, &portal.Identity{UserID: dev.ID, Provider: "corp", Issuer: e.idp.Issuer(), Subject: "taken-1"}); err != nil {
		t.Fatal(err)
	}
	inv, err := auth.Invite(ctx, e.store, "ivy@example.org", "Ivy Invitee", portal.RoleDeveloper, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	link := e.portal.URL + auth.InvitationPath(inv.Token)
	profileShows := func(b *browser, name string) bool {
		p := b.get(t, e.portal.URL+"/profile", false)
		return p.status == http.StatusOK && strings.Contains(p.body, name)
	}

	// Another account's identity: refused, and the link still works.
	b := newBrowser(t)
	page := b.get(t, link, false)
	if page.status != http.StatusOK || !strings.Contains(page.body, `data-testid="invitation-idp-corp"`) ||
		!strings.Contains(page.body, `action="/confirm/invitation/idp/corp"`) {
		t.Fatalf("invitation page = %d\n%s", page.status, page.body)
	}
	login := b.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, true)
	end := b.submitLogin(t, login, "taken-1", true)
	if end.status != http.StatusConflict || !strings.Contains(end.body, "already linked to another account") {
		t.Fatalf("accepting with another account's identity = %d %s\n%s", end.status, end.url, end.body)
	}
	if profileShows(b, "Dee Developer") || profileShows(b, "Ivy Invitee") {
		t.Fatal("the refused browser is signed in")
	}
	if u, _ := e.store.FindUserByEmail(ctx, "ivy@example.org"); u.State != portal.UserPending {
		t.Fatalf("the refusal changed the invitee: %+v", u)
	}

	// The invitee's own identity.
	b = newBrowser(t)
	if p := b.get(t, link, false); p.status != http.StatusOK {
		t.Fatalf("the link after a refusal = %d", p.status)
	}
	login = b.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, true)
	end = b.submitLogin(t, login, "ivy-1", true)
	if end.status != http.StatusOK || end.url.Path != "/profile" || !strings.Contains(end.body, "Ivy Invitee") || !strings.Contains(end.body, "invitation is accepted") {
		t.Fatalf("accepting landed on %d %s\n%s", end.status, end.url, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, "ivy@example.org")
	if err != nil || u.State != portal.UserActive || u.PasswordHash != "" || u.Role != portal.RoleDeveloper {
		t.Fatalf("accepted user %+v, %v", u, err)
	}
	ids := e.identities(t, "ivy@example.org")
	if len(ids) != 1 || ids[0].Subject != "ivy-1" || ids[0].Issuer != e.idp.Issuer() || ids[0].Provider != "corp" {
		t.Fatalf("identities %+v", ids)
	}
	// The link works once.
	if p := newBrowser(t).get(t, link, false); p.status != http.StatusNotFound {
		t.Fatalf("the used link = %d", p.status)
	}
	if p := newBrowser(t).post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, false); p.status != http.StatusNotFound {
		t.Fatalf("starting a flow with the used link = %d", p.status)
	}
	// From now on the identity signs in to the account, sign-up or not.
	b2 := newBrowser(t)
	if end := e.signIn(t, b2, "corp", "ivy-1", ""); end.status != http.StatusOK || !profileShows(b2, "Ivy Invitee") {
		t.Fatalf("signing in with the linked identity = %d %s", end.status, end.url)
	}
}

// TestInvitationWithProviderLinkedMeanwhile: when the identity is linked
// to another account between the start of the flow and its callback, the
// refusal leaves the invitation usable and the invitee pending without
// identity.
func TestInvitationWithProviderLinkedMeanwhile(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, func(p *portal.IdentityProvider) { p.SignUp = false })
	e.idp.AddUser(devidp.User{Subject: "ivy-1", Email: "ivy.elsewhere@example.net", Name: "Ivy at the IdP"})
	inv, err := auth.Invite(ctx, e.store, "ivy@example.org", "Ivy Invitee", portal.RoleDeveloper, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	dev, err := e.store.FindUserByEmail(ctx, developerEmail)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	login := b.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, true)
	if err := e.store.CreateIdentity(ctx, &portal.Identity{UserID: dev.ID, Provider: "corp", Issuer: e.idp.Issuer(), Subject: "ivy-1"}); err != nil {
		t.Fatal(err)
	}
	end := b.submitLogin(t, login, "ivy-1", true)
	if end.status != http.StatusConflict || !strings.Contains(end.body, "already linked to another account") {
		t.Fatalf("accepting = %d %s\n%s", end.status, end.url, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, "ivy@example.org")
	if err != nil || u.State != portal.UserPending {
		t.Fatalf("invitee %+v, %v", u, err)
	}
	if ids := e.identities(t, "ivy@example.org"); len(ids) != 0 {
		t.Fatalf("invitee identities %+v", ids)
	}
	if have, err := e.store.FindIdentity(ctx, e.idp.Issuer(), "ivy-1"); err != nil || have.UserID != dev.ID {
		t.Fatalf("identity %+v, %v", have, err)
	}
	if p := newBrowser(t).get(t, e.portal.URL+auth.InvitationPath(inv.Token), false); p.status != http.StatusOK {
		t.Fatalf("the invitation after the refusal = %d", p.status)
	}
}

// TestInvitationWithProviderOtherTabWon: two tabs accept one invitation
// with the same identity; the second to come back finds it accepted and
// leaves the first one's work alone: the identity stays linked and signs
// in, and the account stays active.
func TestInvitationWithProviderOtherTabWon(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, func(p *portal.IdentityProvider) { p.SignUp = false })
	e.idp.AddUser(devidp.User{Subject: "ivy-1", Email: "ivy.elsewhere@example.net", Name: "Ivy at the IdP"})
	inv, err := auth.Invite(ctx, e.store, "ivy@example.org", "Ivy Invitee", portal.RoleDeveloper, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	first, second := newBrowser(t), newBrowser(t)
	firstLogin := first.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, true)
	secondLogin := second.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, true)
	if end := first.submitLogin(t, firstLogin, "ivy-1", true); end.status != http.StatusOK || !e.signedIn(t, first) {
		t.Fatalf("the first tab = %d %s\n%s", end.status, end.url, end.body)
	}
	end := second.submitLogin(t, secondLogin, "ivy-1", true)
	if end.status != http.StatusNotFound || !strings.Contains(end.body, "already used") {
		t.Fatalf("the losing tab = %d %s\n%s", end.status, end.url, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, "ivy@example.org")
	if err != nil || u.State != portal.UserActive {
		t.Fatalf("invitee %+v, %v", u, err)
	}
	if ids := e.identities(t, "ivy@example.org"); len(ids) != 1 || ids[0].Subject != "ivy-1" {
		t.Fatalf("invitee identities %+v", ids)
	}
	// The winner's way in works (the provider allows no sign-up, so only
	// the linked identity can sign in).
	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "ivy-1", ""); end.status != http.StatusOK || !e.signedIn(t, b) {
		t.Fatalf("signing in with the linked identity = %d %s\n%s", end.status, end.url, end.body)
	}
}
