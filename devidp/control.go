package devidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// ControlPath is the path prefix of the control API (ControlHandler).
const ControlPath = "/_control/"

// misbehaviourNames are the names of the misbehaviours the control API
// accepts; "" and "behave" restore correct tokens.
var misbehaviourNames = map[string]Misbehaviour{
	"":                      Behave,
	"behave":                Behave,
	"wrong-issuer":          WrongIssuer,
	"wrong-audience":        WrongAudience,
	"extra-audience":        ExtraAudience,
	"wrong-azp":             WrongAuthorizedParty,
	"bad-signature":         BadSignature,
	"alg-none":              AlgNone,
	"hmac-signed":           HMACSigned,
	"expired":               Expired,
	"missing-sub":           MissingSubject,
	"missing-iat":           MissingIssuedAt,
	"missing-exp":           MissingExpiry,
	"wrong-nonce":           WrongNonce,
	"missing-nonce":         MissingNonce,
	"userinfo-sub-mismatch": UserInfoSubjectMismatch,
	"tenant-mismatch":       TenantMismatch,
	"future-iat":            FutureIssuedAt,
	"missing-tid":           MissingTenantID,
	"missing-oid":           MissingObjectID,
	"hmac-client-secret":    HMACClientSecret,
	"hmac-published-key":    HMACPublishedKey,
}

// ParseMisbehaviour returns the misbehaviour named name, as the control
// API spells it ("wrong-issuer", "bad-signature", ...; "" is Behave).
func ParseMisbehaviour(name string) (Misbehaviour, bool) {
	m, ok := misbehaviourNames[name]
	return m, ok
}

// MisbehaviourNames returns the names ParseMisbehaviour accepts, sorted,
// without "" and "behave".
func MisbehaviourNames() []string {
	var names []string
	for n, m := range misbehaviourNames {
		if m != Behave {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// ControlHandler serves the control API under ControlPath, so that tests
// in another process can make the provider misbehave:
//
//	POST /_control/misbehaviour  {"mode": "wrong-issuer"}  ("" resets)
//	POST /_control/rotate-keys
//	POST /_control/users         {"subject", "email", "name", "tenant_id", "object_id", "email_unverified", "domain_verified"}
//	POST /_control/clients       {"client_id", "client_secret", "audience", "redirect_uris"}
//	POST /_control/down          {"down": true}
//	GET  /_control/counters
//
// Bad requests answer 400 with JSON naming the field. It is not behind
// ServeHTTP's SetDown, so a provider that is down can be brought back. It
// has no authentication: serve it only to tests, on loopback. Cross-origin
// browser requests are refused, so a web page cannot drive it.
func (p *Provider) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ControlPath+"misbehaviour", p.handleControlMisbehaviour)
	mux.HandleFunc("POST "+ControlPath+"rotate-keys", p.handleControlRotateKeys)
	mux.HandleFunc("POST "+ControlPath+"users", p.handleControlUser)
	mux.HandleFunc("POST "+ControlPath+"clients", p.handleControlClient)
	mux.HandleFunc("POST "+ControlPath+"down", p.handleControlDown)
	mux.HandleFunc("GET "+ControlPath+"counters", p.handleControlCounters)
	return http.NewCrossOriginProtection().Handler(mux)
}

// controlError is the control API's error answer.
type controlError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func badField(w http.ResponseWriter, field, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, controlError{Error: fmt.Sprintf(format, args...), Field: field})
}

// decodeControl reads the JSON object of a control request into v,
// refusing unknown fields and values of the wrong type with a 400 naming
// the field. It reports whether the caller should go on.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &typeErr):
		badField(w, typeErr.Field, "%s must be a JSON %s", typeErr.Field, typeErr.Type.Kind())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		badField(w, field, "unknown field %q", field)
	case errors.Is(err, io.EOF):
		badField(w, "", "the body must be a JSON object")
	default:
		badField(w, "", "the body is not valid JSON: %v", err)
	}
	return false
}

func (p *Provider) handleControlMisbehaviour(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Mode *string `json:"mode"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Mode == nil {
		badField(w, "mode", `mode is required ("" resets)`)
		return
	}
	m, ok := ParseMisbehaviour(*req.Mode)
	if !ok {
		badField(w, "mode", "unknown mode %q; one of %s", *req.Mode, strings.Join(MisbehaviourNames(), ", "))
		return
	}
	p.SetMisbehaviour(m)
	writeJSON(w, http.StatusOK, map[string]string{"mode": *req.Mode})
}

func (p *Provider) handleControlRotateKeys(w http.ResponseWriter, r *http.Request) {
	if err := p.RotateKeys(); err != nil {
		writeJSON(w, http.StatusInternalServerError, controlError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"kid": p.KeyID(RS256)})
}

func (p *Provider) handleControlUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Subject         string `json:"subject"`
		Email           string `json:"email"`
		Name            string `json:"name"`
		TenantID        string `json:"tenant_id"`
		ObjectID        string `json:"object_id"`
		EmailUnverified bool   `json:"email_unverified"`
		DomainVerified  bool   `json:"domain_verified"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Subject == "" {
		badField(w, "subject", "subject is required")
		return
	}
	u := User{Subject: req.Subject, Email: req.Email, Name: req.Name, TenantID: req.TenantID, ObjectID: req.ObjectID,
		EmailUnverified: req.EmailUnverified, DomainVerified: req.DomainVerified}
	p.AddUser(u)
	writeJSON(w, http.StatusOK, map[string]string{"subject": u.Subject})
}

func (p *Provider) handleControlClient(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Audience     string   `json:"audience"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	switch {
	case req.ClientID == "":
		badField(w, "client_id", "client_id is required")
		return
	case req.ClientSecret == "":
		badField(w, "client_secret", "client_secret is required")
		return
	}
	for _, ru := range req.RedirectURIs {
		if err := CheckRedirectURI(ru); err != nil {
			badField(w, "redirect_uris", "%v", err)
			return
		}
	}
	if req.Audience == "" {
		req.Audience = req.ClientID
	}
	p.AddClient(req.ClientID, req.ClientSecret, req.Audience)
	p.SetRedirectURIs(req.ClientID, slices.Clone(req.RedirectURIs)...)
	writeJSON(w, http.StatusOK, map[string]string{"client_id": req.ClientID})
}

// CheckRedirectURI refuses what an authorization request would never be
// accepted with as its redirect URI (an absolute http or https URL without
// fragment), so that a typo fails where it is registered.
func CheckRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("redirect URI %q must be an absolute http or https URL without fragment", s)
	}
	return nil
}

func (p *Provider) handleControlDown(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Down *bool `json:"down"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Down == nil {
		badField(w, "down", "down is required (true or false)")
		return
	}
	p.SetDown(*req.Down)
	writeJSON(w, http.StatusOK, map[string]bool{"down": *req.Down})
}

// Counters are what GET /_control/counters answers.
type Counters struct {
	DiscoveryFetches int `json:"discovery_fetches"`
	JWKSFetches      int `json:"jwks_fetches"`
	TokensIssued     int `json:"tokens_issued"`
}

func (p *Provider) handleControlCounters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Counters{
		DiscoveryFetches: p.DiscoveryFetches(),
		JWKSFetches:      p.JWKSFetches(),
		TokensIssued:     p.TokensIssued(),
	})
}
