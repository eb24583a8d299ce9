package portal

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// BuiltinEcho is the backend URL of the echo service built into the gateway.
const BuiltinEcho = "builtin:echo"

// Defaults applied when an API leaves them unset, as APIM does.
const (
	DefaultKeyHeader      = "Ocp-Apim-Subscription-Key"
	DefaultKeyQuery       = "subscription-key"
	DefaultBackendTimeout = 30 * time.Second
	MaxBackendTimeout     = 10 * time.Minute
)

// API is a published API: where the gateway serves it, where it forwards to,
// how callers authenticate, and its operations as read from its OpenAPI
// description.
type API struct {
	ID          int64
	Name        string // URL-safe id, unique
	DisplayName string
	Description string // plain text or CommonMark as written in the spec
	Version     string // the spec's info.version
	Path        string // gateway path prefix: {gateway-url}/{Path}/...; unique

	Backend Backend

	SubscriptionRequired bool
	KeyHeader            string // header carrying the subscription key
	KeyQuery             string // query parameter carrying the subscription key

	// Policies are the gateway's checks beyond the key (validate_jwt,
	// ip_filter, client_certificate, rate_limit).
	Policies Policies

	// Tags are the union of the operations' tags, in first-seen order.
	Tags []string

	// Operations are the API's operations, in the spec's order. Stores fill
	// them only when asked (APIFilter.WithOperations, FindAPIByName).
	Operations []Operation

	// Spec describes where the OpenAPI document came from. On create and
	// update, SpecDocument replaces the stored document when non-nil; reads
	// leave it nil (FindAPISpec returns it).
	Spec         SpecInfo
	SpecDocument []byte

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Backend is where the gateway forwards an API's requests.
type Backend struct {
	URL     string        // http(s) URL, or BuiltinEcho
	Timeout time.Duration // time to wait for the response headers
	// Auth is how the gateway authenticates to the backend; nil for none.
	Auth *BackendAuth
}

// SpecInfo records the source of an API's OpenAPI document.
type SpecInfo struct {
	Location string // path (relative to the config file), URL, or "upload:<file name>"
	Format   string // e.g. "openapi 3.0.3", "swagger 2.0"
	Digest   string // hex SHA-256 of the document
}

// Title returns the display name, or the name when there is none.
func (a *API) Title() string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Name
}

// Operation returns the operation with the given id, or nil.
func (a *API) Operation(id string) *Operation {
	for i := range a.Operations {
		if a.Operations[i].ID == id {
			return &a.Operations[i]
		}
	}
	return nil
}

// Normalize fills defaults: key names, backend timeout, tags from operations.
func (a *API) Normalize() {
	a.Path = strings.Trim(a.Path, "/")
	if a.KeyHeader == "" {
		a.KeyHeader = DefaultKeyHeader
	}
	if a.KeyQuery == "" {
		a.KeyQuery = DefaultKeyQuery
	}
	if a.Backend.Timeout == 0 {
		a.Backend.Timeout = DefaultBackendTimeout
	}
	if a.Operations != nil {
		a.Tags = operationTags(a.Operations)
	}
	if a.Policies.ValidateJWT != nil {
		a.Policies.ValidateJWT.Normalize()
	}
	if a.Backend.Auth.Empty() {
		a.Backend.Auth = nil
	}
}

