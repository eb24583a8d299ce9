package web

import (
	"net/http"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/views"
)

// featuredAPIs is how many APIs the home page shows.
const featuredAPIs = 6

// handleHome shows the portal's title, the first visible APIs and the ways
// in.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	apis, total, err := s.store.FindAPIs(ctx, visibleTo(r, portal.APIFilter{Limit: featuredAPIs}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.HomeView{
		Shell:       s.shell(r, settings, "", sectionHome),
		Title:       settings.Title,
		Intro:       "Find the APIs you need, read how each operation works, and subscribe to get the keys that call them.",
		Featured:    apiCards(apis, ""),
		TotalAPIs:   total,
		SignInURL:   signInURL(r),
		CatalogURL:  catalogueURL("", "", 1),
		ProductsURL: "/products",
	}
	if u := portal.UserFromContext(ctx); u != nil {
		v.UserName = u.Name
	} else if settings.BasicAuth.SignUp {
		v.SignUpURL = "/signup"
	}
	s.render(w, r, http.StatusOK, views.HomePage(v))
}
