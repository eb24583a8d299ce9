package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// handleAdminSubscriptions lists subscriptions, newest first, filtered by
// ?state=, ?owner= (an email) and ?scope= (all, product:NAME, api:NAME).
func (s *Server) handleAdminSubscriptions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state, owner, scope := q.Get("state"), portal.NormalizeEmail(q.Get("owner")), strings.TrimSpace(q.Get("scope"))
	filter := portal.SubscriptionFilter{}
	if state != "" {
		filter.State = portal.SubscriptionState(state)
		if !portal.ValidSubscriptionState(filter.State) {
			s.error(w, r, portal.Errorf(portal.EINVALID, "There is no subscription state %q.", state))
			return
		}
	}
	if scope != "" {
		sc, err := portal.ParseScope(scope)
		if err != nil {
			s.error(w, r, err)
			return
		}
		filter.Scope = &sc
	}
	page, err := pageNumber(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var subs []*portal.Subscription
	total := 0
	noOwner := false
	if owner != "" {
		u, err := s.store.FindUserByEmail(ctx, owner)
		switch {
		case portal.ErrorCode(err) == portal.ENOTFOUND:
			noOwner = true // nobody has this address, so no subscription matches
		case err != nil:
			s.error(w, r, err)
			return
		default:
			filter.OwnerID = u.ID
		}
	}
	if !noOwner {
		filter.Offset, filter.Limit = (page-1)*adminPageSize, adminPageSize
		if subs, total, err = s.store.FindSubscriptions(ctx, filter); err != nil {
			s.error(w, r, err)
			return
		}
	}
	scopes, err := s.scopeSelect(r, "filter-scope", "Scope", scope, true)
	if err != nil {
		s.error(w, r, err)
		return
	}
	stateChoices := []components.Choice{{Value: "", Label: "Any state"}}
	for _, st := range subscriptionStates {
		stateChoices = append(stateChoices, components.Choice{Value: string(st), Label: subscriptionStateLabel(st)})
	}
	v := views.AdminSubscriptionsView{
		Frame: s.adminFrame(w, r, settings, adminSubscriptions, "Subscriptions"),
		State: components.Select{ID: "filter-state", Name: "state", Label: "State", Choices: choices(state, stateChoices...), TestID: "filter-state"},
		Owner: owner,
		Scope: scopes,
		Total: total,
		Pagination: pagination(page, total, func(p int) string {
			return adminSubscriptionsURL(state, owner, scope, p)
		}),
	}
	if state != "" || owner != "" || scope != "" {
		v.ClearURL = "/admin/subscriptions"
	}
	now := s.now()
	for _, sub := range subs {
		v.Rows = append(v.Rows, subscriptionRow(sub, now))
	}
	s.render(w, r, http.StatusOK, views.AdminSubscriptionsPage(v))
}

// handleAdminNewSubscription shows the empty subscription form.
func (s *Server) handleAdminNewSubscription(w http.ResponseWriter, r *http.Request) {
	s.renderSubscriptionForm(w, r, http.StatusOK, views.SubscriptionForm{State: string(portal.SubscriptionActive), Scope: "all"}, "")
}

// handleAdminCreateSubscription creates a subscription with generated keys
// and shows them on its page.
func (s *Server) handleAdminCreateSubscription(w http.ResponseWriter, r *http.Request) {
	var form views.SubscriptionForm
	sub := &portal.Subscription{}
	err := parseAdminForm(w, r)
	if err == nil {
		f := r.PostForm
		form = views.SubscriptionForm{
			Name:        strings.TrimSpace(f.Get("name")),
			DisplayName: strings.TrimSpace(f.Get("display_name")),
			Owner:       strings.TrimSpace(f.Get("owner")),
			Scope:       f.Get("scope"),
			State:       f.Get("state"),
			ExpiresAt:   strings.TrimSpace(f.Get("expires_at")),
		}
		err = applySubscriptionForm(form, sub)
	}
	if err == nil {
		err = s.store.CreateSubscription(r.Context(), sub)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderSubscriptionForm(w, r, status, form, message)
		}
		return
	}
	s.setFlash(w, r, flashNewKeys, strconv.FormatInt(sub.ID, 10))
	s.done(w, r, adminSubscriptionURL(sub.ID), "Subscription "+sub.Name+" created.")
}

