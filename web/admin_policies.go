package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/porticoapi/portico/policyxml"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// handleAdminPolicies shows an API's policy editor.
func (s *Server) handleAdminPolicies(w http.ResponseWriter, r *http.Request) {
	api, err := s.store.FindAPIByName(r.Context(), r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.renderPolicies(w, r, http.StatusOK, api, views.PoliciesView{Form: policyFormOf(api)})
}

// handleAdminSavePolicies replaces an API's policies and backend
// authentication with the form's. Secrets left empty keep the stored ones.
func (s *Server) handleAdminSavePolicies(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stored, err := s.store.FindAPIByName(ctx, r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var form views.PolicyForm
	var secrets policySecrets
	api := *stored
	api.Operations = nil // kept as stored
	err = parseAdminForm(w, r)
	if err == nil {
		form, secrets = readPolicyForm(r)
		api.Policies, api.Backend.Auth, err = policiesFromForm(form, secrets, stored)
	}
	if err == nil {
		_, err = s.store.UpdateAPI(ctx, stored.Name, &api)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			v := views.PoliciesView{Form: form, Error: message, SecretsDropped: secrets.typed()}
			s.renderPolicies(w, r, status, stored, v)
		}
		return
	}
	s.done(w, r, adminAPIPoliciesURL(api.Name), "Policies of "+api.Name+" saved.")
}

// handleAdminImportPolicyXML replaces an API's policies with those
// converted from a pasted APIM policy document, and its backend
// authentication when the document has some. A document with problems
// changes nothing and is shown again with each problem listed.
func (s *Server) handleAdminImportPolicyXML(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stored, err := s.store.FindAPIByName(ctx, r.PathValue("api"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var doc string
	var problems []string
	var res *policyxml.Result
	api := *stored
	api.Operations = nil
	err = parseAdminForm(w, r)
	if err == nil {
		doc = r.PostForm.Get("policy_xml")
		if strings.TrimSpace(doc) == "" {
			err = portal.Errorf(portal.EINVALID, "Paste the policy XML first.")
		}
	}
	if err == nil {
		var cerr error
		if res, cerr = policyxml.Convert([]byte(doc)); cerr != nil {
			problems = conversionProblems(cerr)
			// The problems are shown, not logged: they may quote the
			// document, and a document may hold a key.
			err = portal.Errorf(portal.EINVALID, "The policy XML has %s.", countOf(len(problems), "problem", "problems"))
		}
	}
	if err == nil {
		api.Policies = res.Policies
		if !res.BackendAuth.Empty() {
			api.Backend.Auth = res.BackendAuth
		}
		_, err = s.store.UpdateAPI(ctx, stored.Name, &api)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			if len(problems) == 0 {
				problems = []string{message}
			}
			v := views.PoliciesView{Form: policyFormOf(stored), XML: doc, XMLProblems: problems}
			s.renderPolicies(w, r, status, stored, v)
		}
		return
	}
	notice := "Policies of " + api.Name + " replaced from the APIM policy XML."
	if !res.BackendAuth.Empty() {
		notice = "Policies and backend authentication of " + api.Name + " replaced from the APIM policy XML."
	}
	s.done(w, r, adminAPIPoliciesURL(api.Name), notice)
}

// conversionProblems lists what policyxml.Convert refused, one problem a
// line ("line N: element: message").
func conversionProblems(err error) []string {
	var perr *policyxml.Error
	if errors.As(err, &perr) && len(perr.Problems) > 0 {
		out := make([]string, len(perr.Problems))
		for i, p := range perr.Problems {
			out[i] = p.String()
		}
		return out
	}
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// renderPolicies shows the policy editor of stored with v's form values;
// what is said of stored secrets always comes from stored.
func (s *Server) renderPolicies(w http.ResponseWriter, r *http.Request, status int, stored *portal.API, v views.PoliciesView) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Frame = s.adminFrame(w, r, settings, adminAPIs, "Policies of "+stored.Title(),
		components.Link{Label: "APIs", URL: "/admin/apis"},
		components.Link{Label: stored.Title(), URL: adminAPIEditURL(stored.Name)})
	v.Action = adminAPIPoliciesURL(stored.Name)
	v.XMLAction = adminAPIPolicyXMLURL(stored.Name)
	v.CancelURL = adminAPIEditURL(stored.Name)
	describeStoredSecrets(&v.Form, stored)
	v.IPActions = components.RadioGroup{
		ID: "ip-filter-action", Name: "ip_filter_action", Legend: "Action", TestID: "ip-filter-action",
		Choices: choices(v.Form.IPFilterAction,
			components.Choice{Value: portal.IPFilterAllow, Label: "Allow only these callers"},
			components.Choice{Value: portal.IPFilterForbid, Label: "Forbid these callers"},
		),
	}
	v.BackendAuth = components.RadioGroup{
		ID: "backend-auth", Name: "backend_auth", Legend: "Method", TestID: "backend-auth",
		Hint: "How the gateway proves itself to the backend. Credentials are sent after the caller's hop-by-hop headers are removed and never reach the caller.",
		Choices: choices(v.Form.BackendAuth,
			components.Choice{Value: backendAuthNone, Label: "None"},
			components.Choice{Value: backendAuthBasic, Label: "Basic"},
			components.Choice{Value: backendAuthOAuth, Label: "OAuth 2.0 client credentials"},
			components.Choice{Value: backendAuthCertificate, Label: "Client certificate"},
		),
	}
	s.render(w, r, status, views.AdminPoliciesPage(v))
}
