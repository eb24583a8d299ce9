package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// A developer's own subscriptions: subscribing from a product's page, the
// profile with the keys, regenerating a key and cancelling. Every handler
// here runs behind auth.RequireUser, and a subscription that is not the
// caller's answers 404 exactly as one that does not exist, so that ids
// reveal nothing. Administrators manage everyone's in /admin/subscriptions.

// profileURL is the signed-in user's account page.
const profileURL = "/profile"

// maxSubscribeForm bounds the body of the subscription forms.
const maxSubscribeForm = 16 << 10

// handleSubscribe creates a subscription of the signed-in user to the
// product named in the form, under the product's rules
// (portal.SubscriptionRequest) and limit (the store), and shows its keys on
// the profile. When the product requires approval the administrators are
// told by mail.
func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user := portal.UserFromContext(ctx)
	if !s.readForm(w, r, maxSubscribeForm) {
		return
	}
	name := r.PostForm.Get("product")
	form := &views.SubscribeForm{
		DisplayName: strings.TrimSpace(r.PostForm.Get("display_name")),
		Accepted:    r.PostForm.Get("accept_terms") != "",
	}
	// A product the user may not see is one that does not exist, as on
	// its page.
	notFound := portal.Errorf(portal.ENOTFOUND, "There is no product named %q.", name)
	if !portal.ValidName(name) {
		s.error(w, r, notFound)
		return
	}
	p, err := s.store.FindProductByName(ctx, name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if p.State != portal.ProductPublished && !user.IsAdmin() {
		s.error(w, r, notFound)
		return
	}
	var sub *portal.Subscription
	if s.auth != nil {
		// Each request may mail every administrator: bounded per user,
		// so that subscribing and cancelling in a loop floods nobody.
		err = s.auth.LimitAccount(auth.ActionSubscribe, user.Email)
	}
	if err == nil {
		sub, err = portal.SubscriptionRequest{Product: p, Owner: user, DisplayName: form.DisplayName, TermsAccepted: form.Accepted}.Subscription()
	}
	if err == nil {
		err = s.store.CreateSubscription(ctx, sub)
	}
	if err != nil {
		status, message, ok := s.formError(w, r, err)
		if !ok {
			return
		}
		settings, err := s.store.FindSettings(ctx)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if p.State != portal.ProductPublished || p.IsOpen() {
			// There is no form to show again.
			s.errorPage(w, r, status, message)
			return
		}
		form.Error = message
		s.renderProduct(w, r, status, settings, p, form)
		return
	}
	notice := "Subscribed to " + p.Title() + ". Your keys are below."
	if sub.State == portal.SubscriptionSubmitted {
		notice = "Your subscription to " + p.Title() + " is waiting for approval. Its keys pass once an administrator approves it; you will get an email."
		s.notifyApprovalPending(ctx, sub, p, user)
	}
	s.setFlash(w, r, flashNewKeys, strconv.FormatInt(sub.ID, 10))
	s.done(w, r, profileURL, notice)
}

// subscribeForm completes the subscribe form of product p for user: their
// subscriptions to p with their states, how many are live and, when that
// is the limit, why there is no form. What it adds is the user's own, so
// the page must never come from or go to the anonymous page cache:
// pageCache.wrap renders afresh for anyone signed in.
func (s *Server) subscribeForm(ctx context.Context, user *portal.User, p *portal.Product, form *views.SubscribeForm) (*views.SubscribeForm, error) {
	if form == nil {
		form = &views.SubscribeForm{}
	}
	form.Product = p.Name
	form.Terms = p.Terms != ""
	form.Approval = p.ApprovalRequired
	form.ProfileURL = profileURL
	subs, _, err := s.store.FindSubscriptions(ctx, portal.SubscriptionFilter{
		OwnerID: user.ID,
		Scope:   &portal.Scope{Kind: portal.ScopeProduct, Name: p.Name},
	})
	if err != nil {
		return nil, fmt.Errorf("find subscriptions of user %d to %s: %w", user.ID, p.Name, err)
	}
	live := 0
	now := s.now()
	for _, sub := range subs {
		if sub.State.Live() {
			live++
		}
		form.Subscriptions = append(form.Subscriptions, views.ProductSubscription{
			Title: sub.Title(),
			State: subscriptionStateBadge(sub.EffectiveState(now)),
		})
	}
	if live > 0 {
		form.Summary = "You have " + countOf(live, "subscription", "subscriptions") + " to this product."
	}
	if p.SubscriptionsLimit > 0 && live >= p.SubscriptionsLimit {
		form.LimitText = "You have reached the limit of " + countOf(p.SubscriptionsLimit, "subscription", "subscriptions") +
			" to this product. Cancel one on your profile to subscribe again."
	}
	return form, nil
}

