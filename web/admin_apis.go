package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/porticoapi/portico/openapi"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// maxSpecUpload is the largest OpenAPI document the API form accepts, as
// openapi.Fetch does for files and URLs.
const maxSpecUpload = 10 << 20

// maxAPIForm bounds the whole multipart body: the document and the fields.
const maxAPIForm = maxSpecUpload + 256<<10

// handleAdminAPIs lists every API, whatever the products' states.
func (s *Server) handleAdminAPIs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	apis, _, err := s.store.FindAPIs(ctx, portal.APIFilter{WithOperations: true})
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.AdminAPIsView{Frame: s.adminFrame(w, r, settings, adminAPIs, "APIs")}
	for _, a := range apis {
		row := views.AdminAPIRow{
			Name:        a.Name,
			Title:       a.Title(),
			EditURL:     adminAPIEditURL(a.Name),
			PoliciesURL: adminAPIPoliciesURL(a.Name),
			PortalURL:   apiURL(a.Name),
			Path:        a.Path,
			Backend:     a.Backend.URL,
			Operations:  len(a.Operations),
		}
		if a.SubscriptionRequired {
			row.Badges = append(row.Badges, components.Badge{Label: "Subscription required", Tone: components.ToneInfo})
		} else {
			row.Badges = append(row.Badges, components.Badge{Label: "No subscription required", Tone: components.ToneSuccess})
		}
		v.APIs = append(v.APIs, row)
	}
	s.render(w, r, http.StatusOK, views.AdminAPIsPage(v))
}

// handleAdminNewAPI shows the empty API form with the defaults filled in.
func (s *Server) handleAdminNewAPI(w http.ResponseWriter, r *http.Request) {
	form := views.APIForm{
		BackendTimeout:       portal.DefaultBackendTimeout.String(),
		SubscriptionRequired: true,
		KeyHeader:            portal.DefaultKeyHeader,
		KeyQuery:             portal.DefaultKeyQuery,
	}
	s.renderAPIForm(w, r, http.StatusOK, nil, form, "")
}

// handleAdminCreateAPI creates an API from the uploaded OpenAPI document
// and the form's fields.
func (s *Server) handleAdminCreateAPI(w http.ResponseWriter, r *http.Request) {
	form, spec, err := readAPIForm(w, r)
	if err == nil && spec == nil {
		err = portal.Errorf(portal.EINVALID, "Choose the API's OpenAPI file.")
	}
	api := &portal.API{}
	if err == nil {
		err = applyAPIForm(form, api)
	}
	if err == nil {
		err = s.applySpec(r, api, spec, true)
	}
	if err == nil {
		err = s.store.CreateAPI(r.Context(), api)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderAPIForm(w, r, status, nil, form, message)
		}
		return
	}
	s.done(w, r, "/admin/apis", "API "+api.Name+" created with "+countOf(len(api.Operations), "operation", "operations")+".")
}

// handleAdminEditAPI shows an API's form.
func (s *Server) handleAdminEditAPI(w http.ResponseWriter, r *http.Request) {
	api, err := s.store.FindAPIByName(r.Context(), r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	form := views.APIForm{
		Name:                 api.Name,
		DisplayName:          api.DisplayName,
		Path:                 api.Path,
		BackendURL:           api.Backend.URL,
		BackendTimeout:       api.Backend.Timeout.String(),
		SubscriptionRequired: api.SubscriptionRequired,
		KeyHeader:            api.KeyHeader,
		KeyQuery:             api.KeyQuery,
	}
	s.renderAPIForm(w, r, http.StatusOK, api, form, "")
}

// handleAdminUpdateAPI saves an API's form; a new document, when one is
// uploaded, replaces the operations.
func (s *Server) handleAdminUpdateAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stored, err := s.store.FindAPIByName(ctx, r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	form, spec, err := readAPIForm(w, r)
	api := *stored
	api.Operations = nil // kept unless a new document replaces them
	if err == nil {
		err = applyAPIForm(form, &api)
	}
	if err == nil && spec != nil {
		err = s.applySpec(r, &api, spec, false)
	}
	if err == nil {
		_, err = s.store.UpdateAPI(ctx, stored.Name, &api)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderAPIForm(w, r, status, stored, form, message)
		}
		return
	}
	s.done(w, r, "/admin/apis", "API "+api.Name+" saved.")
}

// handleAdminConfirmDeleteAPI asks before deleting an API.
func (s *Server) handleAdminConfirmDeleteAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	api, err := s.store.FindAPIByName(ctx, r.PathValue("api"))
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
		Frame: s.adminFrame(w, r, settings, adminAPIs, "Delete "+api.Title(),
			components.Link{Label: "APIs", URL: "/admin/apis"},
			components.Link{Label: api.Title(), URL: adminAPIEditURL(api.Name)}),
		Question: "Delete the API " + api.Title() + " (" + api.Name + ")?",
		Consequences: []string{
			"Its gateway path /" + api.Path + " stops answering at once.",
			"It is removed from every product that contains it.",
			"Subscriptions scoped to this API alone are deleted with their keys.",
		},
		Action:    adminAPIDeleteURL(api.Name),
		Button:    "Delete API",
		CancelURL: adminAPIEditURL(api.Name),
	}
	s.render(w, r, http.StatusOK, views.ConfirmPage(v))
}

// handleAdminDeleteAPI deletes an API.
func (s *Server) handleAdminDeleteAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("api")
	if err := s.store.DeleteAPI(r.Context(), name); err != nil {
		s.error(w, r, err)
		return
	}
	s.done(w, r, "/admin/apis", "API "+name+" deleted.")
}

// uploadedSpec is an OpenAPI document from the form.
type uploadedSpec struct {
	name string // the file's base name, cleaned for display
	data []byte
}

