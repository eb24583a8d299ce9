package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
)

// Sections of the main navigation; a page names the one it belongs to.
const (
	sectionHome     = "home"
	sectionAPIs     = "apis"
	sectionProducts = "products"
	sectionAdmin    = "admin"
)

// mainNav is the main navigation. A new top-level section adds its entry
// here; administrators also get the administration section, marked
// current on its pages. Other per-user links (profile) go in accountMenu.
func mainNav(section string, u *portal.User) []components.NavItem {
	nav := []components.NavItem{
		{Label: "Home", URL: "/", Current: section == sectionHome},
		{Label: "APIs", URL: catalogueURL("", "", 1), Current: section == sectionAPIs},
		{Label: "Products", URL: "/products", Current: section == sectionProducts},
	}
	if u.IsAdmin() {
		nav = append(nav, components.NavItem{Label: "Administration", URL: adminURL, Current: section == sectionAdmin})
	}
	return nav
}

// accountMenu is the header's account area: sign-in and sign-up links for
// an anonymous visitor, or the user's name, links and sign-out button.
// The routes it links to are the identity pages of CONTRACT.md section 4.
func accountMenu(r *http.Request, u *portal.User, settings *portal.Settings) components.Account {
	if u == nil {
		a := components.Account{SignInURL: signInURL(r)}
		// Sign-up makes an email and password account, useless while
		// password sign-in is off.
		if settings.BasicAuth.SignUp && settings.BasicAuth.SignIn {
			a.SignUpURL = "/signup"
		}
		return a
	}
	name := u.Name
	if name == "" {
		name = u.Email
	}
	return components.Account{
		Name:       name,
		Links:      []components.Link{{Label: "Profile", URL: "/profile"}},
		SignOutURL: "/signout",
	}
}

// shell is the layout's view model for a page titled title in section.
func (s *Server) shell(r *http.Request, settings *portal.Settings, title, section string) components.Shell {
	u := portal.UserFromContext(r.Context())
	return components.Shell{
		SiteTitle: settings.Title,
		PageTitle: title,
		Assets:    s.assetURLs,
		Nav:       mainNav(section, u),
		Account:   accountMenu(r, u, settings),
	}
}

// visibleTo narrows f to what the visitor may see: the signed-in user's
// view, or an anonymous visitor's. A nil VisibleTo alone would not filter
// at all and show unpublished APIs to everyone.
func visibleTo(r *http.Request, f portal.APIFilter) portal.APIFilter {
	f.VisibleTo = portal.UserFromContext(r.Context())
	f.Anonymous = f.VisibleTo == nil
	return f
}

// The portal's own URLs, built in one place.

// signInURL leads to the sign-in page and back to the page shown.
func signInURL(r *http.Request) string {
	// Nothing under /signin/ is worth returning to: an identity
	// provider's callback carries a used code and state.
	if r.URL.Path == "/" || r.URL.Path == "/signin" || strings.HasPrefix(r.URL.Path, "/signin/") {
		return "/signin"
	}
	return "/signin?next=" + url.QueryEscape(r.URL.RequestURI())
}

func catalogueURL(query, tag string, page int) string {
	v := url.Values{}
	if query != "" {
		v.Set("q", query)
	}
	if tag != "" {
		v.Set("tag", tag)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/apis"
	}
	return "/apis?" + v.Encode()
}

func apiURL(name string) string { return "/apis/" + url.PathEscape(name) }

func apiSpecURL(name string) string { return apiURL(name) + "/openapi" }

func operationURL(api, operation string) string {
	return apiURL(api) + "/operations/" + url.PathEscape(operation)
}

func productURL(name string) string { return "/products/" + url.PathEscape(name) }
