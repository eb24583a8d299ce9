package web

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

const (
	// cataloguePageSize is how many APIs one catalogue page lists.
	cataloguePageSize = 24
	// maxQueryLength bounds the catalogue's search text.
	maxQueryLength = 200
)

// handleAPIs lists the APIs the visitor may see, filtered by ?q= (name,
// display name or description) and ?tag=, a page at a time (?page=).
func (s *Server) handleAPIs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	tag := strings.TrimSpace(r.URL.Query().Get("tag"))
	if len(query) > maxQueryLength || len(tag) > maxQueryLength {
		s.error(w, r, portal.Errorf(portal.EINVALID, "Search text and tag must be at most %d characters.", maxQueryLength))
		return
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			s.error(w, r, portal.Errorf(portal.EINVALID, "The page number must be a whole number from 1."))
			return
		}
		page = n
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	apis, total, err := s.store.FindAPIs(ctx, visibleTo(r, portal.APIFilter{
		Query:  query,
		Tag:    tag,
		Offset: (page - 1) * cataloguePageSize,
		Limit:  cataloguePageSize,
	}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	pages := (total + cataloguePageSize - 1) / cataloguePageSize
	if page > 1 && page > pages {
		s.error(w, r, portal.Errorf(portal.ENOTFOUND, "This list has no page %d.", page))
		return
	}
	// The tag filter offers every tag of every visible API, whatever the
	// current search, so that a visitor can switch tags in one step.
	tags, err := s.store.FindAPITags(ctx, visibleTo(r, portal.APIFilter{}))
	if err != nil {
		s.error(w, r, err)
		return
	}

	v := views.CatalogueView{
		Shell: s.shell(r, settings, "APIs", sectionAPIs),
		Query: query,
		Tag:   tag,
		APIs:  apiCards(apis, tag),
		Total: total,
		Pagination: components.Pagination{
			Page:  page,
			Pages: pages,
		},
	}
	for _, t := range tags {
		v.TagOptions = append(v.TagOptions, views.Option{Value: t, Label: t, Selected: t == tag})
		chip := components.Chip{Label: t, URL: catalogueURL(query, t, 1), Active: t == tag}
		if chip.Active {
			chip.URL = catalogueURL(query, "", 1) // a second click removes the filter
		}
		v.Tags = append(v.Tags, chip)
	}
	if tag != "" && !slices.Contains(tags, tag) {
		// A tag no visible API has: keep it selectable so the form shows
		// what was asked for.
		v.TagOptions = append(v.TagOptions, views.Option{Value: tag, Label: tag, Selected: true})
	}
	if v.Filtered() {
		v.ClearURL = catalogueURL("", "", 1)
	}
	if page > 1 {
		v.Pagination.Previous = catalogueURL(query, tag, page-1)
	}
	if page < pages {
		v.Pagination.Next = catalogueURL(query, tag, page+1)
	}
	s.render(w, r, http.StatusOK, views.CataloguePage(v))
}

// handleAPI shows an API: how to call it, its products and its operations.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	api, err := s.findVisibleAPI(r, r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	products, access, err := s.apiProducts(r, api)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.APIView{
		Shell:          s.shell(r, settings, api.Title(), sectionAPIs),
		Trail:          []components.Link{{Label: "APIs", URL: catalogueURL("", "", 1)}},
		Title:          api.Title(),
		Description:    api.Description,
		Version:        api.Version,
		BaseURL:        s.apiBaseURL(api),
		Access:         access,
		Products:       products,
		Groups:         operationGroups(api),
		OperationCount: len(api.Operations),
		Tags:           tagChips(api.Tags, ""),
	}
	if api.Spec.Digest != "" || api.Spec.Format != "" || api.Spec.Location != "" {
		v.SpecURL = apiSpecURL(api.Name)
		v.SpecFormat = api.Spec.Format
	}
	s.render(w, r, http.StatusOK, views.APIPage(v))
}

// handleAPISpec downloads an API's stored OpenAPI document as a file.
func (s *Server) handleAPISpec(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("api")
	if err := s.checkAPIVisible(r, name); err != nil {
		s.error(w, r, err)
		return
	}
	doc, _, err := s.store.FindAPISpec(ctx, name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctype, ext := specContentType(doc)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "-openapi" + ext}))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
}

// handleOperation shows an operation's reference.
func (s *Server) handleOperation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	api, err := s.findVisibleAPI(r, r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	op := api.Operation(r.PathValue("operation"))
	if op == nil {
		s.error(w, r, portal.Errorf(portal.ENOTFOUND, "API %s has no such operation.", api.Title()))
		return
	}
	_, access, err := s.apiProducts(r, api)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := s.operationView(api, op, access)
	v.Shell = s.shell(r, settings, op.Title()+" · "+api.Title(), sectionAPIs)
	s.render(w, r, http.StatusOK, views.OperationPage(v))
}