// readAPIForm parses the multipart API form. spec is nil when no file was
// chosen. On error, form holds whatever fields could be read.
func readAPIForm(w http.ResponseWriter, r *http.Request) (views.APIForm, *uploadedSpec, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIForm)
	// Everything fits in memory: the body is bounded just above.
	if err := r.ParseMultipartForm(maxAPIForm); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return views.APIForm{}, nil, portal.Errorf(portal.EINVALID, "The upload is too large: an OpenAPI file may be at most 10 MiB.")
		}
		return views.APIForm{}, nil, portal.Errorf(portal.EINVALID, "The form could not be read. Send it again from the page.")
	}
	defer r.MultipartForm.RemoveAll()
	f := r.MultipartForm.Value
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	form := views.APIForm{
		Name:                 get("name"),
		DisplayName:          get("display_name"),
		Path:                 get("path"),
		BackendURL:           get("backend_url"),
		BackendTimeout:       get("backend_timeout"),
		SubscriptionRequired: get("subscription_required") != "",
		KeyHeader:            get("key_header"),
		KeyQuery:             get("key_query"),
	}
	file, header, err := r.FormFile("spec")
	if errors.Is(err, http.ErrMissingFile) {
		return form, nil, nil
	} else if err != nil {
		return form, nil, portal.Errorf(portal.EINVALID, "The OpenAPI file could not be read. Choose it again.")
	}
	defer file.Close()
	spec, err := readUpload(file, header)
	return form, spec, err
}

func readUpload(file multipart.File, header *multipart.FileHeader) (*uploadedSpec, error) {
	if header.Size > maxSpecUpload {
		return nil, portal.Errorf(portal.EINVALID, "The OpenAPI file is too large: at most 10 MiB.")
	}
	data, err := io.ReadAll(io.LimitReader(file, maxSpecUpload+1))
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "The OpenAPI file could not be read. Choose it again.")
	}
	if len(data) > maxSpecUpload {
		return nil, portal.Errorf(portal.EINVALID, "The OpenAPI file is too large: at most 10 MiB.")
	}
	return &uploadedSpec{name: uploadName(header.Filename), data: data}, nil
}

// uploadName keeps the base name of an uploaded file, printable and short:
// it is stored as the document's location and shown in messages.
func uploadName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, name)
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	if name == "" || name == "." || name == "/" {
		name = "openapi"
	}
	return name
}

// apply copies the form's fields into api. Empty optional fields take the
// domain's defaults (portal.API.Normalize); the store validates the rest.
func applyAPIForm(f views.APIForm, api *portal.API) error {
	timeout, err := parseDuration("Backend timeout", f.BackendTimeout)
	if err != nil {
		return err
	}
	api.Name = f.Name
	api.DisplayName = f.DisplayName
	api.Path = f.Path
	api.Backend.URL = f.BackendURL
	api.Backend.Timeout = timeout
	api.SubscriptionRequired = f.SubscriptionRequired
	api.KeyHeader = f.KeyHeader
	api.KeyQuery = f.KeyQuery
	return nil
}

// applySpec parses spec and puts its operations, description and version
// into api, and its title when the display name is empty on create. A
// broken document is refused with the library's own message.
func (s *Server) applySpec(r *http.Request, api *portal.API, spec *uploadedSpec, create bool) error {
	doc, err := openapi.Parse(r.Context(), spec.data, openapi.Options{Location: "upload:" + spec.name})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(spec.data)
	api.Operations = doc.Operations
	if api.Operations == nil {
		api.Operations = []portal.Operation{} // non-nil: replaces the stored ones
	}
	api.SpecDocument = spec.data
	api.Spec = portal.SpecInfo{Location: "upload:" + spec.name, Format: doc.Format, Digest: hex.EncodeToString(sum[:])}
	api.Version = doc.Version
	api.Description = doc.Description
	if create && api.DisplayName == "" {
		api.DisplayName = strings.TrimSpace(doc.Title)
	}
	return nil
}

// renderAPIForm shows the API form: for a new API when stored is nil.
func (s *Server) renderAPIForm(w http.ResponseWriter, r *http.Request, status int, stored *portal.API, form views.APIForm, message string) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.APIFormView{Form: form, Error: message, CancelURL: "/admin/apis"}
	if stored == nil {
		v.Create = true
		v.Action = "/admin/apis"
		v.Frame = s.adminFrame(w, r, settings, adminAPIs, "New API", components.Link{Label: "APIs", URL: "/admin/apis"})
	} else {
		v.Action = adminAPIEditURL(stored.Name)
		v.DeleteURL = adminAPIDeleteURL(stored.Name)
		v.PoliciesURL = adminAPIPoliciesURL(stored.Name)
		v.Frame = s.adminFrame(w, r, settings, adminAPIs, "Edit "+stored.Title(), components.Link{Label: "APIs", URL: "/admin/apis"})
		v.Spec = specFacts(stored)
	}
	s.render(w, r, status, views.APIFormPage(v))
}

func specFacts(a *portal.API) []components.Fact {
	if a.Spec.Location == "" {
		return []components.Fact{{Label: "Document", Value: "None stored"}}
	}
	facts := []components.Fact{
		{Label: "Source", Value: a.Spec.Location},
		{Label: "Format", Value: a.Spec.Format},
	}
	if a.Version != "" {
		facts = append(facts, components.Fact{Label: "Version", Value: a.Version})
	}
	facts = append(facts, components.Fact{Label: "Operations", Value: strconv.Itoa(len(a.Operations))})
	if a.Spec.Digest != "" {
		facts = append(facts, components.Fact{Label: "SHA-256", Value: a.Spec.Digest})
	}
	return facts
}