// handleProfile shows the signed-in user's account and subscriptions.
func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	s.renderProfile(w, r, http.StatusOK, "")
}

// renderProfile shows the profile with status and, when an action was
// refused, its message.
func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.renderProfilePage(w, r, status, message, nil)
}

// renderProfileName shows the profile with the name form refused: what
// was typed, and message beside it.
func (s *Server) renderProfileName(w http.ResponseWriter, r *http.Request, status int, typed, message string) {
	s.renderProfilePage(w, r, status, "", &views.ProfileNameForm{Value: typed, Error: message})
}

// renderProfilePage shows the profile; name is the name form as it came
// back refused, or nil for the stored name.
func (s *Server) renderProfilePage(w http.ResponseWriter, r *http.Request, status int, message string, name *views.ProfileNameForm) {
	ctx := r.Context()
	user := portal.UserFromContext(ctx)
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	subs, _, err := s.store.FindSubscriptions(ctx, portal.SubscriptionFilter{OwnerID: user.ID})
	if err != nil {
		s.error(w, r, err)
		return
	}
	products, _, err := s.store.FindProducts(ctx, portal.ProductFilter{})
	if err != nil {
		s.error(w, r, err)
		return
	}
	titles := map[string]*portal.Product{}
	for _, p := range products {
		titles[p.Name] = p
	}
	newID := s.takeFlash(w, r, flashNewKeys)
	v := views.ProfileView{
		Shell:  s.shell(r, settings, "Your profile", ""),
		Email:  user.Email,
		Role:   roleLabel(user.Role),
		Notice: s.takeFlash(w, r, flashNotice),
		Error:  message,
		Links: []components.Link{
			{Label: "Close your account", URL: closeAccountURL},
		},
		ProductsURL: "/products",
		NameForm:    views.ProfileNameForm{Action: profileURL, Value: user.Name},
	}
	if name != nil {
		v.NameForm.Value, v.NameForm.Error = name.Value, name.Error
	}
	// Without a password, a reset link sets one (profile_identities.go).
	switch {
	case user.PasswordHash != "":
		v.Links = append([]components.Link{{Label: "Change your password", URL: changePasswordURL}}, v.Links...)
	case settings.BasicAuth.SignIn:
		v.Links = append([]components.Link{{Label: "Set a password", URL: "/reset-password"}}, v.Links...)
	}
	if err := s.profileIdentities(ctx, user, settings, &v); err != nil {
		s.error(w, r, err)
		return
	}
	now := s.now()
	for _, sub := range subs {
		row, err := s.profileSubscription(ctx, sub, titles, now)
		if err != nil {
			s.error(w, r, err)
			return
		}
		row.Open = row.ID == newID
		v.Subscriptions = append(v.Subscriptions, row)
	}
	s.render(w, r, status, views.ProfilePage(v))
}

