package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/mail"
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
		confirmed(t, e)
	})

	// Mallory signs up with Alice's address; an administrator makes the
	// account active (and an administrator) before anyone confirmed it.
	// That drops Mallory's identity and voids the confirmation link, so
	// that Alice, clicking the old mail, does not hand Mallory an
	// administrator's login.
	t.Run("made active in the store", func(t *testing.T) {
		e, u := setup(t)
		token := e.linkOf(t, victim, "/confirm/signup?token=")
		// As `portico apply` with state: active does (the conformance
		// suite checks that Apply does the same).
		active, admin := portal.UserActive, portal.RoleAdmin
		if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &active, Role: &admin}); err != nil {
			t.Fatal(err)
		}
		if ids := e.identities(t, victim); len(ids) != 0 {
			t.Fatalf("identities after activation %+v, want none", ids)
		}
		if p := newBrowser(t).post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {token}}, true); p.status != http.StatusNotFound {
			t.Fatalf("the old confirmation link = %d, want 404\n%s", p.status, p.body)
		}
		b := newBrowser(t)
		if end := e.signIn(t, b, "corp", "mallory-1", ""); end.status == http.StatusOK || e.signedIn(t, b) {
			t.Fatalf("Mallory's sign-in after activation = %d at %s, signed in: %v\n%s", end.status, end.url, e.signedIn(t, b), end.body)
		}
		if ids := e.identities(t, victim); len(ids) != 0 {
			t.Fatalf("identities after Mallory's sign-in %+v, want none", ids)
		}
	})

	// An account usable another way (made active before activations
	// dropped unconfirmed identities) shows the unconfirmed identity on
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
		legacyUnconfirmed(t, e, u)
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
	// own, from the profile, confirms it.
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
		before := legacyUnconfirmed(t, e, u)
		b := newBrowser(t)
		b.post(t, e.portal.URL+"/signin", url.Values{"email": {victim}, "password": {"a long passphrase of the owner"}}, true)
		if !e.signedIn(t, b) {
			t.Fatal("the owner is not signed in with the password")
		}
		login := b.post(t, e.portal.URL+"/profile/identities/link/corp", nil, true)
		if end := b.submitLogin(t, login, "mallory-1", true); end.status != http.StatusOK || end.url.Path != "/profile" {
			t.Fatalf("linking = %d at %s\n%s", end.status, end.url, end.body)
		}
		// Confirmed where it is, not unlinked and linked anew: a failure
		// half way must not lose it.
		if ids := e.identities(t, victim); len(ids) != 1 || ids[0].ID != before.ID || ids[0].Unconfirmed {
			t.Fatalf("identities after linking %+v, want identity %d (mallory-1) confirmed", ids, before.ID)
		}
		b2 := newBrowser(t)
		if end := e.signIn(t, b2, "corp", "mallory-1", ""); end.status != http.StatusOK || !e.signedIn(t, b2) {
			t.Fatalf("sign-in after linking = %d at %s\n%s", end.status, end.url, end.body)
		}
	})
}

// legacyUnconfirmed links mallory-1 to u unconfirmed again, as an account
// made active before activations dropped unconfirmed identities still has
// it, and returns it.
func legacyUnconfirmed(t *testing.T, e *oidcEnv, u *portal.User) *portal.Identity {
	t.Helper()
	i := &portal.Identity{UserID: u.ID, Provider: "corp", Issuer: e.idp.Issuer(), Subject: "mallory-1", Unconfirmed: true}
	if err := e.store.CreateIdentity(context.Background(), i); err != nil {
		t.Fatal(err)
	}
	return i
}

