package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// handleProducts lists the published products; administrators also see
// the others, marked.
func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	admin := portal.UserFromContext(ctx).IsAdmin()
	filter := portal.ProductFilter{State: portal.ProductPublished}
	if admin {
		filter.State = ""
	}
	products, _, err := s.store.FindProducts(ctx, filter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.ProductsView{Shell: s.shell(r, settings, "Products", sectionProducts), IsAdmin: admin}
	for _, p := range products {
		v.Products = append(v.Products, components.ProductCard{
			Title:   p.Title(),
			URL:     productURL(p.Name),
			Summary: summary(p.Description),
			Badges:  productBadges(p),
			// The APIs of a product the visitor may see are visible to
			// them too: a published product publishes its APIs.
			APIs: len(p.APIs),
		})
	}
	s.render(w, r, http.StatusOK, views.ProductsPage(v))
}

// handleProduct shows a product's description, terms, limits and APIs. A
// product that is not published is, for everyone but administrators, a
// product that does not exist.
func (s *Server) handleProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name := r.PathValue("product")
	notFound := portal.Errorf(portal.ENOTFOUND, "There is no product named %q.", name)
	if !portal.ValidName(name) {
		s.error(w, r, notFound)
		return
	}
	user := portal.UserFromContext(ctx)
	p, err := s.store.FindProductByName(ctx, name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if p.State != portal.ProductPublished && !user.IsAdmin() {
		s.error(w, r, notFound)
		return
	}
	s.renderProduct(w, r, http.StatusOK, settings, p, nil)
}

// renderProduct shows product p with status. A signed-in user of a
// published product that needs a subscription gets the subscribe form:
// form, when it comes back refused, or an empty one.
func (s *Server) renderProduct(w http.ResponseWriter, r *http.Request, status int, settings *portal.Settings, p *portal.Product, form *views.SubscribeForm) {
	ctx := r.Context()
	user := portal.UserFromContext(ctx)
	var err error
	var apis []*portal.API
	if len(p.APIs) > 0 { // no names would mean no filter: every API
		apis, _, err = s.store.FindAPIs(ctx, visibleTo(r, portal.APIFilter{Names: p.APIs}))
		if err != nil {
			s.error(w, r, fmt.Errorf("find APIs of product %s: %w", p.Name, err))
			return
		}
	}
	v := views.ProductView{
		Shell:       s.shell(r, settings, p.Title(), sectionProducts),
		Trail:       []components.Link{{Label: "Products", URL: "/products"}},
		Title:       p.Title(),
		Description: p.Description,
		Terms:       p.Terms,
		Badges:      productBadges(p),
		Facts:       productFacts(p),
		APIs:        apiCards(apis, ""),
		Open:        p.IsOpen(),
	}
	if user == nil && !p.IsOpen() {
		v.SignInURL = signInURL(r)
	}
	if user != nil && !p.IsOpen() && p.State == portal.ProductPublished {
		if v.Subscribe, err = s.subscribeForm(ctx, user, p, form); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.render(w, r, status, views.ProductPage(v))
}

// productFacts spells out a product's terms of access.
func productFacts(p *portal.Product) []components.Fact {
	if p.IsOpen() {
		return []components.Fact{
			{Label: "Subscription", Value: "Not needed: the APIs are open"},
			{Label: "Rate limit", Value: rateLimitText(p.RateLimit)},
		}
	}
	approval := "Subscriptions are active at once"
	if p.ApprovalRequired {
		approval = "An administrator approves each new subscription"
	}
	limit := "Unlimited"
	if p.SubscriptionsLimit > 0 {
		limit = "Up to " + strconv.Itoa(p.SubscriptionsLimit)
	}
	return []components.Fact{
		{Label: "Subscription", Value: "Required: calls need a subscription key"},
		{Label: "Approval", Value: approval},
		{Label: "Subscriptions per developer", Value: limit},
		{Label: "Rate limit", Value: rateLimitText(p.RateLimit)},
	}
}

func rateLimitText(rl *portal.RateLimit) string {
	if rl == nil {
		return "None"
	}
	calls := "calls"
	if rl.Calls == 1 {
		calls = "call"
	}
	return fmt.Sprintf("%d %s per %s per subscription", rl.Calls, calls, periodText(rl.Period))
}

// periodText says a duration the way people do: "minute", "30 seconds".
func periodText(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d == u.d {
			return u.name
		}
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + " " + u.name + "s"
		}
	}
	return d.String()
}