// profileSubscription is sub as its owner sees it. products names the
// products by name, for the scope's title and link; a product the owner
// may not see is named, not linked.
func (s *Server) profileSubscription(ctx context.Context, sub *portal.Subscription, products map[string]*portal.Product, now time.Time) (views.ProfileSubscription, error) {
	id := strconv.FormatInt(sub.ID, 10)
	state := sub.EffectiveState(now)
	row := views.ProfileSubscription{
		ID:      id,
		Title:   sub.Title(),
		Name:    sub.Name,
		State:   subscriptionStateBadge(state),
		Comment: sub.StateComment,
		Created: formatTime(sub.CreatedAt),
		Expires: expiryText(sub),
	}
	switch sub.Scope.Kind {
	case portal.ScopeAll:
		row.Scope = "All APIs"
	case portal.ScopeAPI:
		row.Scope = "API " + sub.Scope.Name
		row.ScopeURL = apiURL(sub.Scope.Name)
	case portal.ScopeProduct:
		row.Scope = "Product " + sub.Scope.Name
		if p := products[sub.Scope.Name]; p != nil {
			row.Scope = "Product " + p.Title()
			if p.State == portal.ProductPublished {
				row.ScopeURL = productURL(p.Name)
			}
		}
	}
	if _, err := sub.State.Next(portal.ActionCancel); err == nil {
		row.CancelURL = subscriptionURL(sub.ID) + "/cancel"
	}
	if !sub.State.Live() {
		row.KeysNote = "This subscription has no keys any more."
		return row, nil
	}
	switch state {
	case portal.SubscriptionSubmitted:
		row.KeysNote = "The keys pass once an administrator approves the subscription."
	case portal.SubscriptionSuspended:
		row.KeysNote = "The subscription is suspended: its keys do not pass until an administrator reactivates it."
	case portal.SubscriptionExpired:
		row.KeysNote = "The subscription has expired: its keys no longer pass."
	}
	primary, secondary, err := s.store.RevealSubscriptionKeys(ctx, sub.ID)
	if err != nil {
		return row, fmt.Errorf("reveal keys of subscription %d: %w", sub.ID, err)
	}
	for _, k := range []struct {
		kind portal.KeyKind
		key  string
	}{{portal.PrimaryKey, primary}, {portal.SecondaryKey, secondary}} {
		row.Keys = append(row.Keys, views.ProfileKey{
			ElementID:     "sub-" + id + "-" + string(k.kind),
			Label:         keyLabel(k.kind),
			Kind:          string(k.kind),
			Key:           k.key,
			Ending:        keyEnding(k.key),
			RegenerateURL: subscriptionURL(sub.ID) + "/regenerate/" + string(k.kind),
		})
	}
	return row, nil
}

// handleRegenerateOwnKey replaces the primary or secondary key of one of
// the caller's live subscriptions; the old key stops passing.
func (s *Server) handleRegenerateOwnKey(w http.ResponseWriter, r *http.Request) {
	kind := portal.KeyKind(r.PathValue("key"))
	if kind != portal.PrimaryKey && kind != portal.SecondaryKey {
		s.handleNotFound(w, r)
		return
	}
	sub, err := s.findOwnSubscription(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !sub.State.Live() {
		err = portal.Errorf(portal.EINVALID, "A %s subscription has no keys to regenerate.", subscriptionStateLabel(sub.State))
	} else {
		_, err = s.store.RegenerateSubscriptionKey(r.Context(), sub.ID, kind)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderProfile(w, r, status, message)
		}
		return
	}
	s.setFlash(w, r, flashNewKeys, strconv.FormatInt(sub.ID, 10))
	s.done(w, r, profileURL, keyLabel(kind)+" of "+sub.Title()+" regenerated; the old key no longer passes.")
}

// handleCancelOwnSubscription cancels one of the caller's subscriptions;
// its keys stop passing. The profile asks for confirmation before the
// form is sent.
func (s *Server) handleCancelOwnSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.findOwnSubscription(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	next, err := sub.State.Next(portal.ActionCancel)
	if err == nil {
		// Conditional on the state next was worked out from: an
		// administrator may act on the subscription at the same time.
		_, err = s.store.UpdateSubscription(r.Context(), sub.ID, portal.SubscriptionUpdate{State: &next, ExpectState: &sub.State})
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderProfile(w, r, status, message)
		}
		return
	}
	s.done(w, r, profileURL, "Subscription "+sub.Title()+" cancelled; its keys no longer pass.")
}