// applySubscriptionForm copies the form's fields into sub; the store
// validates them, and finds the owner by email.
func applySubscriptionForm(f views.SubscriptionForm, sub *portal.Subscription) error {
	scope, err := portal.ParseScope(f.Scope)
	if err != nil {
		return err
	}
	sub.Name = f.Name
	sub.DisplayName = f.DisplayName
	sub.OwnerEmail = portal.NormalizeEmail(f.Owner)
	sub.Scope = scope
	sub.State = portal.SubscriptionState(f.State)
	if f.ExpiresAt != "" {
		t, err := parseExpiry(f.ExpiresAt)
		if err != nil {
			return err
		}
		sub.ExpiresAt = &t
	}
	return nil
}

// parseExpiry reads a datetime-local value ("2026-12-31T23:59", taken as
// UTC) or an RFC 3339 time.
func parseExpiry(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, portal.Errorf(portal.EINVALID, "Expiry %q is not a date and time such as 2026-12-31T23:59.", s)
}

// handleAdminSubscription shows a subscription with its keys and actions.
// Right after creation the keys are shown in full, once.
func (s *Server) handleAdminSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.findSubscription(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	revealed := s.takeFlash(w, r, flashNewKeys) == strconv.FormatInt(sub.ID, 10)
	s.renderSubscription(w, r, http.StatusOK, sub, revealed, "")
}

// subscriptionActionDone are the notices of the state changes.
var subscriptionActionDone = map[portal.SubscriptionAction]string{
	portal.ActionApprove:    "approved",
	portal.ActionReject:     "rejected",
	portal.ActionSuspend:    "suspended",
	portal.ActionReactivate: "reactivated",
	portal.ActionCancel:     "cancelled",
}

// handleAdminSubscriptionAction applies approve, reject, suspend,
// reactivate or cancel, as the subscription's state allows.
func (s *Server) handleAdminSubscriptionAction(w http.ResponseWriter, r *http.Request) {
	action := portal.SubscriptionAction(r.PathValue("action"))
	verb, ok := subscriptionActionDone[action]
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	sub, err := s.findSubscription(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := parseAdminForm(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	comment := ""
	if action == portal.ActionReject || action == portal.ActionSuspend {
		comment = strings.TrimSpace(r.PostForm.Get("comment"))
	}
	next, err := sub.State.Next(action)
	if err == nil {
		// Conditional on the state next was worked out from: the owner
		// may cancel, or another administrator act, at the same time.
		_, err = s.store.UpdateSubscription(r.Context(), sub.ID, portal.SubscriptionUpdate{State: &next, StateComment: &comment, ExpectState: &sub.State})
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			// Show the subscription as it is now, with the actions
			// its state allows, rather than as it was read.
			if current, ferr := s.store.FindSubscriptionByID(r.Context(), sub.ID); ferr == nil {
				sub = current
			}
			s.renderSubscription(w, r, status, sub, false, message)
		}
		return
	}
	s.notifySubscriptionDecision(r.Context(), sub, action, comment)
	s.done(w, r, adminSubscriptionURL(sub.ID), "Subscription "+sub.Name+" "+verb+".")
}

// handleAdminRegenerateKey replaces the primary or secondary key; the old
// one stops passing.
func (s *Server) handleAdminRegenerateKey(w http.ResponseWriter, r *http.Request) {
	kind := portal.KeyKind(r.PathValue("key"))
	if kind != portal.PrimaryKey && kind != portal.SecondaryKey {
		s.handleNotFound(w, r)
		return
	}
	sub, err := s.findSubscription(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if _, err := s.store.RegenerateSubscriptionKey(r.Context(), sub.ID, kind); err != nil {
		s.error(w, r, err)
		return
	}
	s.done(w, r, adminSubscriptionURL(sub.ID), keyLabel(kind)+" of "+sub.Name+" regenerated; the old key no longer passes.")
}

// findSubscription finds the subscription of the {id} path segment.
func (s *Server) findSubscription(r *http.Request) (*portal.Subscription, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return nil, portal.Errorf(portal.ENOTFOUND, "There is no subscription %q.", r.PathValue("id"))
	}
	return s.store.FindSubscriptionByID(r.Context(), id)
}

func (s *Server) renderSubscription(w http.ResponseWriter, r *http.Request, status int, sub *portal.Subscription, revealed bool, message string) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	primary, secondary, err := s.store.RevealSubscriptionKeys(ctx, sub.ID)
	if err != nil {
		s.error(w, r, fmt.Errorf("reveal keys of subscription %d: %w", sub.ID, err))
		return
	}
	now := s.now()
	v := views.AdminSubscriptionView{
		Frame:    s.adminFrame(w, r, settings, adminSubscriptions, sub.Title(), components.Link{Label: "Subscriptions", URL: "/admin/subscriptions"}),
		Error:    message,
		State:    subscriptionStateBadge(sub.EffectiveState(now)),
		Comment:  sub.StateComment,
		Revealed: revealed,
		Facts: []components.Fact{
			{Label: "Name", Value: sub.Name},
			{Label: "Owner", Value: ownerText(sub)},
			{Label: "Scope", Value: sub.Scope.String()},
			{Label: "Created", Value: formatTime(sub.CreatedAt)},
			{Label: "Expires", Value: expiryText(sub)},
		},
	}
	for _, k := range []struct {
		kind portal.KeyKind
		key  string
	}{{portal.PrimaryKey, primary}, {portal.SecondaryKey, secondary}} {
		v.Keys = append(v.Keys, views.SubscriptionKey{
			Label:         keyLabel(k.kind),
			Kind:          string(k.kind),
			Key:           k.key,
			Ending:        keyEnding(k.key),
			RegenerateURL: adminSubscriptionURL(sub.ID) + "/regenerate/" + string(k.kind),
		})
	}
	for _, a := range sub.State.Actions() {
		v.Actions = append(v.Actions, actionButton(sub, a, true))
	}
	s.render(w, r, status, views.AdminSubscriptionPage(v))
}

