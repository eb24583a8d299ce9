package configfile

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // each must appear in the error
	}{
		{"unknown key with suggestion", `apis:
  - name: echo
    bakend: {url: "builtin:echo"}
`, []string{"portico.yaml:3: apis[0].bakend: unknown key (did you mean backend?)"}},
		{"user name on two lines", `users:
  - email: dee@example.com
    name: "Dee\nClick https://evil.example"
`, []string{"portico.yaml:3: users[0].name: Name must be on one line"}},
		{"user name blank", `users:
  - email: dee@example.com
    name: "  "
`, []string{"portico.yaml:3: users[0].name: Name required."}},
		{"unknown top-level key", `api:
  - name: echo
`, []string{"portico.yaml:1: api: unknown key (did you mean apis?)"}},
		{"unknown key without suggestion", `portal:
  title: X
  colour: blue
`, []string{"portico.yaml:3: portal.colour: unknown key"}},
		{"wrong type integer", `products:
  - name: starter
    subscriptions_limit: one
`, []string{`portico.yaml:3: products[0].subscriptions_limit: want an integer, got "one"`}},
		{"wrong type bool", `portal:
  basic_auth:
    signup: yes
`, []string{`portico.yaml:3: portal.basic_auth.signup: want true or false, got "yes"`}},
		{"mapping for a string", `portal:
  title: {a: b}
`, []string{`portico.yaml:2: portal.title: want a string, got a mapping`}},
		{"list expected", `apis:
  name: echo
`, []string{`portico.yaml:2: apis: want a list, got a mapping`}},
		{"bad duration", `apis:
  - name: echo
    backend:
      url: builtin:echo
      timeout: 30
`, []string{`portico.yaml:5: apis[0].backend.timeout: want a duration such as 30s, 15m or 48h, got "30"`}},
		{"duration out of range", `portal:
  invitation_ttl: 1s
`, []string{`portico.yaml:1: portal: Invitation lifetime must be between 1m and 720h.`}},
		{"bad enum", `products:
  - name: starter
    state: live
`, []string{`portico.yaml:3: products[0].state: want one of published, not_published, got "live"`}},
		{"bad role", `users:
  - email: a@example.com
    name: A
    role: root
`, []string{`portico.yaml:4: users[0].role: want one of admin, developer, got "root"`}},
		{"unset env var", `users:
  - email: admin@example.com
    name: Admin
    password: ${NOT_SET_ANYWHERE}
`, []string{"portico.yaml:4: users[0].password: environment variable NOT_SET_ANYWHERE is not set"}},
		{"bad env name", `portal:
  title: "${1X}"
`, []string{`portico.yaml:2: portal.title: "1X" is not an environment variable name`}},
		{"unterminated env", `portal:
  title: "${X"
`, []string{`portico.yaml:2: portal.title: unterminated ${`}},
		{"duplicate API names", `apis:
  - name: echo
    backend: {url: "builtin:echo"}
  - name: other
    backend: {url: "builtin:echo"}
  - name: echo
    path: echo2
    backend: {url: "builtin:echo"}
`, []string{"portico.yaml:6: apis[2].name: API echo is already used at line 2"}},
		{"duplicate API paths", `apis:
  - name: echo
    backend: {url: "builtin:echo"}
  - name: other
    path: /echo/
    backend: {url: "builtin:echo"}
`, []string{"portico.yaml:5: apis[1].path: API path echo is already used at line 2"}},
		{"duplicate emails", `users:
  - email: a@example.com
    name: A
  - email: A@Example.com
    name: B
`, []string{"portico.yaml:4: users[1].email: user a@example.com is already used at line 2"}},
		{"duplicate product and subscription names", `products:
  - name: p
  - name: p
subscriptions:
  - name: s
    scope: all
  - name: s
    scope: all
`, []string{
			"portico.yaml:3: products[1].name: product p is already used at line 2",
			"portico.yaml:7: subscriptions[1].name: subscription s is already used at line 5",
		}},
		{"repeated key", `portal:
  title: A
  title: B
`, []string{"portico.yaml:3: portal.title: key repeated (first at line 2)"}},
		{"policies are checked", `apis:
  - name: echo
    backend: {url: "builtin:echo"}
    policies:
      ip_filter: {action: allow}
`, []string{"portico.yaml:5: apis[0].policies.ip_filter: at least one address or range is required."}},
		{"not supported yet: other API keys", `apis:
  - name: echo
    backend:
      url: builtin:echo
      auth: {basic: {username: a, password: b}}
    authorization_server: as
    scope: api://x
`, []string{
			"portico.yaml:6: apis[0].authorization_server: not supported yet by this version of Portico",
			"portico.yaml:7: apis[0].scope: not supported yet by this version of Portico",
		}},
		{"not supported yet: sections", `authorization_servers: []
`, []string{
			"portico.yaml:1: authorization_servers: not supported yet by this version of Portico",
		}},
		{"invite with a password", `users:
  - email: a@example.com
    name: A
    invite: true
    password: a long enough password
`, []string{"portico.yaml:4: users[0].invite: invite and password exclude each other"}},
		{"invite with a state", `users:
  - email: a@example.com
    name: A
    state: active
    invite: true
`, []string{"portico.yaml:4: users[0].state: an invited user is pending until they accept"}},
		{"bad spec file", `apis:
  - name: broken
    backend: {url: "builtin:echo"}
    openapi: specs/broken.yaml
`, []string{"portico.yaml:4: apis[0].openapi: specs/broken.yaml"}},
		{"missing spec file", `apis:
  - name: gone
    backend: {url: "builtin:echo"}
    openapi: specs/gone.yaml
`, []string{"portico.yaml:4: apis[0].openapi:", "gone.yaml"}},
		{"uploaded spec", `apis:
  - name: up
    backend: {url: "builtin:echo"}
    openapi: upload:up.yaml
`, []string{"portico.yaml:4: apis[0].openapi: upload:up.yaml was uploaded through the portal"}},
		{"bad backend URL", `apis:
  - name: echo
    backend:
      url: ftp://example.com
`, []string{`portico.yaml:4: apis[0].backend.url: Backend URL "ftp://example.com" must be an absolute http or https URL, or builtin:echo.`}},
		{"missing backend", `apis:
  - name: echo
`, []string{`portico.yaml:2: apis[0]: backend required`}},
		{"bad API path", `apis:
  - name: health
    path: healthz
    backend: {url: "builtin:echo"}
`, []string{`portico.yaml:3: apis[0].path: API path "healthz" is reserved`}},
		{"API validation at the object's line", `apis:
  - name: echo
    backend: {url: "builtin:echo", timeout: 1h}
`, []string{`portico.yaml:2: apis[0]: API echo: backend timeout must be between 1s and 10m0s.`}},
		{"missing and bad names", `apis:
  - display_name: No name
    backend: {url: "builtin:echo"}
products:
  - name: "bad name"
`, []string{"portico.yaml:2: apis[0]: name required", `portico.yaml:5: products[0].name: product name "bad name" must be`}},
		{"open product rule", `products:
  - name: free
    subscription_required: false
    apis: [echo]
  - name: gratis
    subscription_required: false
    apis:
      - other
      - echo
`, []string{"portico.yaml:9: products[1].apis[1]: API echo is already in open product free (line 2); an API may be in at most one open product"}},
		{"product API listed twice", `products:
  - name: p
    apis: [a, b, a]
`, []string{"portico.yaml:3: products[0].apis[2]: API a is listed twice"}},
		{"rate limit", `products:
  - name: p
    rate_limit: {calls: 0, period: 1m}
`, []string{"portico.yaml:2: products[0]: Product p: rate limit needs calls >= 1"}},
		{"short password", `users:
  - email: a@example.com
    name: A
    password: short
`, []string{"portico.yaml:4: users[0].password: Password must be at least 8 characters."}},
		{"bad email", `users:
  - email: not-an-email
    name: A
`, []string{`portico.yaml:2: users[0].email: Email "not-an-email" is not a valid address.`}},
		{"bad scope", `subscriptions:
  - name: s
    scope: everything
`, []string{`portico.yaml:3: subscriptions[0].scope: Scope "everything" must be product:NAME, api:NAME or all.`}},
		{"missing scope", `subscriptions:
  - name: s
`, []string{`portico.yaml:2: subscriptions[0]: scope required`}},
		{"bad key", `subscriptions:
  - name: s
    scope: all
    primary_key: short
`, []string{`portico.yaml:4: subscriptions[0].primary_key: Subscription key must be 16 to 256 characters.`}},
		{"same key twice", `subscriptions:
  - name: s
    scope: all
    primary_key: ${CI_PRIMARY}
  - name: t
    scope: all
    secondary_key: ${CI_PRIMARY}
`, []string{`portico.yaml:7: subscriptions[1].secondary_key: this key is already used at line 4`}},
		{"bad expires_at", `subscriptions:
  - name: s
    scope: all
    expires_at: tomorrow
`, []string{`portico.yaml:4: subscriptions[0].expires_at: want an RFC 3339 time such as 2030-01-31T00:00:00Z, got "tomorrow"`}},
		{"yaml syntax", `portal:
  title: "unclosed
apis: []
`, []string{"portico.yaml:"}},
		{"two documents", `portal: {title: A}
---
portal: {title: B}
`, []string{"portico.yaml:", "one YAML document"}},
		{"not a mapping", `- a
- b
`, []string{"portico.yaml:1: want a mapping, got a list"}},
		{"email domains in one entry", `portal:
  basic_auth:
    allowed_email_domains:
      - contoso.com
      - contoso.com,fabrikam.com
`, []string{`portico.yaml:5: portal.basic_auth.allowed_email_domains[1]: Allowed email domain "contoso.com,fabrikam.com" is not a domain name: give one domain per entry, such as contoso.com.`}},
		{"email domain not a host name", `portal:
  basic_auth:
    allowed_email_domains: [good.example, "foo;", "*.contoso.com"]
`, []string{
			`portico.yaml:3: portal.basic_auth.allowed_email_domains[1]: Allowed email domain "foo;" is not a domain name: use letters, digits, hyphens and dots only`,
			`portico.yaml:3: portal.basic_auth.allowed_email_domains[2]: Allowed email domain "*.contoso.com" is not a domain name: wildcards are not supported`,
		}},
		{"sign-up without password sign-in", `portal:
  basic_auth:
    signin: false
    signup: true
`, []string{`portico.yaml:4: portal.basic_auth.signup: Self sign-up needs sign-in with email and password: turn self sign-up off too, or keep password sign-in on.`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.file)
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error:\n%s\nwant it to contain:\n%s", err, w)
				}
			}
			if code := portal.ErrorCode(err); code != portal.EINVALID && code != portal.ECONFLICT {
				t.Fatalf("ErrorCode = %q, want invalid or conflict", code)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := load(t, `apis:
  - name: echo
    bakend: {}
products:
  - name: p
    state: live
users:
  - email: a@example.com
    name: A
    password: ${NOPE}
`)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"portico.yaml:2: apis[0]: backend required (backend: {url: ...})",
		"portico.yaml:3: apis[0].bakend: unknown key (did you mean backend?)",
		`portico.yaml:6: products[0].state: want one of published, not_published, got "live"`,
		"portico.yaml:10: users[0].password: environment variable NOPE is not set",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Key != "apis[0]" {
		t.Fatalf("errors.As(*Error) = %+v", e)
	}
}

