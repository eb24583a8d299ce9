package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// handleAdminProducts lists every product, published or not.
func (s *Server) handleAdminProducts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	products, _, err := s.store.FindProducts(ctx, portal.ProductFilter{})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.AdminProductsView{Frame: s.adminFrame(w, r, settings, adminProducts, "Products")}
	for _, p := range products {
		v.Products = append(v.Products, views.AdminProductRow{
			Name:      p.Name,
			Title:     p.Title(),
			EditURL:   adminProductEditURL(p.Name),
			PortalURL: productURL(p.Name),
			APIs:      p.APIs,
			Badges:    productBadges(p),
		})
	}
	s.render(w, r, http.StatusOK, views.AdminProductsPage(v))
}

// handleAdminNewProduct shows the empty product form.
func (s *Server) handleAdminNewProduct(w http.ResponseWriter, r *http.Request) {
	form := views.ProductForm{State: string(portal.ProductNotPublished), SubscriptionRequired: true, SubscriptionsLimit: "0"}
	s.renderProductForm(w, r, http.StatusOK, nil, form, nil, "")
}

// handleAdminCreateProduct creates a product from the form.
func (s *Server) handleAdminCreateProduct(w http.ResponseWriter, r *http.Request) {
	var form views.ProductForm
	var apis []string
	p := &portal.Product{}
	err := parseAdminForm(w, r)
	if err == nil {
		form, apis = readProductForm(r)
		err = applyProductForm(form, apis, p)
	}
	if err == nil {
		err = s.store.CreateProduct(r.Context(), p)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderProductForm(w, r, status, nil, form, apis, message)
		}
		return
	}
	s.done(w, r, "/admin/products", "Product "+p.Name+" created.")
}