// renderSubscriptionForm shows the new-subscription form.
func (s *Server) renderSubscriptionForm(w http.ResponseWriter, r *http.Request, status int, form views.SubscriptionForm, message string) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	scopes, err := s.scopeSelect(r, "sub-scope", "Scope", form.Scope, false)
	if err != nil {
		s.error(w, r, err)
		return
	}
	scopes.Required = true
	scopes.TestID = "sub-scope"
	scopes.Hint = "What the keys give access to: one product, one API, or every API."
	v := views.SubscriptionFormView{
		Frame:     s.adminFrame(w, r, settings, adminSubscriptions, "New subscription", components.Link{Label: "Subscriptions", URL: "/admin/subscriptions"}),
		Action:    "/admin/subscriptions",
		CancelURL: "/admin/subscriptions",
		Error:     message,
		Form:      form,
		Scopes:    scopes,
	}
	// Expired is a consequence of the expiry time, not a state to choose.
	for _, st := range subscriptionStates[:len(subscriptionStates)-1] {
		v.States = append(v.States, components.Choice{Value: string(st), Label: subscriptionStateLabel(st), Selected: string(st) == form.State})
	}
	s.render(w, r, status, views.SubscriptionFormPage(v))
}

// scopeSelect offers every scope: all APIs, each product, each API. With
// anyScope, it starts with an "any scope" choice, for filters.
func (s *Server) scopeSelect(r *http.Request, id, label, selected string, anyScope bool) (components.Select, error) {
	ctx := r.Context()
	products, _, err := s.store.FindProducts(ctx, portal.ProductFilter{})
	if err != nil {
		return components.Select{}, err
	}
	apis, _, err := s.store.FindAPIs(ctx, portal.APIFilter{})
	if err != nil {
		return components.Select{}, err
	}
	sel := components.Select{ID: id, Name: "scope", Label: label}
	if anyScope {
		sel.Choices = append(sel.Choices, components.Choice{Value: "", Label: "Any scope", Selected: selected == ""})
	}
	sel.Choices = append(sel.Choices, components.Choice{Value: "all", Label: "All APIs", Selected: selected == "all"})
	pg := components.ChoiceGroup{Label: "Products"}
	for _, p := range products {
		v := portal.Scope{Kind: portal.ScopeProduct, Name: p.Name}.String()
		pg.Choices = append(pg.Choices, components.Choice{Value: v, Label: p.Title(), Selected: v == selected})
	}
	ag := components.ChoiceGroup{Label: "APIs"}
	for _, a := range apis {
		v := portal.Scope{Kind: portal.ScopeAPI, Name: a.Name}.String()
		ag.Choices = append(ag.Choices, components.Choice{Value: v, Label: a.Title(), Selected: v == selected})
	}
	sel.Groups = []components.ChoiceGroup{pg, ag}
	return sel, nil
}