func TestLoadEnvironment(t *testing.T) {
	f, err := load(t, `portal:
  title: Contoso ${TITLE_SUFFIX}
  terms_of_use: "Write $${HOME} for your home; ${TITLE_SUFFIX}"
users:
  - email: admin@example.com
    name: Admin
    password: ${ADMIN_PASSWORD}
products:
  - name: p
    subscriptions_limit: ${LIMIT}
`+"\n")
	if err == nil {
		t.Fatalf("LIMIT is not set: want an error")
	}
	path := writeConfig(t, `portal:
  title: Contoso ${TITLE_SUFFIX}
  terms_of_use: "Write $${HOME} for your home; ${TITLE_SUFFIX}"
users:
  - email: admin@example.com
    name: Admin
    password: ${ADMIN_PASSWORD}
products:
  - name: p
    subscriptions_limit: ${LIMIT}
`)
	env := map[string]string{"LIMIT": "3"}
	for k, v := range testEnv {
		env[k] = v
	}
	f, err = Load(context.Background(), path, Config{Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.settings.settings.Title; got != "Contoso APIs" {
		t.Fatalf("title = %q", got)
	}
	if got := f.settings.settings.TermsOfUse; got != "Write ${HOME} for your home; APIs" {
		t.Fatalf("terms = %q", got)
	}
	if got := f.users[0].password; got != testEnv["ADMIN_PASSWORD"] {
		t.Fatalf("password = %q", got)
	}
	if got := f.products[0].product.SubscriptionsLimit; got != 3 {
		t.Fatalf("subscriptions_limit = %d", got)
	}

	// A wrong type from the environment does not show the value.
	env["LIMIT"] = "s3cret"
	_, err = Load(context.Background(), path, Config{Getenv: envOf(env)})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), `want an integer, got "${LIMIT}"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadDefaults(t *testing.T) {
	f, err := load(t, `portal:
  title: Contoso
apis:
  - name: plain
    backend: {url: "http://127.0.0.1:9000/v1"}
products:
  - name: p
users:
  - email: Dev@Example.com
    name: Dev
subscriptions:
  - name: s
    scope: all
`)
	if err != nil {
		t.Fatal(err)
	}
	want := portal.DefaultSettings()
	want.Title = "Contoso"
	if !sameSettings(&want, &f.settings.settings) {
		t.Fatalf("settings = %+v, want %+v", f.settings.settings, want)
	}
	a := f.apis[0].api
	if a.Path != "plain" || a.KeyHeader != portal.DefaultKeyHeader || a.KeyQuery != portal.DefaultKeyQuery ||
		a.Backend.Timeout != 30*time.Second || !a.SubscriptionRequired || a.Operations == nil || len(a.Operations) != 0 {
		t.Fatalf("api = %+v", a)
	}
	p := f.products[0].product
	if p.State != portal.ProductNotPublished || !p.SubscriptionRequired || p.ApprovalRequired || p.SubscriptionsLimit != 0 || p.RateLimit != nil {
		t.Fatalf("product = %+v", p)
	}
	u := f.users[0]
	if u.user.Email != "dev@example.com" || u.user.Role != portal.RoleDeveloper || u.user.State != portal.UserActive || u.hasPassword {
		t.Fatalf("user = %+v", u.user)
	}
	s := f.subs[0].sub
	if s.State != portal.SubscriptionActive || s.Scope.Kind != portal.ScopeAll || s.OwnerEmail != "" || s.PrimaryKey != "" {
		t.Fatalf("subscription = %+v", s)
	}
	for _, section := range []string{"portal", "apis", "products", "users", "subscriptions"} {
		if !f.sections[section] {
			t.Fatalf("section %s not recorded", section)
		}
	}
}

func TestLoadEmptyFile(t *testing.T) {
	f, err := load(t, "# nothing yet\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sections) != 0 || f.settings != nil {
		t.Fatalf("file = %+v", f)
	}
}

func TestLoadSpec(t *testing.T) {
	f, err := load(t, `apis:
  - name: echo
    openapi: specs/echo.yaml
    backend: {url: "builtin:echo"}
  - name: orders
    display_name: Shop orders
    description: ""
    openapi: ./specs/orders.json
    backend: {url: "https://orders.example.com"}
`)
	if err != nil {
		t.Fatal(err)
	}
	echo, orders := f.apis[0].api, f.apis[1].api
	if echo.DisplayName != "Echo API" || echo.Description != "Echoes the request back." || echo.Version != "1.0" {
		t.Fatalf("echo = %q %q %q", echo.DisplayName, echo.Description, echo.Version)
	}
	if len(echo.Operations) != 3 || echo.Operations[0].ID != "list-resources" {
		t.Fatalf("echo operations = %+v", echo.Operations)
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "specs", "echo.yaml"))
	if string(echo.SpecDocument) != string(data) || echo.Spec.Location != "specs/echo.yaml" ||
		!strings.HasPrefix(echo.Spec.Format, "openapi 3.0") || len(echo.Spec.Digest) != 64 {
		t.Fatalf("echo spec = %+v", echo.Spec)
	}
	if len(echo.Tags) != 1 || echo.Tags[0] != "Resources" {
		t.Fatalf("echo tags = %v", echo.Tags)
	}
	// Given display name and (empty) description win over the spec's.
	if orders.DisplayName != "Shop orders" || orders.Description != "" || orders.Version != "2.1" || len(orders.Operations) != 2 {
		t.Fatalf("orders = %+v", orders)
	}
	if orders.Spec.Format != "swagger 2.0" || orders.Spec.Location != "./specs/orders.json" {
		t.Fatalf("orders spec = %+v", orders.Spec)
	}
}

func TestExpandEnv(t *testing.T) {
	env := envOf(map[string]string{"A": "1", "EMPTY": "", "REF": "${A}"})
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${A}", "x1y1", ""},
		{"${EMPTY}", "", ""},
		{"$${A}", "${A}", ""},
		{"$$${A}", "$${A}", ""},
		{"${REF}", "${A}", ""}, // not expanded twice
		{"cost: $5", "cost: $5", ""},
		{"${B}", "", "environment variable B is not set"},
		{"${A", "", "unterminated"},
		{"${}", "", "is not an environment variable name"},
	}
	for _, tt := range tests {
		got, _, err := expandEnv(tt.in, env)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("expandEnv(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Fatalf("expandEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if back, _, _ := expandEnv(escapeEnv(got), env); back != got {
			t.Fatalf("escapeEnv(%q) reads back as %q", got, back)
		}
	}
}

func TestLoadSpecFromURL(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("testdata", "specs"))))
	defer srv.Close()
	path := writeConfig(t, `apis:
  - name: echo
    openapi: `+srv.URL+`/echo.yaml
    backend: {url: "builtin:echo"}
  - name: gone
    openapi: `+srv.URL+`/gone.yaml
    backend: {url: "builtin:echo"}
`)
	c := Config{Getenv: envOf(nil), HTTPClient: srv.Client()}
	_, err := Load(context.Background(), path, c)
	if err == nil || !strings.Contains(err.Error(), "portico.yaml:6: apis[1].openapi: "+srv.URL+"/gone.yaml") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "apis[0]") {
		t.Fatalf("echo should load: %v", err)
	}
	if err := os.WriteFile(path, []byte(`apis:
  - name: echo
    openapi: `+srv.URL+`/echo.yaml
    backend: {url: "builtin:echo"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(context.Background(), path, c)
	if err != nil {
		t.Fatal(err)
	}
	if a := f.apis[0].api; len(a.Operations) != 3 || a.Spec.Location != srv.URL+"/echo.yaml" {
		t.Fatalf("api = %+v", a)
	}
}

// TestLoadSettingsNormalized: allowed email domains are normalized as the
// store keeps them, and self sign-up left out follows password sign-in.
func TestLoadSettingsNormalized(t *testing.T) {
	f, err := load(t, `portal:
  basic_auth:
    signin: false
    allowed_email_domains: ["@Contoso.COM", " fabrikam.com ", contoso.com, xn--mnchen-3ya.de]
`)
	if err != nil {
		t.Fatal(err)
	}
	b := f.settings.settings.BasicAuth
	if b.SignIn || b.SignUp || strings.Join(b.AllowedEmailDomains, ",") != "contoso.com,fabrikam.com,xn--mnchen-3ya.de" {
		t.Fatalf("basic_auth = %+v", b)
	}
}