// TestOIDCUnconfirmedSignInResends: the holder of an unconfirmed identity
// whose confirmation mail was lost (or whose link expired) signs in again
// and gets a new link, within the address's sign-up budget, rather than
// being stuck: the identity exists, so signing up again fails, and a
// portal without password sign-in has no reset. The account stays.
func TestOIDCUnconfirmedSignInResends(t *testing.T) {
	ctx := context.Background()
	const email = "ed@example.org"
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "ed-1", Email: email, Name: "Ed", EmailUnverified: true})
	checkEmail := func(end landing) bool {
		return end.status == http.StatusOK && strings.Contains(end.body, `data-testid="check-email"`) &&
			strings.Contains(end.body, "signing in again sends a new one")
	}
	if end := e.signIn(t, newBrowser(t), "corp", "ed-1", ""); !checkEmail(end) {
		t.Fatalf("the sign-up = %d\n%s", end.status, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	// The link is lost: expired, here.
	if err := e.store.DeleteUserAccountTokens(ctx, u.ID, portal.TokenConfirmSignup); err != nil {
		t.Fatal(err)
	}
	first := len(e.mails(t))

	b := newBrowser(t)
	if end := e.signIn(t, b, "corp", "ed-1", ""); !checkEmail(end) || e.signedIn(t, b) {
		t.Fatalf("signing in again = %d at %s\n%s", end.status, end.url, end.body)
	}
	if n := len(e.mails(t)); n != first+1 {
		t.Fatalf("%d mails after signing in again, want %d", n, first+1)
	}
	if got, err := e.store.FindUserByID(ctx, u.ID); err != nil || got.State != portal.UserPending {
		t.Fatalf("the account after signing in again = %+v, %v", got, err)
	}
	// One message an hour, counted in the store: whoever holds the
	// identity cannot flood the address.
	if end := e.signIn(t, newBrowser(t), "corp", "ed-1", ""); end.status != http.StatusTooManyRequests {
		t.Fatalf("signing in again within the hour = %d, want 429\n%s", end.status, end.body)
	}
	if n := len(e.mails(t)); n != first+1 {
		t.Fatalf("%d mails after the refused sign-in, want %d", n, first+1)
	}
	e.clock.Advance(auth.ConfirmationResendInterval)
	if end := e.signIn(t, newBrowser(t), "corp", "ed-1", ""); !checkEmail(end) {
		t.Fatalf("signing in an hour later = %d\n%s", end.status, end.body)
	}
	if n := len(e.mails(t)); n != first+2 {
		t.Fatalf("%d mails an hour later, want %d", n, first+2)
	}

	token := e.linkOf(t, email, "/confirm/signup?token=")
	if p := newBrowser(t).post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {token}}, true); p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="signup-confirmed"`) {
		t.Fatalf("confirming with the new link = %d\n%s", p.status, p.body)
	}
	b = newBrowser(t)
	if end := e.signIn(t, b, "corp", "ed-1", ""); end.status != http.StatusOK || !e.signedIn(t, b) {
		t.Fatalf("sign-in after confirming = %d at %s\n%s", end.status, end.url, end.body)
	}
}

// TestConfirmSignupBlocked: a confirmation link of an account blocked
// since it was sent is refused and not used up: once the block is lifted
// it still works.
func TestConfirmSignupBlocked(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "fay-1", Email: "fay@example.org", Name: "Fay", EmailUnverified: true})
	if end := e.signIn(t, newBrowser(t), "corp", "fay-1", ""); end.status != http.StatusOK {
		t.Fatalf("the sign-up = %d\n%s", end.status, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, "fay@example.org")
	if err != nil {
		t.Fatal(err)
	}
	token := e.linkOf(t, "fay@example.org", "/confirm/signup?token=")
	blocked, pending := portal.UserBlocked, portal.UserPending
	if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &blocked}); err != nil {
		t.Fatal(err)
	}
	if p := newBrowser(t).post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {token}}, true); p.status != http.StatusForbidden || !strings.Contains(p.body, "blocked") {
		t.Fatalf("confirming a blocked account = %d\n%s", p.status, p.body)
	}
	if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &pending}); err != nil {
		t.Fatal(err)
	}
	if p := newBrowser(t).post(t, e.portal.URL+"/confirm/signup", url.Values{"token": {token}}, true); p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="signup-confirmed"`) {
		t.Fatalf("confirming once unblocked = %d\n%s", p.status, p.body)
	}
	if ids := e.identities(t, "fay@example.org"); len(ids) != 1 || ids[0].Unconfirmed {
		t.Fatalf("identities after confirming %+v", ids)
	}
}