// subscriptionStates in the order forms offer them; expired last.
var subscriptionStates = []portal.SubscriptionState{
	portal.SubscriptionActive, portal.SubscriptionSubmitted, portal.SubscriptionSuspended,
	portal.SubscriptionRejected, portal.SubscriptionCancelled, portal.SubscriptionExpired,
}

func subscriptionStateLabel(st portal.SubscriptionState) string {
	switch st {
	case portal.SubscriptionSubmitted:
		return "Waiting for approval"
	case portal.SubscriptionActive:
		return "Active"
	case portal.SubscriptionSuspended:
		return "Suspended"
	case portal.SubscriptionRejected:
		return "Rejected"
	case portal.SubscriptionCancelled:
		return "Cancelled"
	case portal.SubscriptionExpired:
		return "Expired"
	}
	return string(st)
}

func subscriptionStateBadge(st portal.SubscriptionState) components.Badge {
	tone := components.ToneNeutral
	switch st {
	case portal.SubscriptionActive:
		tone = components.ToneSuccess
	case portal.SubscriptionSubmitted:
		tone = components.ToneInfo
	case portal.SubscriptionSuspended:
		tone = components.ToneWarning
	case portal.SubscriptionRejected:
		tone = components.ToneDanger
	}
	return components.Badge{Label: subscriptionStateLabel(st), Tone: tone}
}

// subscriptionRow is sub in a list, its state as of now.
func subscriptionRow(sub *portal.Subscription, now time.Time) views.SubscriptionRow {
	return views.SubscriptionRow{
		Title:   sub.Title(),
		Name:    sub.Name,
		URL:     adminSubscriptionURL(sub.ID),
		Owner:   ownerText(sub),
		Scope:   sub.Scope.String(),
		State:   subscriptionStateBadge(sub.EffectiveState(now)),
		Created: formatTime(sub.CreatedAt),
		Expires: expiryText(sub),
	}
}

// actionButton is the form that applies action to sub. With comment,
// rejecting and suspending offer a comment field for the owner.
func actionButton(sub *portal.Subscription, action portal.SubscriptionAction, comment bool) components.PostButton {
	b := components.PostButton{
		Action: adminSubscriptionURL(sub.ID) + "/" + string(action),
		Style:  components.ButtonSecondary,
		TestID: "action-" + string(action),
	}
	switch action {
	case portal.ActionApprove:
		b.Label, b.Style = "Approve", components.ButtonPrimary
	case portal.ActionReject:
		b.Label, b.Style = "Reject", components.ButtonDanger
	case portal.ActionSuspend:
		b.Label, b.Style = "Suspend", components.ButtonDanger
	case portal.ActionReactivate:
		b.Label, b.Style = "Reactivate", components.ButtonPrimary
	case portal.ActionCancel:
		b.Label, b.Style = "Cancel subscription", components.ButtonDanger
	}
	if comment && (action == portal.ActionReject || action == portal.ActionSuspend) {
		b.Comment = "Comment for the owner (optional)"
		b.ID = "comment-" + string(action)
	}
	return b
}

func ownerText(sub *portal.Subscription) string {
	if sub.OwnerID == 0 {
		return "No owner"
	}
	if sub.OwnerName != "" {
		return sub.OwnerName + " <" + sub.OwnerEmail + ">"
	}
	return sub.OwnerEmail
}

func expiryText(sub *portal.Subscription) string {
	if sub.ExpiresAt == nil {
		return "Never"
	}
	return formatTime(*sub.ExpiresAt)
}

func keyLabel(k portal.KeyKind) string {
	if k == portal.SecondaryKey {
		return "Secondary key"
	}
	return "Primary key"
}

// keyEnding is the end of a key, enough to tell keys apart without showing
// them.
func keyEnding(key string) string {
	if len(key) <= 4 {
		return key
	}
	return key[len(key)-4:]
}