// handleAdminEditProduct shows a product's form.
func (s *Server) handleAdminEditProduct(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.FindProductByName(r.Context(), r.PathValue("product"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	form := views.ProductForm{
		Name:                 p.Name,
		DisplayName:          p.DisplayName,
		Description:          p.Description,
		Terms:                p.Terms,
		State:                string(p.State),
		SubscriptionRequired: p.SubscriptionRequired,
		ApprovalRequired:     p.ApprovalRequired,
		SubscriptionsLimit:   strconv.Itoa(p.SubscriptionsLimit),
	}
	if rl := p.RateLimit; rl != nil {
		form.RateLimitCalls = strconv.Itoa(rl.Calls)
		form.RateLimitPeriod = rl.Period.String()
	}
	s.renderProductForm(w, r, http.StatusOK, p, form, p.APIs, "")
}

// handleAdminUpdateProduct saves a product's form.
func (s *Server) handleAdminUpdateProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stored, err := s.store.FindProductByName(ctx, r.PathValue("product"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var form views.ProductForm
	var apis []string
	p := *stored
	err = parseAdminForm(w, r)
	if err == nil {
		form, apis = readProductForm(r)
		err = applyProductForm(form, apis, &p)
	}
	if err == nil {
		_, err = s.store.UpdateProduct(ctx, stored.Name, &p)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderProductForm(w, r, status, stored, form, apis, message)
		}
		return
	}
	s.done(w, r, "/admin/products", "Product "+p.Name+" saved.")
}

// handleAdminConfirmDeleteProduct asks before deleting a product.
func (s *Server) handleAdminConfirmDeleteProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.store.FindProductByName(ctx, r.PathValue("product"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.ConfirmView{
		Frame: s.adminFrame(w, r, settings, adminProducts, "Delete "+p.Title(),
			components.Link{Label: "Products", URL: "/admin/products"},
			components.Link{Label: p.Title(), URL: adminProductEditURL(p.Name)}),
		Question: "Delete the product " + p.Title() + " (" + p.Name + ")?",
		Consequences: []string{
			"Subscriptions to this product are deleted with their keys.",
			"Its APIs stay, and so do subscriptions to them directly.",
		},
		Action:    adminProductDeleteURL(p.Name),
		Button:    "Delete product",
		CancelURL: adminProductEditURL(p.Name),
	}
	s.render(w, r, http.StatusOK, views.ConfirmPage(v))
}

// handleAdminDeleteProduct deletes a product.
func (s *Server) handleAdminDeleteProduct(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("product")
	if err := s.store.DeleteProduct(r.Context(), name); err != nil {
		s.error(w, r, err)
		return
	}
	s.done(w, r, "/admin/products", "Product "+name+" deleted.")
}

// readProductForm reads the parsed product form.
func readProductForm(r *http.Request) (views.ProductForm, []string) {
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	form := views.ProductForm{
		Name:                 get("name"),
		DisplayName:          get("display_name"),
		Description:          strings.TrimSpace(strings.ReplaceAll(f.Get("description"), "\r\n", "\n")),
		Terms:                strings.TrimSpace(strings.ReplaceAll(f.Get("terms"), "\r\n", "\n")),
		State:                get("state"),
		SubscriptionRequired: get("subscription_required") != "",
		ApprovalRequired:     get("approval_required") != "",
		SubscriptionsLimit:   get("subscriptions_limit"),
		RateLimitCalls:       get("rate_limit_calls"),
		RateLimitPeriod:      get("rate_limit_period"),
	}
	return form, f["apis"]
}

// applyProductForm copies the form's fields into p; the store validates
// them.
func applyProductForm(f views.ProductForm, apis []string, p *portal.Product) error {
	limit, err := parseCount("Subscriptions per developer", f.SubscriptionsLimit)
	if err != nil {
		return err
	}
	calls, err := parseCount("Rate limit calls", f.RateLimitCalls)
	if err != nil {
		return err
	}
	period, err := parseDuration("Rate limit period", f.RateLimitPeriod)
	if err != nil {
		return err
	}
	p.Name = f.Name
	p.DisplayName = f.DisplayName
	p.Description = f.Description
	p.Terms = f.Terms
	p.State = portal.ProductState(f.State)
	p.SubscriptionRequired = f.SubscriptionRequired
	p.ApprovalRequired = f.ApprovalRequired
	p.SubscriptionsLimit = limit
	p.RateLimit = nil
	if f.RateLimitCalls != "" || f.RateLimitPeriod != "" {
		p.RateLimit = &portal.RateLimit{Calls: calls, Period: period}
	}
	p.APIs = apis
	if p.APIs == nil {
		p.APIs = []string{}
	}
	return nil
}

// renderProductForm shows the product form: for a new product when stored
// is nil. apis are the names checked.
func (s *Server) renderProductForm(w http.ResponseWriter, r *http.Request, status int, stored *portal.Product, form views.ProductForm, apis []string, message string) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	all, _, err := s.store.FindAPIs(ctx, portal.APIFilter{})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.ProductFormView{
		Form:      form,
		Error:     message,
		CancelURL: "/admin/products",
		States: choices(form.State,
			components.Choice{Value: string(portal.ProductNotPublished), Label: "Not published"},
			components.Choice{Value: string(portal.ProductPublished), Label: "Published"},
		),
	}
	for _, a := range all {
		v.APIs = append(v.APIs, components.Checkbox{
			ID:      "product-api-" + a.Name,
			Name:    "apis",
			Value:   a.Name,
			Label:   a.Title() + " (" + a.Name + ")",
			Checked: slices.Contains(apis, a.Name),
		})
	}
	if stored == nil {
		v.Create = true
		v.Action = "/admin/products"
		v.Frame = s.adminFrame(w, r, settings, adminProducts, "New product", components.Link{Label: "Products", URL: "/admin/products"})
	} else {
		v.Action = adminProductEditURL(stored.Name)
		v.DeleteURL = adminProductDeleteURL(stored.Name)
		v.Frame = s.adminFrame(w, r, settings, adminProducts, "Edit "+stored.Title(), components.Link{Label: "Products", URL: "/admin/products"})
	}
	s.render(w, r, status, views.ProductFormPage(v))
}