// TestInvitationMovesUnconfirmedIdentity: Bob signed up through the
// provider as bob@home, which it did not vouch for, and never confirmed;
// invited as bob@corp, he accepts with the same identity. The provider has
// just proven he holds it: it moves to the invited account, and the
// pending bob@home account, with nothing else left, goes.
func TestInvitationMovesUnconfirmedIdentity(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "bob-1", Email: "bob@home.example", Name: "Bob", EmailUnverified: true})
	if end := e.signIn(t, newBrowser(t), "corp", "bob-1", ""); end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
		t.Fatalf("the sign-up = %d\n%s", end.status, end.body)
	}
	inv, err := auth.Invite(ctx, e.store, "bob@corp.example", "Bob at Corp", portal.RoleDeveloper, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	login := b.post(t, e.portal.URL+"/confirm/invitation/idp/corp", url.Values{"token": {inv.Token}}, true)
	if end := b.submitLogin(t, login, "bob-1", true); end.status != http.StatusOK || !strings.Contains(end.body, "invitation is accepted") {
		t.Fatalf("accepting = %d %s\n%s", end.status, end.url, end.body)
	}
	if !e.signedIn(t, b) {
		t.Fatal("not signed in after accepting")
	}
	ids := e.identities(t, "bob@corp.example")
	if len(ids) != 1 || ids[0].Subject != "bob-1" || ids[0].Unconfirmed {
		t.Fatalf("identities of the invited account %+v", ids)
	}
	if _, err := e.store.FindUserByEmail(ctx, "bob@home.example"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the account the identity left, with nothing else: %v, want it gone", err)
	}
	b = newBrowser(t)
	if end := e.signIn(t, b, "corp", "bob-1", ""); end.status != http.StatusOK || !e.signedIn(t, b) {
		t.Fatalf("sign-in with the moved identity = %d at %s\n%s", end.status, end.url, end.body)
	}
}

// switchSender fails while fail is set, and keeps mail in the outbox
// otherwise.
type switchSender struct {
	fail atomic.Bool
	next mail.Sender
}

func (s *switchSender) Send(ctx context.Context, m *mail.Message) error {
	if s.fail.Load() {
		return errors.New("connection refused")
	}
	return s.next.Send(ctx, m)
}

// TestOIDCFailedResendNotCounted: when the new confirmation a returning
// holder asks for cannot be mailed, the visitor is told to try again in a
// few minutes, the account stays, and the link never sent does not count
// against the one-an-hour limit: the next try sends one.
func TestOIDCFailedResendNotCounted(t *testing.T) {
	ctx := context.Background()
	sender := &switchSender{}
	e := newOIDCEnv(t, oidcOptions{mail: sender})
	sender.next = &mail.Outbox{Store: e.store}
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "gus-1", Email: "gus@example.org", Name: "Gus", EmailUnverified: true})
	if end := e.signIn(t, newBrowser(t), "corp", "gus-1", ""); end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
		t.Fatalf("the sign-up = %d\n%s", end.status, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, "gus@example.org")
	if err != nil {
		t.Fatal(err)
	}
	// The first link is lost (expired, here), and the mail server is down.
	if err := e.store.DeleteUserAccountTokens(ctx, u.ID, portal.TokenConfirmSignup); err != nil {
		t.Fatal(err)
	}
	sender.fail.Store(true)
	end := e.signIn(t, newBrowser(t), "corp", "gus-1", "")
	if end.status != http.StatusServiceUnavailable || !strings.Contains(end.body, "try again in a few minutes") {
		t.Fatalf("signing in with the mail server down = %d\n%s", end.status, end.body)
	}
	if _, err := e.store.FindUserByID(ctx, u.ID); err != nil {
		t.Fatalf("the account after a failed resend: %v", err)
	}
	sender.fail.Store(false)
	before := len(e.mails(t))
	if end := e.signIn(t, newBrowser(t), "corp", "gus-1", ""); end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
		t.Fatalf("signing in once the mail server is back = %d\n%s", end.status, end.body)
	}
	if n := len(e.mails(t)); n != before+1 {
		t.Fatalf("%d mails once the mail server is back, want %d", n, before+1)
	}
}

// TestUnconfirmedSignUpExpires: a provider sign-up nobody confirms goes a
// week after it was made (the periodic clean-up), which bounds the
// confirmations whoever holds the identity can have mailed; its holder
// may then sign up again.
func TestUnconfirmedSignUpExpires(t *testing.T) {
	ctx := context.Background()
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "hal-1", Email: "hal@example.org", Name: "Hal", EmailUnverified: true})
	if end := e.signIn(t, newBrowser(t), "corp", "hal-1", ""); end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
		t.Fatalf("the sign-up = %d\n%s", end.status, end.body)
	}
	u, err := e.store.FindUserByEmail(ctx, "hal@example.org")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(auth.UnconfirmedSignUpLifetime - time.Hour)
	e.auth.Cleanup(ctx)
	if _, err := e.store.FindUserByID(ctx, u.ID); err != nil {
		t.Fatalf("the sign-up went before its week: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	e.auth.Cleanup(ctx)
	if _, err := e.store.FindUserByID(ctx, u.ID); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the unconfirmed sign-up after a week: %v, want it gone", err)
	}
	if end := e.signIn(t, newBrowser(t), "corp", "hal-1", ""); end.status != http.StatusOK || !strings.Contains(end.body, `data-testid="check-email"`) {
		t.Fatalf("signing up again = %d\n%s", end.status, end.body)
	}
}
