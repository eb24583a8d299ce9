package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/internal/smtptest"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
)

// addProduct stores a published product of the echo API that needs a
// subscription, changed by change.
func (e *env) addProduct(t *testing.T, name string, change func(p *portal.Product)) *portal.Product {
	t.Helper()
	p := &portal.Product{Name: name, DisplayName: strings.ToUpper(name[:1]) + name[1:], State: portal.ProductPublished,
		SubscriptionRequired: true, APIs: []string{"echo"}}
	if change != nil {
		change(p)
	}
	if err := e.store.CreateProduct(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// addUser stores an active developer who signs in with password.
func (e *env) addUser(t *testing.T, email, name, password string) *portal.User {
	t.Helper()
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u := &portal.User{Email: email, Name: name, Role: portal.RoleDeveloper, State: portal.UserActive, PasswordHash: hash}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// subscribe POSTs the subscribe form with the session cookie.
func (e *env) subscribe(t *testing.T, cookie string, form url.Values) response {
	t.Helper()
	return e.postForm(t, "/subscriptions", cookie, form)
}

// subscriptionsOf returns the subscriptions of the user with email to
// product, newest first.
func (e *env) subscriptionsOf(t *testing.T, email, product string) []*portal.Subscription {
	t.Helper()
	ctx := context.Background()
	u, err := e.store.FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	subs, _, err := e.store.FindSubscriptions(ctx, portal.SubscriptionFilter{OwnerID: u.ID, Scope: &portal.Scope{Kind: portal.ScopeProduct, Name: product}})
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// mails returns the outbox, newest first, once the mail sent after the
// answers (in the background) has gone.
func (e *env) mails(t *testing.T) []*portal.Mail {
	t.Helper()
	return e.outbox(t)
}

// keyOf returns the text of the element with data-testid testID inside
// the subscription row that names sub, or "".
func keyOf(body, sub, testID string) string {
	for _, row := range strings.Split(body, `data-testid="subscription-row"`)[1:] {
		if !strings.Contains(row, ">"+sub+"<") {
			continue
		}
		m := regexp.MustCompile(`data-testid="` + testID + `">([^<]*)<`).FindStringSubmatch(row)
		if m != nil {
			return m[1]
		}
	}
	return ""
}

func TestSubscribeForm(t *testing.T) {
	e := newEnv(t)
	e.addProduct(t, "gold", nil)

	r := e.get(t, "/products/gold")
	if !strings.Contains(r.body, `data-testid="signin-to-subscribe"`) || !strings.Contains(r.body, `href="/signin?next=%2Fproducts%2Fgold"`) {
		t.Errorf("anonymous visitor not asked to sign in to subscribe")
	}
	if strings.Contains(r.body, `data-testid="subscribe-form"`) {
		t.Errorf("anonymous visitor gets the subscribe form")
	}
	r = e.getAs(t, "/products/gold", "developer")
	if !strings.Contains(r.body, `data-testid="subscribe-form"`) || !strings.Contains(r.body, `name="product" value="gold"`) {
		t.Fatalf("developer gets no subscribe form\n%s", r.body)
	}
	if strings.Contains(r.body, `data-testid="subscribe-terms"`) {
		t.Errorf("terms checkbox for a product without terms")
	}
	// starter has terms; the developer already holds its one allowed
	// subscription (ci-bot), so the page says so instead of a form.
	r = e.getAs(t, "/products/starter", "developer")
	if !strings.Contains(r.body, `data-testid="subscription-limit"`) || strings.Contains(r.body, `data-testid="subscribe-form"`) {
		t.Errorf("starter at its limit still offers the form")
	}
	if !strings.Contains(r.body, "You have 1 subscription to this product.") {
		t.Errorf("starter does not count the developer's subscription")
	}
	e.addProduct(t, "terms", func(p *portal.Product) { p.Terms = "Be kind." })
	r = e.getAs(t, "/products/terms", "developer")
	if !regexp.MustCompile(`<input type="checkbox" id="subscribe-terms" name="accept_terms" value="on" required`).MatchString(r.body) {
		t.Errorf("no required terms checkbox")
	}
	// Open and unpublished products have no form.
	if r := e.getAs(t, "/products/free", "developer"); strings.Contains(r.body, `data-testid="subscribe-form"`) {
		t.Errorf("open product offers a subscription")
	}
	if r := e.getAs(t, "/products/internal", "admin"); strings.Contains(r.body, `data-testid="subscribe-form"`) {
		t.Errorf("unpublished product offers a subscription")
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := e.cookieOf(t, "developer")
	e.addProduct(t, "gold", func(p *portal.Product) { p.SubscriptionsLimit = 2 })
	e.addProduct(t, "silver", func(p *portal.Product) {
		p.DisplayName = "Silver"
		p.ApprovalRequired = true
		p.Terms = "Be kind."
	})
	e.addUser(t, "bo@example.com", "Bo Admin", "another long password")
	// A second, active administrator, and a blocked one who gets no mail.
	for _, a := range []struct {
		email string
		state portal.UserState
	}{{"bo@example.com", portal.UserActive}, {"cy@example.com", portal.UserBlocked}} {
		u, err := e.store.FindUserByEmail(ctx, a.email)
		if err != nil {
			u = e.addUser(t, a.email, "Cy", "yet another long password")
		}
		role := portal.RoleAdmin
		if _, err := e.store.UpdateUser(ctx, u.ID, portal.UserUpdate{Role: &role, State: &a.state}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("active at once", func(t *testing.T) {
		r := e.subscribe(t, dev, url.Values{"product": {"gold"}, "display_name": {"  My app "}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
			t.Fatalf("subscribe = %d to %q, want 303 to /profile\n%s", r.status, r.header.Get("Location"), r.body)
		}
		subs := e.subscriptionsOf(t, developerEmail, "gold")
		if len(subs) != 1 || subs[0].State != portal.SubscriptionActive || subs[0].DisplayName != "My app" {
			t.Fatalf("subscriptions to gold: %+v", subs)
		}
		primary, secondary, err := e.store.RevealSubscriptionKeys(ctx, subs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		p := e.do(t, http.MethodGet, "/profile", "developer", nil)
		if !strings.Contains(p.body, "Subscribed to Gold. Your keys are below.") {
			t.Errorf("no notice on the profile")
		}
		if got := keyOf(p.body, "My app", "primary-key"); got != primary {
			t.Errorf("primary key on the profile %q, want %q", got, primary)
		}
		if got := keyOf(p.body, "My app", "secondary-key"); got != secondary {
			t.Errorf("secondary key on the profile %q, want %q", got, secondary)
		}
		// Just created: its keys are unfolded, once.
		if !regexp.MustCompile(`<details class="key-reveal" open`).MatchString(p.body) {
			t.Errorf("the new subscription's keys are not unfolded")
		}
		if p := e.do(t, http.MethodGet, "/profile", "developer", nil); strings.Contains(p.body, `<details class="key-reveal" open`) {
			t.Errorf("keys unfolded again on the next visit")
		}
		// The key passes the gateway's lookup.
		got, kind, err := e.store.FindSubscriptionByKey(ctx, primary)
		if err != nil || got.ID != subs[0].ID || kind != portal.PrimaryKey || !got.KeysPass(time.Now()) {
			t.Errorf("primary key finds %+v %s %v", got, kind, err)
		}
		if n := len(e.mails(t)); n != 0 {
			t.Errorf("%d mails for a subscription without approval", n)
		}
	})

	t.Run("limit reached", func(t *testing.T) {
		if r := e.subscribe(t, dev, url.Values{"product": {"gold"}}); r.status != http.StatusSeeOther {
			t.Fatalf("second subscription to gold = %d\n%s", r.status, r.body)
		}
		r := e.subscribe(t, dev, url.Values{"product": {"gold"}, "display_name": {"Third app"}})
		wantFormError(t, r, http.StatusConflict, "You have reached the limit of 2 subscriptions to product Gold.")
		if !strings.Contains(r.body, `data-testid="subscription-limit"`) {
			t.Errorf("the page does not say why there is no form")
		}
		if n := len(e.subscriptionsOf(t, developerEmail, "gold")); n != 2 {
			t.Fatalf("%d subscriptions to gold, want 2", n)
		}
		// The fixture's starter allows one, held by ci-bot.
		r = e.subscribe(t, dev, url.Values{"product": {"starter"}, "accept_terms": {"on"}})
		wantFormError(t, r, http.StatusConflict, "limit of 1 subscriptions to product Starter")
	})

	t.Run("terms required", func(t *testing.T) {
		r := e.subscribe(t, dev, url.Values{"product": {"silver"}, "display_name": {"Billing"}})
		wantFormError(t, r, http.StatusBadRequest, "Accept the terms of use of Silver to subscribe.", `value="Billing"`)
		if n := len(e.subscriptionsOf(t, developerEmail, "silver")); n != 0 {
			t.Fatalf("%d subscriptions without accepting the terms", n)
		}
	})

	t.Run("approval required", func(t *testing.T) {
		r := e.subscribe(t, dev, url.Values{"product": {"silver"}, "display_name": {"Billing"}, "accept_terms": {"on"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("subscribe = %d\n%s", r.status, r.body)
		}
		subs := e.subscriptionsOf(t, developerEmail, "silver")
		if len(subs) != 1 || subs[0].State != portal.SubscriptionSubmitted {
			t.Fatalf("subscriptions to silver: %+v", subs)
		}
		p := e.do(t, http.MethodGet, "/profile", "developer", nil)
		if !strings.Contains(p.body, "is waiting for approval") {
			t.Errorf("no waiting notice")
		}
		row := p.body[strings.Index(p.body, ">Billing<"):]
		if !strings.Contains(row[:min(len(row), 2000)], "Waiting for approval") {
			t.Errorf("the row does not say it waits for approval")
		}
		// One mail to each active administrator, linking to the request.
		mails := e.mails(t)
		to := map[string]*portal.Mail{}
		for _, m := range mails {
			to[strings.Join(m.To, ",")] = m
		}
		if len(mails) != 2 || to[adminEmail] == nil || to["bo@example.com"] == nil {
			t.Fatalf("mails to %v, want ada and bo", to)
		}
		m := to[adminEmail]
		link := fmt.Sprintf("https://portal.example.com/admin/subscriptions/%d", subs[0].ID)
		if m.Subject != "A subscription to Silver awaits approval" || !strings.Contains(m.Text, link) ||
			!strings.Contains(m.Text, "Dee Developer <dev@example.com>") || !strings.Contains(m.Text, "Billing") {
			t.Errorf("approval mail %q:\n%s", m.Subject, m.Text)
		}
	})

	t.Run("refused products", func(t *testing.T) {
		before := len(e.mails(t))
		for _, tc := range []struct {
			name, product, as string
			status            int
		}{
			{"unpublished, developer", "internal", "developer", http.StatusNotFound},
			{"unpublished, administrator", "internal", "admin", http.StatusBadRequest},
			{"open", "free", "developer", http.StatusBadRequest},
			{"unknown", "nope", "developer", http.StatusNotFound},
			{"bad name", "../x", "developer", http.StatusNotFound},
		} {
			r := e.subscribe(t, e.cookieOf(t, tc.as), url.Values{"product": {tc.product}, "accept_terms": {"on"}})
			if r.status != tc.status {
				t.Errorf("%s: status %d, want %d\n%s", tc.name, r.status, tc.status, r.body)
			}
		}
		subs, _, err := e.store.FindSubscriptions(ctx, portal.SubscriptionFilter{Scope: &portal.Scope{Kind: portal.ScopeProduct, Name: "internal"}})
		if err != nil || len(subs) != 0 {
			t.Errorf("subscriptions to internal: %d, %v", len(subs), err)
		}
		if n := len(e.mails(t)); n != before {
			t.Errorf("refused requests sent %d mails", n-before)
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		r := e.subscribe(t, "", url.Values{"product": {"gold"}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("anonymous subscribe = %d, want 401", r.status)
		}
		r = e.get(t, "/profile")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin?next=%2Fprofile" {
			t.Errorf("anonymous profile = %d to %q", r.status, r.header.Get("Location"))
		}
	})

	t.Run("cross-origin", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {dev}, "Sec-Fetch-Site": {"cross-site"}}
		r := e.send(t, http.MethodPost, "/subscriptions", strings.NewReader("product=gold"), h)
		if r.status != http.StatusForbidden {
			t.Errorf("cross-site subscribe = %d, want 403", r.status)
		}
	})
}

// TestOwnSubscriptionsOnly: a developer sees and acts on their own
// subscriptions; anyone else's id answers 404 like a missing one.
func TestOwnSubscriptionsOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addUser(t, "eve@example.com", "Eve", "eve's long password")
	eves := &portal.Subscription{Name: "eve-app", DisplayName: "Eve's app", OwnerEmail: "eve@example.com",
		Scope: portal.Scope{Kind: portal.ScopeAll}, State: portal.SubscriptionActive}
	if err := e.store.CreateSubscription(ctx, eves); err != nil {
		t.Fatal(err)
	}
	ciBot, err := e.store.FindSubscriptionByName(ctx, "ci-bot")
	if err != nil {
		t.Fatal(err)
	}

	p := e.getAs(t, "/profile", "developer")
	if p.status != http.StatusOK {
		t.Fatalf("profile = %d", p.status)
	}
	if n := count(p.body, `data-testid="subscription-row"`); n != 1 {
		t.Errorf("%d subscription rows, want 1 (ci-bot)", n)
	}
	if strings.Contains(p.body, "eve-app") || strings.Contains(p.body, eves.PrimaryKey) || strings.Contains(p.body, eves.SecondaryKey) {
		t.Errorf("the developer's profile shows Eve's subscription")
	}
	for _, want := range []string{"Dee Developer", developerEmail, `href="/profile/password"`, `href="/profile/close"`, "CI bot", "ci-bot", "Product Starter", "Waiting for approval"} {
		if !strings.Contains(unescape(p.body), want) {
			t.Errorf("profile lacks %q", want)
		}
	}

	dev := e.cookieOf(t, "developer")
	for _, path := range []string{
		fmt.Sprintf("/subscriptions/%d/regenerate/primary", eves.ID),
		fmt.Sprintf("/subscriptions/%d/regenerate/secondary", eves.ID),
		fmt.Sprintf("/subscriptions/%d/cancel", eves.ID),
		"/subscriptions/999/cancel",
		"/subscriptions/x/cancel",
		fmt.Sprintf("/subscriptions/%d/regenerate/tertiary", ciBot.ID),
	} {
		if r := e.postForm(t, path, dev, nil); r.status != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", path, r.status)
		}
	}
	// Administrators, too, act on others' subscriptions only in /admin.
	if r := e.postForm(t, fmt.Sprintf("/subscriptions/%d/cancel", ciBot.ID), e.cookieOf(t, "admin"), nil); r.status != http.StatusNotFound {
		t.Errorf("admin cancelling the developer's subscription here = %d, want 404", r.status)
	}
	got, err := e.store.FindSubscriptionByID(ctx, eves.ID)
	if err != nil || got.State != portal.SubscriptionActive {
		t.Fatalf("Eve's subscription changed: %+v %v", got, err)
	}
	for _, k := range []string{eves.PrimaryKey, eves.SecondaryKey} {
		if s, _, err := e.store.FindSubscriptionByKey(ctx, k); err != nil || s.ID != eves.ID {
			t.Errorf("Eve's key no longer finds her subscription: %v", err)
		}
	}
	if got, _ := e.store.FindSubscriptionByID(ctx, ciBot.ID); got.State != portal.SubscriptionSubmitted {
		t.Errorf("ci-bot state %s after the admin's refused cancel", got.State)
	}
}

func TestRegenerateOwnKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := e.cookieOf(t, "developer")
	ciBot, err := e.store.FindSubscriptionByName(ctx, "ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	oldPrimary, oldSecondary, err := e.store.RevealSubscriptionKeys(ctx, ciBot.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := e.postForm(t, fmt.Sprintf("/subscriptions/%d/regenerate/primary", ciBot.ID), dev, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Fatalf("regenerate = %d to %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	newPrimary, secondary, err := e.store.RevealSubscriptionKeys(ctx, ciBot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if newPrimary == oldPrimary || secondary != oldSecondary {
		t.Fatalf("primary %q -> %q, secondary %q -> %q: want only the primary changed", oldPrimary, newPrimary, oldSecondary, secondary)
	}
	if _, _, err := e.store.FindSubscriptionByKey(ctx, oldPrimary); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Errorf("the old primary key still finds a subscription: %v", err)
	}
	if s, kind, err := e.store.FindSubscriptionByKey(ctx, newPrimary); err != nil || s.ID != ciBot.ID || kind != portal.PrimaryKey {
		t.Errorf("the new primary key finds %+v %s %v", s, kind, err)
	}
	p := e.getAs(t, "/profile", "developer")
	if got := keyOf(p.body, "CI bot", "primary-key"); got != newPrimary {
		t.Errorf("profile shows primary key %q, want %q", got, newPrimary)
	}
	if !strings.Contains(p.body, "Primary key of CI bot regenerated; the old key no longer passes.") {
		t.Errorf("no notice")
	}

	r = e.postForm(t, fmt.Sprintf("/subscriptions/%d/regenerate/secondary", ciBot.ID), dev, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("regenerate secondary = %d", r.status)
	}
	if _, _, err := e.store.FindSubscriptionByKey(ctx, oldSecondary); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Errorf("the old secondary key still finds a subscription: %v", err)
	}
}

func TestCancelOwnSubscription(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := e.cookieOf(t, "developer")
	ciBot, err := e.store.FindSubscriptionByName(ctx, "ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	primary, _, err := e.store.RevealSubscriptionKeys(ctx, ciBot.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := e.getAs(t, "/profile", "developer")
	cancel := fmt.Sprintf(`action="/subscriptions/%d/cancel"`, ciBot.ID)
	if !strings.Contains(p.body, cancel) || !strings.Contains(p.body, `data-testid="cancel-subscription"`) {
		t.Fatalf("no cancel form on the profile")
	}
	r := e.postForm(t, fmt.Sprintf("/subscriptions/%d/cancel", ciBot.ID), dev, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Fatalf("cancel = %d to %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	got, err := e.store.FindSubscriptionByID(ctx, ciBot.ID)
	if err != nil || got.State != portal.SubscriptionCancelled {
		t.Fatalf("after cancel: %+v %v", got, err)
	}
	p = e.getAs(t, "/profile", "developer")
	if !strings.Contains(p.body, "Subscription CI bot cancelled") || !strings.Contains(p.body, "Cancelled") {
		t.Errorf("profile does not show the cancellation")
	}
	if strings.Contains(p.body, primary) || strings.Contains(p.body, cancel) || strings.Contains(p.body, `data-testid="primary-key"`) {
		t.Errorf("a cancelled subscription still shows keys or a cancel form")
	}
	// Cancelled cannot be cancelled again, nor its keys regenerated; the
	// profile says why.
	r = e.postForm(t, fmt.Sprintf("/subscriptions/%d/cancel", ciBot.ID), dev, nil)
	wantFormError(t, r, http.StatusBadRequest, "cannot be given the action")
	r = e.postForm(t, fmt.Sprintf("/subscriptions/%d/regenerate/primary", ciBot.ID), dev, nil)
	wantFormError(t, r, http.StatusBadRequest, "has no keys to regenerate")
	// The cancelled subscription no longer counts towards starter's limit.
	r = e.subscribe(t, dev, url.Values{"product": {"starter"}, "accept_terms": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("subscribe to starter after cancelling = %d\n%s", r.status, r.body)
	}
}

// TestSubscriptionDecisionMail: approving or rejecting a request in the
// administration emails its owner.
func TestSubscriptionDecisionMail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ciBot, err := e.store.FindSubscriptionByName(ctx, "ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	r := e.adminPost(t, fmt.Sprintf("/admin/subscriptions/%d/approve", ciBot.ID), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("approve = %d\n%s", r.status, r.body)
	}
	mails := e.mails(t)
	if len(mails) != 1 {
		t.Fatalf("%d mails after approval, want 1", len(mails))
	}
	m := mails[0]
	if strings.Join(m.To, ",") != developerEmail || m.Subject != "Your subscription to Starter is approved" ||
		!strings.Contains(m.Text, "https://portal.example.com/profile") || !strings.Contains(m.Text, "Dee Developer") {
		t.Errorf("approval mail to %v %q:\n%s", m.To, m.Subject, m.Text)
	}

	// Rejection, with the administrator's comment.
	pending := &portal.Subscription{Name: "second", OwnerEmail: developerEmail, Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "echo"}, State: portal.SubscriptionSubmitted}
	if err := e.store.CreateSubscription(ctx, pending); err != nil {
		t.Fatal(err)
	}
	r = e.adminPost(t, fmt.Sprintf("/admin/subscriptions/%d/reject", pending.ID), url.Values{"comment": {"Tell us more about your app."}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reject = %d\n%s", r.status, r.body)
	}
	mails = e.mails(t)
	if len(mails) != 2 {
		t.Fatalf("%d mails after rejection, want 2", len(mails))
	}
	m = mails[0]
	if strings.Join(m.To, ",") != developerEmail || !strings.Contains(m.Subject, "was not approved") || !strings.Contains(m.Text, "Tell us more about your app.") {
		t.Errorf("rejection mail to %v %q:\n%s", m.To, m.Subject, m.Text)
	}
	// Other actions send nothing.
	if r := e.adminPost(t, fmt.Sprintf("/admin/subscriptions/%d/suspend", ciBot.ID), nil); r.status != http.StatusSeeOther {
		t.Fatalf("suspend = %d", r.status)
	}
	if n := len(e.mails(t)); n != 2 {
		t.Errorf("%d mails after suspending, want still 2", n)
	}
}

func TestAdminOutbox(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 52 {
		m := &portal.Mail{To: []string{fmt.Sprintf("user%d@example.com", i)}, Subject: fmt.Sprintf("Message %d", i),
			Text: fmt.Sprintf("Body <%d> & more", i), HTML: "<p>x</p>", CreatedAt: start.Add(time.Duration(i) * time.Minute)}
		if err := e.store.AddMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r := e.getAs(t, "/admin/outbox", "admin")
	if r.status != http.StatusOK {
		t.Fatalf("outbox = %d\n%s", r.status, r.body)
	}
	if n := count(r.body, `data-testid="outbox-row"`); n != 50 {
		t.Errorf("%d rows on page 1, want 50", n)
	}
	first := strings.Index(r.body, "Message 51")
	second := strings.Index(r.body, "Message 50")
	if first < 0 || second < 0 || first > second || strings.Contains(r.body, "Message 1<") {
		t.Errorf("page 1 is not the newest 50, newest first")
	}
	for _, want := range []string{"user51@example.com", "2025-03-01 12:51 UTC", "Body &lt;51&gt; &amp; more", "52 messages", `href="/admin/outbox?page=2"`, `<details class="outbox-body">`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("outbox lacks %q", want)
		}
	}
	if !strings.Contains(r.body, `href="/admin/outbox" aria-current="page"`) && !regexp.MustCompile(`<a[^>]*href="/admin/outbox"[^>]*aria-current`).MatchString(r.body) {
		t.Errorf("the administration's navigation does not mark the outbox")
	}
	r = e.getAs(t, "/admin/outbox?page=2", "admin")
	if n := count(r.body, `data-testid="outbox-row"`); n != 2 || !strings.Contains(r.body, "Message 0") {
		t.Errorf("page 2 has %d rows", n)
	}
	if r := e.getAs(t, "/admin/outbox?page=0", "admin"); r.status != http.StatusBadRequest {
		t.Errorf("page 0 = %d", r.status)
	}
	if r := e.getAs(t, "/admin/outbox", "developer"); r.status != http.StatusForbidden || strings.Contains(r.body, "Message 51") {
		t.Errorf("developer outbox = %d", r.status)
	}
	if r := e.get(t, "/admin/outbox"); r.status != http.StatusSeeOther || strings.Contains(r.body, "Message 51") {
		t.Errorf("anonymous outbox = %d", r.status)
	}
}

// TestSubscriptionMailAfterTheAnswer: the mail to administrators about a
// request, and to the developer about the decision, goes out after the
// answer, so a slow mail server does not hold up the page.
func TestSubscriptionMailAfterTheAnswer(t *testing.T) {
	// newSMTPEnv is a fixture sending mail to an SMTP server that holds
	// each message until hold is closed.
	newSMTPEnv := func(t *testing.T) (*env, *smtptest.Server, chan struct{}) {
		hold := make(chan struct{})
		smtp := smtptest.New(t, smtptest.Options{Hold: hold})
		sender, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://" + smtp.Addr, From: "portal@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		return newEnvWith(t, envOptions{mail: sender}), smtp, hold
	}
	wantHeldThenSent := func(t *testing.T, smtp *smtptest.Server, hold chan struct{}, to, subject string) {
		t.Helper()
		smtp.Holding(t)
		if n := len(smtp.Messages()); n != 0 {
			t.Fatalf("%d messages delivered before the answer", n)
		}
		close(hold)
		m := smtp.Wait(t, 1)
		if m[0].To[0] != to || !strings.Contains(m[0].Subject, subject) {
			t.Fatalf("mail to %v: %q", m[0].To, m[0].Subject)
		}
	}

	t.Run("approval pending", func(t *testing.T) {
		e, smtp, hold := newSMTPEnv(t)
		e.addProduct(t, "silver", func(p *portal.Product) { p.ApprovalRequired = true })
		r := e.subscribe(t, e.cookieOf(t, "developer"), url.Values{"product": {"silver"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("subscribe = %d\n%s", r.status, r.body)
		}
		wantHeldThenSent(t, smtp, hold, adminEmail, "awaits approval")
	})

	t.Run("decision", func(t *testing.T) {
		e, smtp, hold := newSMTPEnv(t)
		ciBot, err := e.store.FindSubscriptionByName(context.Background(), "ci-bot")
		if err != nil {
			t.Fatal(err)
		}
		r := e.adminPost(t, fmt.Sprintf("/admin/subscriptions/%d/approve", ciBot.ID), nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("approve = %d\n%s", r.status, r.body)
		}
		wantHeldThenSent(t, smtp, hold, developerEmail, "is approved")
	})
}

// TestSubscriptionStateRace: an administrator's approval and the owner's
// cancellation of the same request, sent at once, never leave a cancelled
// subscription revived; the one that loses is told to reload. And a
// cancelled subscription cannot be approved.
func TestSubscriptionStateRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev, admin := e.cookieOf(t, "developer"), e.cookieOf(t, "admin")

	ciBot, err := e.store.FindSubscriptionByName(ctx, "ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	primary, _, err := e.store.RevealSubscriptionKeys(ctx, ciBot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.postForm(t, fmt.Sprintf("/subscriptions/%d/cancel", ciBot.ID), dev, nil); r.status != http.StatusSeeOther {
		t.Fatalf("cancel = %d\n%s", r.status, r.body)
	}
	r := e.postForm(t, fmt.Sprintf("/admin/subscriptions/%d/approve", ciBot.ID), admin, nil)
	if r.status != http.StatusBadRequest && r.status != http.StatusConflict {
		t.Fatalf("approving a cancelled subscription = %d, want 400 or 409\n%s", r.status, r.body)
	}
	if got, _, err := e.store.FindSubscriptionByKey(ctx, primary); err != nil || got.State != portal.SubscriptionCancelled || got.KeysPass(e.clock.Now()) {
		t.Fatalf("after the refused approval: %+v, %v", got, err)
	}

	const pairs = 30
	subs := make([]*portal.Subscription, pairs)
	for i := range subs {
		subs[i] = &portal.Subscription{Name: fmt.Sprintf("race-%d", i), OwnerEmail: developerEmail,
			Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "echo"}, State: portal.SubscriptionSubmitted}
		if err := e.store.CreateSubscription(ctx, subs[i]); err != nil {
			t.Fatal(err)
		}
	}
	type result struct{ cancel, approve response }
	results := make([]result, pairs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, sub := range subs {
		wg.Go(func() {
			<-start
			results[i].cancel = e.postForm(t, fmt.Sprintf("/subscriptions/%d/cancel", sub.ID), dev, nil)
		})
		wg.Go(func() {
			<-start
			results[i].approve = e.postForm(t, fmt.Sprintf("/admin/subscriptions/%d/approve", sub.ID), admin, nil)
		})
	}
	close(start)
	wg.Wait()
	for i, sub := range subs {
		res := results[i]
		got, err := e.store.FindSubscriptionByID(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []response{res.cancel, res.approve} {
			switch r.status {
			case http.StatusSeeOther, http.StatusBadRequest:
			case http.StatusConflict:
				if !strings.Contains(unescape(messageOf(r.body)), "was changed meanwhile") {
					t.Errorf("%s: conflict message %q", sub.Name, messageOf(r.body))
				}
			default:
				t.Fatalf("%s: status %d\n%s", sub.Name, r.status, r.body)
			}
		}
		// A cancellation that was answered as done is final.
		if res.cancel.status == http.StatusSeeOther && got.State != portal.SubscriptionCancelled {
			t.Fatalf("%s: cancelled (answered %d) and approved (answered %d) at once ends %s",
				sub.Name, res.cancel.status, res.approve.status, got.State)
		}
		if res.cancel.status != http.StatusSeeOther && got.State != portal.SubscriptionActive {
			t.Fatalf("%s: the cancellation was refused yet the state is %s", sub.Name, got.State)
		}
	}
}

// TestProfileUsesServerClock: a subscription shows expired once the
// server's clock, not the machine's, passes its expiry.
func TestProfileUsesServerClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	expires := e.clock.Now().Add(time.Hour)
	sub := &portal.Subscription{Name: "soon", DisplayName: "Soon over", OwnerEmail: developerEmail,
		Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "echo"}, State: portal.SubscriptionActive, ExpiresAt: &expires}
	if err := e.store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	stateOf := func(body string) string {
		m := regexp.MustCompile(`(?s)>Soon over<.*?data-testid="subscription-state">(.*?)</span>\s*</span>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no state for Soon over in\n%s", body)
		}
		return m[1]
	}
	if got := stateOf(e.getAs(t, "/profile", "developer").body); !strings.Contains(got, "Active") {
		t.Fatalf("before expiry the state is %q", got)
	}
	e.clock.Advance(2 * time.Hour)
	// The sessions idled out with the clock's move: sign in again.
	dev := e.signIn(t, developerEmail, developerPassword, "")
	p := e.do(t, http.MethodGet, "/profile", "", http.Header{"Cookie": {dev}})
	if got := stateOf(p.body); !strings.Contains(got, "Expired") {
		t.Errorf("after expiry the profile shows %q, want Expired", got)
	}
	if !strings.Contains(p.body, "The subscription has expired") {
		t.Errorf("the keys' note does not say they expired")
	}
	admin := e.signIn(t, adminEmail, adminPassword, "")
	a := e.do(t, http.MethodGet, fmt.Sprintf("/admin/subscriptions/%d", sub.ID), "", http.Header{"Cookie": {admin}})
	if !strings.Contains(a.body, "Expired") {
		t.Errorf("the administration does not show the subscription expired")
	}
}

// TestProductPageShowsOwnSubscriptions: a product's page lists the
// signed-in user's subscriptions to it with their states, a request as
// waiting for approval; nobody else, signed in or not, sees them.
func TestProductPageShowsOwnSubscriptions(t *testing.T) {
	e := newEnv(t)
	e.addProduct(t, "silver", func(p *portal.Product) { p.ApprovalRequired = true })
	e.addUser(t, "eve@example.com", "Eve", "eve's long password")
	eve := e.signIn(t, "eve@example.com", "eve's long password", "")

	// An anonymous visit first, so that the page cache holds the page.
	if r := e.get(t, "/products/silver"); r.status != http.StatusOK || strings.Contains(r.body, `data-testid="product-subscriptions"`) {
		t.Fatalf("anonymous product page = %d", r.status)
	}
	r := e.subscribe(t, e.cookieOf(t, "developer"), url.Values{"product": {"silver"}, "display_name": {"Dee's billing app"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("subscribe = %d\n%s", r.status, r.body)
	}
	p := e.getAs(t, "/products/silver", "developer")
	m := regexp.MustCompile(`(?s)data-testid="product-subscription-title">([^<]*)</span>.*?data-testid="product-subscription-state">(.*?)</li>`).FindStringSubmatch(p.body)
	if m == nil || unescape(m[1]) != "Dee's billing app" || !strings.Contains(m[2], "Waiting for approval") {
		t.Fatalf("the developer's product page does not show the request waiting for approval\n%s", p.body)
	}
	if !strings.Contains(p.body, `href="/profile" data-testid="product-profile-link"`) {
		t.Errorf("no link to the profile")
	}
	for who, body := range map[string]string{
		"another developer": e.do(t, http.MethodGet, "/products/silver", "", http.Header{"Cookie": {eve}}).body,
		"anonymous":         e.get(t, "/products/silver").body,
		"anonymous again":   e.get(t, "/products/silver").body,
	} {
		if strings.Contains(body, "billing app") || strings.Contains(body, "Waiting for approval") || strings.Contains(body, `data-testid="product-subscriptions"`) {
			t.Errorf("%s sees the developer's subscription", who)
		}
	}
	if !strings.Contains(e.do(t, http.MethodGet, "/products/silver", "", http.Header{"Cookie": {eve}}).body, `data-testid="subscribe-form"`) {
		t.Errorf("another developer has no subscribe form")
	}
}

// TestSubscribeLimitedPerUser: each subscription request may mail every
// administrator, so a user may ask for only so many an hour (429 with
// Retry-After, the form shown again); another user is not held back.
func TestSubscribeLimitedPerUser(t *testing.T) {
	e := newEnvWith(t, envOptions{accountLimits: auth.AccountLimits{SubscribePerUser: auth.Limit{Failures: 2, Window: time.Hour}}})
	e.addProduct(t, "gold", nil)
	dev := e.cookieOf(t, "developer")
	for i := range 2 {
		wantStatus(t, "subscribe "+strconv.Itoa(i+1), e.subscribe(t, dev, url.Values{"product": {"gold"}}), http.StatusSeeOther)
	}
	r := e.subscribe(t, dev, url.Values{"product": {"gold"}})
	wantTooMany(t, r, time.Hour)
	if !strings.Contains(r.body, `data-testid="subscribe-form"`) || !strings.Contains(r.body, "Too many attempts") {
		t.Fatalf("the refusal does not show the form with the reason:\n%s", r.body)
	}
	if n := len(e.subscriptionsOf(t, developerEmail, "gold")); n != 2 {
		t.Fatalf("%d subscriptions after the refusal, want 2", n)
	}
	wantStatus(t, "another user subscribes", e.subscribe(t, e.cookieOf(t, "admin"), url.Values{"product": {"gold"}}), http.StatusSeeOther)
	e.clock.Advance(time.Hour)
	dev = e.signIn(t, developerEmail, developerPassword, "") // the session has idled out
	wantStatus(t, "an hour later", e.subscribe(t, dev, url.Values{"product": {"gold"}}), http.StatusSeeOther)
}
