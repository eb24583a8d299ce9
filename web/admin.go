package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// AdminStore is what the administration pages change, besides what Store
// reads. portal.Store implements it.
type AdminStore interface {
	CreateAPI(ctx context.Context, api *portal.API) error
	UpdateAPI(ctx context.Context, name string, api *portal.API) (*portal.API, error)
	DeleteAPI(ctx context.Context, name string) error

	CreateProduct(ctx context.Context, p *portal.Product) error
	UpdateProduct(ctx context.Context, name string, p *portal.Product) (*portal.Product, error)
	DeleteProduct(ctx context.Context, name string) error

	FindSubscriptionByID(ctx context.Context, id int64) (*portal.Subscription, error)
	FindSubscriptions(ctx context.Context, filter portal.SubscriptionFilter) ([]*portal.Subscription, int, error)
	CreateSubscription(ctx context.Context, s *portal.Subscription) error
	UpdateSubscription(ctx context.Context, id int64, upd portal.SubscriptionUpdate) (*portal.Subscription, error)
	RegenerateSubscriptionKey(ctx context.Context, id int64, kind portal.KeyKind) (string, error)
	RevealSubscriptionKeys(ctx context.Context, id int64) (primary, secondary string, err error)

	FindUserByEmail(ctx context.Context, email string) (*portal.User, error)
	FindUsers(ctx context.Context, filter portal.UserFilter) ([]*portal.User, int, error)

	IdentityProviderAdminStore
}

// adminURL is the administration dashboard.
const adminURL = "/admin/"

// Sections of the administration, for its navigation.
const (
	adminHome          = "home"
	adminAPIs          = "apis"
	adminProducts      = "products"
	adminSubscriptions = "subscriptions"
	adminUsers         = "users"
)

// adminPageSize is how many rows the long administration lists show.
const adminPageSize = 50

// maxAdminForm bounds the body of the administration's plain forms.
const maxAdminForm = 256 << 10

// Flash keys: the notice of the last action, and the id of a subscription
// whose keys were just made (shown in full once).
const (
	flashNotice  = "notice"
	flashNewKeys = "new_keys"
)

func adminNav(section string) []components.NavItem {
	return []components.NavItem{
		{Label: "Dashboard", URL: adminURL, Current: section == adminHome},
		{Label: "APIs", URL: "/admin/apis", Current: section == adminAPIs},
		{Label: "Products", URL: "/admin/products", Current: section == adminProducts},
		{Label: "Subscriptions", URL: "/admin/subscriptions", Current: section == adminSubscriptions},
		{Label: "Users", URL: "/admin/users", Current: section == adminUsers},
		{Label: "Identity providers", URL: adminIdentityProvidersURL, Current: section == adminIdentityProviders},
		{Label: "Invitations", URL: adminInvitationsU, Current: section == adminInvitations},
		{Label: "Outbox", URL: "/admin/outbox", Current: section == adminOutbox},
		{Label: "Settings", URL: adminSettingsURL, Current: section == adminSettings},
	}
}

// adminFrame is the frame of an administration page in section. It takes
// the notice left by the previous action, so call it before rendering.
func (s *Server) adminFrame(w http.ResponseWriter, r *http.Request, settings *portal.Settings, section, title string, trail ...components.Link) views.AdminFrame {
	f := views.AdminFrame{
		Shell:  s.shell(r, settings, title, sectionAdmin),
		Nav:    adminNav(section),
		Title:  title,
		Notice: s.takeFlash(w, r, flashNotice),
	}
	if section != adminHome || len(trail) > 0 {
		f.Trail = append([]components.Link{{Label: "Administration", URL: adminURL}}, trail...)
	}
	return f
}

// takeFlash reads and clears a one-time value; it is a convenience, so a
// failure is logged and reads as no value.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request, key string) string {
	if s.auth == nil {
		return ""
	}
	v, err := s.auth.TakeFlash(w, r, key)
	if err != nil {
		s.logger.WarnContext(r.Context(), "read flash", "request_id", requestIDFrom(r.Context()), "error", err)
	}
	return v
}

func (s *Server) setFlash(w http.ResponseWriter, r *http.Request, key, value string) {
	if s.auth == nil {
		return
	}
	if err := s.auth.SetFlash(w, r, key, value); err != nil {
		s.logger.WarnContext(r.Context(), "keep flash", "request_id", requestIDFrom(r.Context()), "error", err)
	}
}

// done ends a successful POST: it leaves notice for the next page and
// redirects there with 303, so that reloading does not repeat the action.
func (s *Server) done(w http.ResponseWriter, r *http.Request, to, notice string) {
	s.setFlash(w, r, flashNotice, notice)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// parseAdminForm reads a plain (urlencoded) administration form.
func parseAdminForm(w http.ResponseWriter, r *http.Request) error {
	return parseForm(w, r, maxAdminForm)
}

// parseForm reads a plain (urlencoded) form of at most limit bytes.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return errFormUnreadable
	}
	return nil
}

// readForm reads a plain form of at most limit bytes, or answers with the
// error page and returns false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	if err := parseForm(w, r, limit); err != nil {
		s.error(w, r, err)
		return false
	}
	return true
}