func operationTags(ops []Operation) []string {
	var tags []string
	seen := map[string]bool{}
	for _, op := range ops {
		for _, t := range op.Tags {
			if !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// Validate checks an API after Normalize.
func (a *API) Validate() error {
	if err := validateName("API", a.Name); err != nil {
		return err
	}
	if len(a.DisplayName) > 300 {
		return Errorf(EINVALID, "API %s: display name must be at most 300 characters.", a.Name)
	}
	if err := ValidateAPIPath(a.Path); err != nil {
		return Errorf(EINVALID, "API %s: %s", a.Name, ErrorMessage(err))
	}
	if err := ValidateBackendURL(a.Backend.URL); err != nil {
		return Errorf(EINVALID, "API %s: %s", a.Name, ErrorMessage(err))
	}
	if a.Backend.Timeout < time.Second || a.Backend.Timeout > MaxBackendTimeout {
		return Errorf(EINVALID, "API %s: backend timeout must be between 1s and %s.", a.Name, MaxBackendTimeout)
	}
	if !validHeaderName(a.KeyHeader) {
		return Errorf(EINVALID, "API %s: subscription key header %q is not a valid header name.", a.Name, a.KeyHeader)
	}
	if a.KeyQuery == "" || strings.ContainsAny(a.KeyQuery, "&=#?% +") {
		return Errorf(EINVALID, "API %s: subscription key query parameter %q is not a valid parameter name.", a.Name, a.KeyQuery)
	}
	if err := a.Policies.Validate(); err != nil {
		return Errorf(EINVALID, "API %s: %s", a.Name, ErrorMessage(err))
	}
	if err := a.Backend.Auth.Validate(); err != nil {
		return Errorf(EINVALID, "API %s: %s", a.Name, ErrorMessage(err))
	}
	seen := make(map[string]bool, len(a.Operations))
	for i := range a.Operations {
		op := &a.Operations[i]
		if err := op.Validate(); err != nil {
			return Errorf(EINVALID, "API %s: %s", a.Name, ErrorMessage(err))
		}
		if seen[op.ID] {
			return Errorf(EINVALID, "API %s: operation id %q is used twice.", a.Name, op.ID)
		}
		seen[op.ID] = true
	}
	return nil
}

// ValidateBackendURL accepts absolute http and https URLs without user
// information or fragment, and BuiltinEcho.
func ValidateBackendURL(s string) error {
	if s == BuiltinEcho {
		return nil
	}
	if s == "" {
		return Errorf(EINVALID, "Backend URL required.")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "Backend URL %q must be an absolute http or https URL, or %s.", s, BuiltinEcho)
	}
	if u.User != nil {
		return Errorf(EINVALID, "Backend URL %q must not carry credentials; use backend authentication.", s)
	}
	if u.Fragment != "" || u.RawQuery != "" {
		return Errorf(EINVALID, "Backend URL %q must not have a query or fragment.", s)
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Operation is one method on one path template of an API.
type Operation struct {
	ID          string // operationId when URL-safe, otherwise derived from method and path; unique in the API
	Method      string // upper-case HTTP method
	Path        string // path template relative to the API, starting with '/': "/users/{id}"
	Summary     string
	Description string
	Tags        []string
	Deprecated  bool

	Parameters  []Parameter
	RequestBody *RequestBody
	Responses   []Response
}

// Title returns the summary, or "METHOD path" when there is none.
func (o *Operation) Title() string {
	if o.Summary != "" {
		return o.Summary
	}
	return o.Method + " " + o.Path
}

// Validate checks the parts of an operation the gateway relies on.
func (o *Operation) Validate() error {
	if !ValidName(o.ID) {
		return Errorf(EINVALID, "operation id %q must be URL-safe.", o.ID)
	}
	switch o.Method {
	case "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE":
	default:
		return Errorf(EINVALID, "operation %s: method %q is not an HTTP method.", o.ID, o.Method)
	}
	if !strings.HasPrefix(o.Path, "/") {
		return Errorf(EINVALID, "operation %s: path %q must start with '/'.", o.ID, o.Path)
	}
	return nil
}

// Parameter is a path, query, header or cookie parameter of an operation.
type Parameter struct {
	Name        string
	In          string // path, query, header, cookie
	Description string
	Required    bool
	Deprecated  bool
	Schema      *Schema
	Example     string // JSON text
}

// RequestBody describes what an operation accepts.
type RequestBody struct {
	Description string
	Required    bool
	Content     []MediaType
}

// Response describes one status (or "default") an operation answers with.
type Response struct {
	Status      string // "200", "4XX", "default"
	Description string
	Headers     []Parameter
	Content     []MediaType
}

// MediaType is one representation of a body.
type MediaType struct {
	Type    string // "application/json"
	Schema  *Schema
	Example string // JSON text, or the literal example for non-JSON types
}

// Schema is a JSON Schema reduced to what a reader of the reference needs.
type Schema struct {
	Ref         string // component name when the schema came from a $ref
	Type        string // object, array, string, integer, number, boolean, or ""
	Format      string
	Title       string
	Description string
	Nullable    bool
	ReadOnly    bool
	WriteOnly   bool
	Deprecated  bool
	Enum        []string // JSON text of each value
	Default     string   // JSON text
	Example     string   // JSON text
	Pattern     string
	Minimum     *float64
	Maximum     *float64
	MinLength   *int
	MaxLength   *int
	MinItems    *int
	MaxItems    *int

	Properties           []Property
	AdditionalProperties *Schema
	Items                *Schema
	AllOf                []*Schema
	OneOf                []*Schema
	AnyOf                []*Schema

	// Recursive marks a $ref cut short because it refers to a schema that
	// encloses it; Ref names it and nothing else is set.
	Recursive bool
}

// Property is a named member of an object schema.
type Property struct {
	Name     string
	Required bool
	Schema   *Schema
}

// APIService manages APIs.
type APIService interface {
	// FindAPIByName returns the API with its operations. Returns ENOTFOUND.
	FindAPIByName(ctx context.Context, name string) (*API, error)
	// FindAPIs returns APIs ordered by name and the total matching the filter.
	FindAPIs(ctx context.Context, filter APIFilter) ([]*API, int, error)
	// FindAPITags returns the distinct tags of the APIs matching the
	// filter (its paging and WithOperations ignored), sorted without case.
	FindAPITags(ctx context.Context, filter APIFilter) ([]string, error)
	// FindAPISpec returns the stored OpenAPI document. Returns ENOTFOUND.
	FindAPISpec(ctx context.Context, name string) ([]byte, SpecInfo, error)
	// CreateAPI normalizes and validates api, then stores it with its
	// operations and sets ID, CreatedAt and UpdatedAt. Returns EINVALID, or
	// ECONFLICT if the name or path is taken.
	CreateAPI(ctx context.Context, api *API) error
	// UpdateAPI replaces the API named name with api (whose Name may
	// differ, to rename it). Operations are replaced when api.Operations is
	// non-nil. Returns ENOTFOUND, EINVALID or ECONFLICT.
	UpdateAPI(ctx context.Context, name string, api *API) (*API, error)
	// DeleteAPI removes the API, its product memberships and the
	// subscriptions scoped to it. Returns ENOTFOUND.
	DeleteAPI(ctx context.Context, name string) error
}

// APIFilter selects APIs; zero fields do not filter.
type APIFilter struct {
	Names []string
	// Query matches a substring of name, display name or description,
	// case-insensitive.
	Query string
	Tag   string
	// VisibleTo limits the result to APIs a non-administrator may see:
	// those in at least one published product, or in no product at all.
	// Administrators see everything.
	VisibleTo *User
	// Anonymous applies the VisibleTo rule for a visitor who is not signed
	// in; a nil VisibleTo alone does not filter (the gateway and the admin
	// pages list every API).
	Anonymous bool
	// WithOperations fills API.Operations.
	WithOperations bool

	Offset int
	Limit  int // 0: no limit
}