// findOwnSubscription finds the subscription of the {id} path segment
// when it belongs to the signed-in user. Anyone else's answers ENOTFOUND,
// as a missing one does: administrators included, who act on others'
// subscriptions in the administration.
func (s *Server) findOwnSubscription(r *http.Request) (*portal.Subscription, error) {
	user := portal.UserFromContext(r.Context())
	sub, err := s.findSubscription(r)
	if err != nil {
		return nil, err
	}
	if user == nil || sub.OwnerID != user.ID {
		return nil, portal.Errorf(portal.ENOTFOUND, "There is no subscription %q.", r.PathValue("id"))
	}
	return sub, nil
}

// now is the server's clock: the sessions' (auth.Config.Now), so that
// what the pages say has expired agrees with what sign-in does, and a
// test's clock applies to both.
func (s *Server) now() time.Time {
	if s.auth != nil {
		return s.auth.Now()
	}
	return time.Now()
}

func subscriptionURL(id int64) string { return "/subscriptions/" + strconv.FormatInt(id, 10) }

// notifyApprovalPending tells every active administrator that sub waits
// for their approval: the administrators are found in the request, their
// mail is sent after the answer (inBackground), since a slow mail server
// must not hold up the developer's page. Each administrator's mail
// is a piece of work of its own, with its own time, so that one bad
// address or a long list does not keep the others uninformed. The
// subscription exists whatever happens to the mail, so a failure is
// logged, not shown to the developer.
func (s *Server) notifyApprovalPending(ctx context.Context, sub *portal.Subscription, p *portal.Product, requester *portal.User) {
	admins, _, err := s.store.FindUsers(ctx, portal.UserFilter{Role: portal.RoleAdmin, State: portal.UserActive})
	if err != nil {
		s.logger.ErrorContext(ctx, "send "+mail.ApprovalPending+" mail", "request_id", requestIDFrom(ctx), "error", err)
		return
	}
	who := requester.Email
	if requester.Name != "" {
		who = requester.Name + " <" + requester.Email + ">"
	}
	product, subscription, link := p.Title(), sub.Title(), adminSubscriptionURL(sub.ID)
	for _, a := range admins {
		to, d := a.Email, mail.Data{Name: a.Name, Product: product, Subscription: subscription, Requester: who}
		s.inBackground(ctx, "send "+mail.ApprovalPending+" mail", func(ctx context.Context) error {
			return s.sendMail(ctx, mail.ApprovalPending, to, link, d)
		})
	}
}

// notifySubscriptionDecision emails the owner of sub, after the answer,
// that an administrator approved or rejected their request (with comment,
// for a rejection). Other actions, and subscriptions without an owner,
// send nothing. The decision stands whatever happens to the mail, so a
// failure is logged.
func (s *Server) notifySubscriptionDecision(ctx context.Context, sub *portal.Subscription, action portal.SubscriptionAction, comment string) {
	kind := ""
	switch action {
	case portal.ActionApprove:
		kind = mail.SubscriptionApproved
	case portal.ActionReject:
		kind = mail.SubscriptionRejected
	}
	if kind == "" || sub.OwnerID == 0 || sub.OwnerEmail == "" {
		return
	}
	d := mail.Data{Name: sub.OwnerName, Subscription: sub.Title()}
	if action == portal.ActionReject {
		d.Comment = comment
	}
	to, scope := sub.OwnerEmail, sub.Scope
	s.inBackground(ctx, "send "+kind+" mail", func(ctx context.Context) error {
		d.Product = scope.String()
		if scope.Kind == portal.ScopeProduct {
			d.Product = scope.Name
			if p, err := s.store.FindProductByName(ctx, scope.Name); err == nil {
				d.Product = p.Title()
			}
		}
		return s.sendMail(ctx, kind, to, profileURL, d)
	})
}