// handleAdminHome shows the dashboard: counts and the subscriptions
// waiting for approval.
func (s *Server) handleAdminHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, apis, err := s.store.FindAPIs(ctx, portal.APIFilter{Limit: 1})
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, products, err := s.store.FindProducts(ctx, portal.ProductFilter{Limit: 1})
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, subs, err := s.store.FindSubscriptions(ctx, portal.SubscriptionFilter{Limit: 1})
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, users, err := s.store.FindUsers(ctx, portal.UserFilter{Limit: 1})
	if err != nil {
		s.error(w, r, err)
		return
	}
	pending, pendingTotal, err := s.store.FindSubscriptions(ctx, portal.SubscriptionFilter{State: portal.SubscriptionSubmitted, Limit: 10})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.AdminHomeView{
		Frame: s.adminFrame(w, r, settings, adminHome, "Administration"),
		Counts: []views.AdminCount{
			{Label: "APIs", Count: apis, URL: "/admin/apis"},
			{Label: "Products", Count: products, URL: "/admin/products"},
			{Label: "Subscriptions", Count: subs, URL: "/admin/subscriptions"},
			{Label: "Users", Count: users, URL: "/admin/users"},
			{Label: "Waiting for approval", Count: pendingTotal, URL: adminSubscriptionsURL(string(portal.SubscriptionSubmitted), "", "", 1)},
		},
		PendingTotal: pendingTotal,
		PendingURL:   adminSubscriptionsURL(string(portal.SubscriptionSubmitted), "", "", 1),
	}
	now := s.now()
	for _, sub := range pending {
		row := subscriptionRow(sub, now)
		for _, a := range []portal.SubscriptionAction{portal.ActionApprove, portal.ActionReject} {
			row.Actions = append(row.Actions, actionButton(sub, a, false))
		}
		v.Pending = append(v.Pending, row)
	}
	s.render(w, r, http.StatusOK, views.AdminHomePage(v))
}

func roleLabel(r portal.Role) string {
	if r == portal.RoleAdmin {
		return "Administrator"
	}
	return "Developer"
}

func userStateBadge(st portal.UserState) components.Badge {
	switch st {
	case portal.UserActive:
		return components.Badge{Label: "Active", Tone: components.ToneSuccess}
	case portal.UserPending:
		return components.Badge{Label: "Pending", Tone: components.ToneWarning}
	}
	return components.Badge{Label: "Blocked", Tone: components.ToneDanger}
}

// choices marks the choice whose value is selected.
func choices(selected string, cs ...components.Choice) []components.Choice {
	for i := range cs {
		cs[i].Selected = cs[i].Value == selected
	}
	return cs
}

// pageNumber reads ?page=, 1 when absent.
func pageNumber(r *http.Request) (int, error) {
	p := r.URL.Query().Get("page")
	if p == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 {
		return 0, portal.Errorf(portal.EINVALID, "The page number must be a whole number from 1.")
	}
	return n, nil
}

func pagination(page, total int, link func(int) string) components.Pagination {
	pages := (total + adminPageSize - 1) / adminPageSize
	p := components.Pagination{Page: page, Pages: pages}
	if page > 1 {
		p.Previous = link(page - 1)
	}
	if page < pages {
		p.Next = link(page + 1)
	}
	return p
}

// countOf says how many: "1 API", "3 APIs".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// formatTime shows a stored time in UTC, to the minute.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// parseDuration reads a Go duration typed into field label; empty is 0.
func parseDuration(label, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, portal.Errorf(portal.EINVALID, "%s %q is not a duration such as 30s, 5m or 1h.", label, s)
	}
	return d, nil
}

// parseCount reads a whole number typed into field label; empty is 0.
func parseCount(label, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, portal.Errorf(portal.EINVALID, "%s %q is not a whole number.", label, s)
	}
	return n, nil
}

// The administration's URLs.

func adminAPIEditURL(name string) string { return "/admin/apis/" + url.PathEscape(name) + "/edit" }

func adminAPIDeleteURL(name string) string { return "/admin/apis/" + url.PathEscape(name) + "/delete" }

func adminAPIPoliciesURL(name string) string {
	return "/admin/apis/" + url.PathEscape(name) + "/policies"
}

func adminAPIPolicyXMLURL(name string) string {
	return "/admin/apis/" + url.PathEscape(name) + "/policies/xml"
}

func adminProductEditURL(name string) string {
	return "/admin/products/" + url.PathEscape(name) + "/edit"
}

func adminProductDeleteURL(name string) string {
	return "/admin/products/" + url.PathEscape(name) + "/delete"
}

func adminSubscriptionURL(id int64) string {
	return "/admin/subscriptions/" + strconv.FormatInt(id, 10)
}

func adminSubscriptionsURL(state, owner, scope string, page int) string {
	v := url.Values{}
	if state != "" {
		v.Set("state", state)
	}
	if owner != "" {
		v.Set("owner", owner)
	}
	if scope != "" {
		v.Set("scope", scope)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/admin/subscriptions"
	}
	return "/admin/subscriptions?" + v.Encode()
}

func adminUsersURL(query, role, state string, page int) string {
	v := url.Values{}
	if query != "" {
		v.Set("q", query)
	}
	if role != "" {
		v.Set("role", role)
	}
	if state != "" {
		v.Set("state", state)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/admin/users"
	}
	return "/admin/users?" + v.Encode()
}