// checkAPIVisible returns ENOTFOUND unless the visitor may see the API.
// The store owns the rule (published product, or no product at all, or an
// administrator); asking it keeps the rule in one place.
func (s *Server) checkAPIVisible(r *http.Request, name string) error {
	if !portal.ValidName(name) {
		return portal.Errorf(portal.ENOTFOUND, "There is no API named %q.", name)
	}
	_, n, err := s.store.FindAPIs(r.Context(), visibleTo(r, portal.APIFilter{Names: []string{name}, Limit: 1}))
	if err != nil {
		return fmt.Errorf("check API %s visible: %w", name, err)
	}
	if n == 0 {
		return portal.Errorf(portal.ENOTFOUND, "There is no API named %q.", name)
	}
	return nil
}

// findVisibleAPI returns the API with its operations, or ENOTFOUND when the
// visitor may not see it, exactly as when it does not exist.
func (s *Server) findVisibleAPI(r *http.Request, name string) (*portal.API, error) {
	if err := s.checkAPIVisible(r, name); err != nil {
		return nil, err
	}
	return s.store.FindAPIByName(r.Context(), name)
}

// apiProducts returns the products that contain api and that the visitor
// may see, and how callers authenticate to it. An API needs no key when
// it does not require a subscription or belongs to a published open
// product, as at the gateway.
func (s *Server) apiProducts(r *http.Request, api *portal.API) ([]views.ProductRef, views.Access, error) {
	products, _, err := s.store.FindProducts(r.Context(), portal.ProductFilter{API: api.Name})
	if err != nil {
		return nil, views.Access{}, fmt.Errorf("find products of API %s: %w", api.Name, err)
	}
	access := views.Access{KeyHeader: api.KeyHeader, KeyQuery: api.KeyQuery}
	if !api.SubscriptionRequired {
		access.Open, access.OpenReason = true, "does not require a subscription"
	}
	admin := portal.UserFromContext(r.Context()).IsAdmin()
	var refs []views.ProductRef
	for _, p := range products {
		published := p.State == portal.ProductPublished
		if published && p.IsOpen() && !access.Open {
			access.Open, access.OpenReason = true, "is in the open product "+p.Title()
		}
		if published || admin {
			refs = append(refs, views.ProductRef{Title: p.Title(), URL: productURL(p.Name), Badges: productBadges(p)})
		}
	}
	return refs, access, nil
}

// apiBaseURL is where the gateway serves api.
func (s *Server) apiBaseURL(api *portal.API) string {
	return s.gatewayURL + "/" + strings.Trim(api.Path, "/")
}

// operationGroups groups operations by tag, in the API's tag order; an
// operation with several tags appears under each, and untagged ones come
// last.
func operationGroups(api *portal.API) []views.OperationGroup {
	var groups []views.OperationGroup
	add := func(tag string, match func(*portal.Operation) bool) {
		g := views.OperationGroup{Tag: tag, ID: "operations-" + strconv.Itoa(len(groups)+1)}
		for i := range api.Operations {
			if op := &api.Operations[i]; match(op) {
				g.Operations = append(g.Operations, operationLink(api.Name, op, ""))
			}
		}
		if len(g.Operations) > 0 {
			groups = append(groups, g)
		}
	}
	tags := api.Tags
	if len(tags) == 0 {
		tags = collectOperationTags(api.Operations)
	}
	for _, t := range tags {
		add(t, func(op *portal.Operation) bool { return slices.Contains(op.Tags, t) })
	}
	untagged := "Other operations"
	if len(groups) == 0 {
		untagged = "All operations"
	}
	add(untagged, func(op *portal.Operation) bool { return len(op.Tags) == 0 })
	return groups
}

func operationLink(api string, op *portal.Operation, current string) components.OperationLink {
	return components.OperationLink{
		Method:     op.Method,
		Path:       op.Path,
		Title:      op.Title(),
		URL:        operationURL(api, op.ID),
		Deprecated: op.Deprecated,
		Current:    op.ID == current,
	}
}

func collectOperationTags(ops []portal.Operation) []string {
	var tags []string
	for _, op := range ops {
		for _, t := range op.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// specContentType guesses the document's format from its first character:
// an OpenAPI document is a JSON object or YAML.
func specContentType(doc []byte) (ctype, ext string) {
	if t := bytes.TrimLeft(doc, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return "application/json", ".json"
	}
	return "application/yaml", ".yaml"
}
