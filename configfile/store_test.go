package configfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

// fullConfig uses every key this version supports.
const fullConfig = `portal:
  title: Contoso ${TITLE_SUFFIX}
  anonymous_access: redirect
  basic_auth:
    signup: false
    allowed_email_domains: ["@Contoso.com", example.com]
    min_password_length: 6
  terms_of_use: "Be nice. $${NOT_A_VAR}"
  invitation_ttl: 72h
  session: {idle_timeout: 1h, absolute_timeout: 8h}
apis:
  - name: echo
    openapi: specs/echo.yaml
    backend: {url: "builtin:echo", timeout: 10s}
  - name: orders
    path: shop/orders
    openapi: specs/orders.json
    backend:
      url: https://orders.example.com/v2
    subscription_key: {header: X-Key, query: key}
  - name: status
    display_name: Status
    description: |
      Is everything up?
      Ask here.
    backend: {url: "http://127.0.0.1:9000"}
    subscription_required: false
products:
  - name: starter
    display_name: Starter
    description: For trying things out.
    apis: [orders, echo]
    state: published
    subscriptions_limit: 1
    rate_limit: {calls: 100, period: 60s}
  - name: free
    apis: [status]
    state: published
    subscription_required: false
users:
  - email: admin@example.com
    name: Admin
    role: admin
    password: ${ADMIN_PASSWORD}
  - email: dev@example.com
    name: Dev
    password: ${DEV_PASSWORD}
  - email: blocked@example.com
    name: Blocked
    state: blocked
subscriptions:
  - name: ci-bot
    owner: admin@example.com
    scope: product:starter
    primary_key: ${CI_PRIMARY}
    secondary_key: ${CI_SECONDARY}
    expires_at: "2030-01-31T12:00:00+01:00"
  - name: robot
    display_name: Robot
    scope: all
  - name: dev-orders
    owner: dev@example.com
    scope: api:orders
    state: suspended
    state_comment: Too many calls.
`

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	kr, err := keyring.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "p.db"), Keys: kr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// plan loads the file at path and plans it against c.Store.
func plan(t *testing.T, path string, c Config, opts PlanOptions) (*Plan, error) {
	t.Helper()
	f, err := Load(context.Background(), path, c)
	if err != nil {
		return nil, relErr{err, filepath.Dir(path) + string(filepath.Separator)}
	}
	p, err := f.Plan(context.Background(), c, opts)
	if err != nil {
		return nil, relErr{err, filepath.Dir(path) + string(filepath.Separator)}
	}
	return p, nil
}

// mustApply loads, plans and applies the file at path.
func mustApply(t *testing.T, path string, c Config, opts PlanOptions) *Plan {
	t.Helper()
	p, err := plan(t, path, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(context.Background(), p, c); err != nil {
		t.Fatal(err)
	}
	return p
}

func diffText(t *testing.T, p *Plan) string {
	t.Helper()
	var b strings.Builder
	if err := p.WriteDiff(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func version(t *testing.T, s portal.Store) int64 {
	t.Helper()
	v, err := s.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestApplyCreatesEverything(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := Config{Store: s, Getenv: envOf(testEnv)}
	path := writeConfig(t, fullConfig)

	p, err := plan(t, path, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `~ portal: title Portico -> "Contoso APIs"
~ portal: anonymous_access allow -> redirect
~ portal: basic_auth.signup true -> false
~ portal: basic_auth.allowed_email_domains [] -> [contoso.com, example.com]
~ portal: basic_auth.min_password_length 0 -> 6
~ portal: terms_of_use "" -> "Be nice. ${NOT_A_VAR}"
~ portal: invitation_ttl 48h -> 72h
~ portal: session.idle_timeout 30m -> 1h
~ portal: session.absolute_timeout 12h -> 8h
+ api echo
+ api orders
+ api status
+ product starter
+ product free
+ user admin@example.com
+ user dev@example.com
+ user blocked@example.com
+ subscription ci-bot
+ subscription robot
+ subscription dev-orders
Plan: 11 to add, 1 to change, 0 to delete.
`
	if got := diffText(t, p); got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	// A dry run writes nothing.
	if v := version(t, s); v != 0 {
		if apis, _, _ := s.FindAPIs(ctx, portal.APIFilter{}); len(apis) != 0 {
			t.Fatalf("planning wrote %d APIs", len(apis))
		}
	}
	if err := Apply(ctx, p, c); err != nil {
		t.Fatal(err)
	}

	settings, err := s.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if settings.Title != "Contoso APIs" || settings.AnonymousAccess != portal.AnonymousRedirect || settings.BasicAuth.SignUp ||
		!settings.BasicAuth.SignIn || strings.Join(settings.BasicAuth.AllowedEmailDomains, ",") != "contoso.com,example.com" ||
		settings.TermsOfUse != "Be nice. ${NOT_A_VAR}" || settings.InvitationTTL != 72*time.Hour || settings.Session.AbsoluteTimeout != 8*time.Hour {
		t.Fatalf("settings = %+v", settings)
	}

	echo, err := s.FindAPIByName(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if echo.DisplayName != "Echo API" || echo.Version != "1.0" || echo.Path != "echo" || len(echo.Operations) != 3 ||
		echo.Backend.Timeout != 10*time.Second || echo.Spec.Location != "specs/echo.yaml" || len(echo.Spec.Digest) != 64 {
		t.Fatalf("echo = %+v", echo)
	}
	doc, _, err := s.FindAPISpec(ctx, "echo")
	if err != nil || !bytes.Contains(doc, []byte("operationId: list-resources")) {
		t.Fatalf("echo spec = %q, %v", doc, err)
	}
	orders, err := s.FindAPIByName(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if orders.Path != "shop/orders" || orders.KeyHeader != "X-Key" || orders.KeyQuery != "key" || len(orders.Operations) != 2 {
		t.Fatalf("orders = %+v", orders)
	}
	status, err := s.FindAPIByName(ctx, "status")
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Operations) != 0 || status.SubscriptionRequired || status.Description != "Is everything up?\nAsk here.\n" {
		t.Fatalf("status = %+v", status)
	}

	starter, err := s.FindProductByName(ctx, "starter")
	if err != nil {
		t.Fatal(err)
	}
	if starter.State != portal.ProductPublished || strings.Join(starter.APIs, ",") != "echo,orders" ||
		starter.RateLimit == nil || starter.RateLimit.Calls != 100 || starter.RateLimit.Period != time.Minute || starter.SubscriptionsLimit != 1 {
		t.Fatalf("starter = %+v", starter)
	}

	admin, err := s.FindUserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if admin.Role != portal.RoleAdmin || !auth.VerifyPassword(admin.PasswordHash, testEnv["ADMIN_PASSWORD"]) {
		t.Fatalf("admin = %+v", admin)
	}
	blocked, err := s.FindUserByEmail(ctx, "blocked@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if blocked.State != portal.UserBlocked || blocked.Role != portal.RoleDeveloper || blocked.PasswordHash != "" {
		t.Fatalf("blocked = %+v", blocked)
	}

	// Keys given are used; keys not given are generated.
	ci, kind, err := s.FindSubscriptionByKey(ctx, testEnv["CI_PRIMARY"])
	if err != nil || ci.Name != "ci-bot" || kind != portal.PrimaryKey {
		t.Fatalf("FindSubscriptionByKey(primary) = %+v, %v, %v", ci, kind, err)
	}
	if ci.OwnerEmail != "admin@example.com" || ci.Scope.String() != "product:starter" || ci.ExpiresAt == nil ||
		!ci.ExpiresAt.Equal(time.Date(2030, 1, 31, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("ci-bot = %+v", ci)
	}
	if sub, kind, err := s.FindSubscriptionByKey(ctx, testEnv["CI_SECONDARY"]); err != nil || sub.Name != "ci-bot" || kind != portal.SecondaryKey {
		t.Fatalf("FindSubscriptionByKey(secondary) = %+v, %v, %v", sub, kind, err)
	}
	robot, err := s.FindSubscriptionByName(ctx, "robot")
	if err != nil {
		t.Fatal(err)
	}
	pk, sk, err := s.RevealSubscriptionKeys(ctx, robot.ID)
	if err != nil || len(pk) != portal.KeyLength || len(sk) != portal.KeyLength || pk == sk {
		t.Fatalf("robot keys = %q, %q, %v", pk, sk, err)
	}
	if robot.OwnerID != 0 || robot.DisplayName != "Robot" || robot.Scope.Kind != portal.ScopeAll {
		t.Fatalf("robot = %+v", robot)
	}
	dev, err := s.FindSubscriptionByName(ctx, "dev-orders")
	if err != nil {
		t.Fatal(err)
	}
	if dev.State != portal.SubscriptionSuspended || dev.StateComment != "Too many calls." || dev.OwnerEmail != "dev@example.com" {
		t.Fatalf("dev-orders = %+v", dev)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	s := openStore(t)
	c := Config{Store: s, Getenv: envOf(testEnv)}
	path := writeConfig(t, fullConfig)
	mustApply(t, path, c, PlanOptions{})
	v := version(t, s)

	for _, prune := range []bool{false, true} {
		p, err := plan(t, path, c, PlanOptions{Prune: prune})
		if err != nil {
			t.Fatal(err)
		}
		if got := diffText(t, p); !p.Empty() || got != "No changes.\n" {
			t.Fatalf("prune=%t: second plan:\n%s", prune, got)
		}
		if err := Apply(context.Background(), p, c); err != nil {
			t.Fatal(err)
		}
	}
	if got := version(t, s); got != v {
		t.Fatalf("Version moved from %d to %d applying an empty plan", v, got)
	}
}

// secrets lists what must never appear in an export, a diff or an error.
func secrets(t *testing.T, s portal.Store) []string {
	t.Helper()
	ctx := context.Background()
	out := []string{testEnv["ADMIN_PASSWORD"], testEnv["DEV_PASSWORD"], testEnv["CI_PRIMARY"], testEnv["CI_SECONDARY"], "$argon2id$"}
	subs, _, err := s.FindSubscriptions(ctx, portal.SubscriptionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		pk, sk, err := s.RevealSubscriptionKeys(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pk, sk)
	}
	return out
}

func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := Config{Store: s, Getenv: envOf(testEnv)}
	path := writeConfig(t, fullConfig)
	mustApply(t, path, c, PlanOptions{})
	v := version(t, s)

	var out bytes.Buffer
	if err := Export(ctx, c, &out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	exported := out.String()
	for _, secret := range secrets(t, s) {
		if strings.Contains(exported, secret) {
			t.Fatalf("export contains the secret %q:\n%s", secret, exported)
		}
	}
	for _, want := range []string{"# Secrets are redacted", "openapi: specs/echo.yaml", "terms_of_use: Be nice. $${NOT_A_VAR}", "expires_at: \"2030-01-31T11:00:00Z\""} {
		if !strings.Contains(exported, want) {
			t.Fatalf("export lacks %q:\n%s", want, exported)
		}
	}

	// The export, beside the original (its spec paths are relative to it),
	// loads without any environment and applies as no change, in both
	// modes.
	again := filepath.Join(filepath.Dir(path), "exported.yaml")
	if err := os.WriteFile(again, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := Config{Store: s, Getenv: envOf(nil)}
	for _, prune := range []bool{false, true} {
		p, err := plan(t, again, noEnv, PlanOptions{Prune: prune})
		if err != nil {
			t.Fatalf("exported file:\n%s\n%v", exported, err)
		}
		if !p.Empty() {
			t.Fatalf("prune=%t: plan of the export:\n%s\nexport:\n%s", prune, diffText(t, p), exported)
		}
	}

	dir := filepath.Join(t.TempDir(), "export")
	if err := Export(ctx, c, nil, ExportOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"portico.yaml", "specs/echo.yaml", "specs/orders.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "specs", "status.yaml")); !os.IsNotExist(err) {
		t.Fatalf("status has no spec, yet: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "portico.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets(t, s) {
		if strings.Contains(string(data), secret) {
			t.Fatalf("export contains the secret %q", secret)
		}
	}
	if !strings.Contains(string(data), "openapi: specs/orders.json") {
		t.Fatalf("export does not point at its spec:\n%s", data)
	}
	p := mustApply(t, filepath.Join(dir, "portico.yaml"), noEnv, PlanOptions{Prune: true})
	if !p.Empty() {
		t.Fatalf("plan of the export with its specs:\n%s", diffText(t, p))
	}
	if got := version(t, s); got != v {
		t.Fatalf("Version moved from %d to %d", v, got)
	}
	// The secrets are still those of the first apply.
	admin, err := s.FindUserByEmail(ctx, "admin@example.com")
	if err != nil || !auth.VerifyPassword(admin.PasswordHash, testEnv["ADMIN_PASSWORD"]) {
		t.Fatalf("admin password lost: %v", err)
	}
	if sub, _, err := s.FindSubscriptionByKey(ctx, testEnv["CI_PRIMARY"]); err != nil || sub.Name != "ci-bot" {
		t.Fatalf("ci-bot key lost: %v", err)
	}
}

func TestExportEmptyStore(t *testing.T) {
	s := openStore(t)
	c := Config{Store: s}
	var out bytes.Buffer
	if err := Export(context.Background(), c, &out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "portico.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := plan(t, path, c, PlanOptions{Prune: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !p.Empty() {
		t.Fatalf("plan:\n%s\nexport:\n%s", diffText(t, p), out.String())
	}
}

// TestExportSignUpWithoutSignIn: settings stored with self sign-up on and
// password sign-in off (the stores still accept them, and treat sign-up
// as off) export to a file that applies back, with sign-up off, and whose
// own export then applies as no change.
func TestExportSignUpWithoutSignIn(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	mustApply(t, writeConfig(t, idpConfig), Config{Store: s, Getenv: envOf(idpEnv)}, PlanOptions{})
	settings, err := s.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settings.BasicAuth.SignIn, settings.BasicAuth.SignUp = false, true
	if err := s.UpdateSettings(ctx, settings); err != nil {
		t.Fatal(err)
	}

	c := Config{Store: s, Getenv: envOf(nil)}
	export := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := Export(ctx, c, &out, ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		return writeConfig(t, out.String())
	}
	path := export()
	if _, err := plan(t, path, c, PlanOptions{Prune: true}); err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("the export does not apply: %v\n%s", err, data)
	}
	mustApply(t, path, c, PlanOptions{Prune: true})
	got, err := s.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.BasicAuth.SignIn || got.BasicAuth.SignUp {
		t.Fatalf("after the round trip: signin %t, signup %t; want both off", got.BasicAuth.SignIn, got.BasicAuth.SignUp)
	}
	if p := mustApply(t, export(), c, PlanOptions{Prune: true}); !p.Empty() {
		t.Fatalf("plan of the second export:\n%s", diffText(t, p))
	}
}

// TestChangeOneThing edits the applied file in one place and checks that
// the diff names exactly what changed, and that applying it converges.
func TestChangeOneThing(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		env      map[string]string
		want     string
	}{
		{name: "backend URL", old: "url: https://orders.example.com/v2", new: "url: https://orders.example.com/v3",
			want: "~ api orders: backend.url https://orders.example.com/v2 -> https://orders.example.com/v3\n"},
		{name: "product state", old: "    state: published\n    subscriptions_limit: 1", new: "    state: not_published\n    subscriptions_limit: 1",
			want: "~ product starter: state published -> not_published\n"},
		{name: "product APIs", old: "apis: [orders, echo]", new: "apis: [orders]",
			want: "~ product starter: apis [echo, orders] -> [orders]\n"},
		{name: "rate limit", old: "rate_limit: {calls: 100, period: 60s}", new: "rate_limit: {calls: 10, period: 1s}",
			want: "~ product starter: rate_limit 100/1m -> 10/1s\n"},
		{name: "role", old: "    name: Dev\n", new: "    name: Dev\n    role: admin\n",
			want: "~ user dev@example.com: role developer -> admin\n~ user dev@example.com: sessions end (signed out everywhere)\n"},
		{name: "password", env: map[string]string{"ADMIN_PASSWORD": "a brand new password"},
			want: "~ user admin@example.com: password (changed)\n~ user admin@example.com: sessions end (signed out everywhere)\n"},
		{name: "subscription key", env: map[string]string{"CI_SECONDARY": "a-new-secondary-key-0123456789"},
			want: "~ subscription ci-bot: secondary_key (changed)\n"},
		{name: "subscription state", old: "state: suspended", new: "state: active",
			want: "~ subscription dev-orders: state suspended -> active\n"},
		{name: "long description", old: "      Ask here.\n", new: "      Ask there.\n",
			want: "~ api status: description (changed)\n"},
		{name: "settings", old: "invitation_ttl: 72h", new: "invitation_ttl: 24h",
			want: "~ portal: invitation_ttl 72h -> 24h\n"},
		{name: "drop the spec", old: "    openapi: specs/echo.yaml\n", new: "",
			want: `~ api echo: display_name "Echo API" -> ""
~ api echo: description "Echoes the request back." -> ""
~ api echo: openapi specs/echo.yaml -> none (3 -> 0 operations: any path is accepted)
~ api echo: version 1.0 -> ""
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			path := writeConfig(t, fullConfig)
			mustApply(t, path, Config{Store: s, Getenv: envOf(testEnv)}, PlanOptions{})

			content := fullConfig
			if tt.old != "" || tt.new != "" {
				if !strings.Contains(content, tt.old) {
					t.Fatalf("%q not in the config", tt.old)
				}
				content = strings.Replace(content, tt.old, tt.new, 1)
			}
			env := map[string]string{}
			for k, v := range testEnv {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			c := Config{Store: s, Getenv: envOf(env)}
			p, err := plan(t, path, c, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := diffText(t, p)
			lines := strings.Count(tt.want, "\n")
			want := tt.want + "Plan: 0 to add, 1 to change, 0 to delete.\n"
			if got != want {
				t.Fatalf("diff (%d lines wanted):\n%s\nwant:\n%s", lines, got, want)
			}
			for _, v := range tt.env {
				if strings.Contains(got, v) {
					t.Fatalf("diff shows a secret: %s", got)
				}
			}
			if err := Apply(ctx, p, c); err != nil {
				t.Fatal(err)
			}
			p, err = plan(t, path, c, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() {
				t.Fatalf("after applying, plan:\n%s", diffText(t, p))
			}
		})
	}
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		prune bool
		want  string
		after func(t *testing.T, s portal.Store)
	}{
		{name: "apis only", prune: true, file: `apis:
  - name: echo
    openapi: specs/echo.yaml
    backend: {url: "builtin:echo", timeout: 10s}
  - name: orders
    path: shop/orders
    openapi: specs/orders.json
    backend: {url: "https://orders.example.com/v2"}
    subscription_key: {header: X-Key, query: key}
`, want: `- api status
~ product free: apis [status] -> [] (API status is deleted)
Plan: 0 to add, 1 to change, 1 to delete.
`, after: func(t *testing.T, s portal.Store) {
			count(t, s, 2, 2, 3, 3)
		}},
		{name: "without prune nothing goes", file: `apis: []
products: []
users: []
subscriptions: []
`, want: "No changes.\n", after: func(t *testing.T, s portal.Store) {
			count(t, s, 3, 2, 3, 3)
		}},
		{name: "users", prune: true, file: `users:
  - email: admin@example.com
    name: Admin
    role: admin
`, want: `- user blocked@example.com
- user dev@example.com
- subscription dev-orders (its owner dev@example.com is deleted)
Plan: 0 to add, 0 to change, 3 to delete.
`, after: func(t *testing.T, s portal.Store) {
			count(t, s, 3, 2, 1, 2)
		}},
		{name: "products and subscriptions", prune: true, file: `products:
  - name: free
    apis: [status]
    state: published
    subscription_required: false
subscriptions: []
`, want: `- product starter
- subscription ci-bot
- subscription dev-orders
- subscription robot
Plan: 0 to add, 0 to change, 4 to delete.
`, after: func(t *testing.T, s portal.Store) {
			count(t, s, 3, 1, 3, 0)
		}},
		{name: "a product takes its subscriptions", prune: true, file: `products: []
`, want: `- product free
- product starter
- subscription ci-bot (its product starter is deleted)
Plan: 0 to add, 0 to change, 3 to delete.
`, after: func(t *testing.T, s portal.Store) {
			count(t, s, 3, 0, 3, 2)
		}},
		{name: "empty file", prune: true, file: "", want: "No changes.\n", after: func(t *testing.T, s portal.Store) {
			count(t, s, 3, 2, 3, 3)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			c := Config{Store: s, Getenv: envOf(testEnv)}
			mustApply(t, writeConfig(t, fullConfig), c, PlanOptions{})
			p := mustApply(t, writeConfig(t, tt.file), c, PlanOptions{Prune: tt.prune})
			if got := diffText(t, p); got != tt.want {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
			tt.after(t, s)
		})
	}
}

// count checks how many APIs, products, users and subscriptions the store
// holds.
func count(t *testing.T, s portal.Store, apis, products, users, subs int) {
	t.Helper()
	ctx := context.Background()
	_, a, err1 := s.FindAPIs(ctx, portal.APIFilter{})
	_, p, err2 := s.FindProducts(ctx, portal.ProductFilter{})
	_, u, err3 := s.FindUsers(ctx, portal.UserFilter{})
	_, sub, err4 := s.FindSubscriptions(ctx, portal.SubscriptionFilter{})
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a != apis || p != products || u != users || sub != subs {
		t.Fatalf("store holds %d APIs, %d products, %d users, %d subscriptions; want %d, %d, %d, %d", a, p, u, sub, apis, products, users, subs)
	}
}

// TestNothingChangesOnError checks that a file with one bad entry changes
// nothing, whether Load, Plan or the store finds the problem.
func TestNothingChangesOnError(t *testing.T) {
	const goodAPIs = `apis:
  - name: one
    backend: {url: "builtin:echo"}
  - name: two
    backend: {url: "builtin:echo"}
  - name: three
    openapi: specs/echo.yaml
    backend: {url: "builtin:echo"}
`
	tests := []struct {
		name string
		file string
		want string
	}{
		{"Load", goodAPIs + `products:
  - name: bad
    apis: [one]
    subscriptions_limit: one
`, `portico.yaml:12: products[0].subscriptions_limit: want an integer, got "one"`},
		{"Plan", goodAPIs + `products:
  - name: dangling
    apis: [one, ghost]
`, "portico.yaml:11: products[0].apis[1]: API ghost is neither in the file nor in the store"},
		{"Plan: subscriptions limit", goodAPIs + `subscriptions:
  - name: second-starter
    owner: admin@example.com
    scope: product:starter
`, "portico.yaml:10: subscriptions[0]: admin@example.com would have 2 subscriptions to product starter, past its subscriptions_limit of 1"},
		// Two APIs swapping paths pass every check but the store's, which
		// sees both at one path halfway through.
		{"store", goodAPIs + `  - name: echo
    path: shop/orders
    openapi: specs/echo.yaml
    backend: {url: "builtin:echo", timeout: 10s}
  - name: orders
    path: echo
    openapi: specs/orders.json
    backend: {url: "https://orders.example.com/v2"}
    subscription_key: {header: X-Key, query: key}
`, "portico.yaml: the store refused the change, nothing was changed: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			c := Config{Store: s, Getenv: envOf(testEnv)}
			mustApply(t, writeConfig(t, fullConfig), c, PlanOptions{})
			v := version(t, s)

			path := writeConfig(t, tt.file)
			p, err := plan(t, path, c, PlanOptions{})
			if err == nil {
				if err = Apply(ctx, p, c); err != nil {
					err = relErr{err, filepath.Dir(path) + string(filepath.Separator)}
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if got := version(t, s); got != v {
				t.Fatalf("Version moved from %d to %d", v, got)
			}
			if _, err := s.FindAPIByName(ctx, "one"); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Fatalf("API one: %v", err)
			}
			count(t, s, 3, 2, 3, 3)
		})
	}
}

func TestPlanChecksAgainstTheStore(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		prune bool
		want  []string
	}{
		{name: "dangling references", file: `products:
  - name: p
    apis: [echo, ghost]
subscriptions:
  - name: s
    owner: nobody@example.com
    scope: product:nothing
  - name: t
    scope: api:ghost
`, want: []string{
			"portico.yaml:3: products[0].apis[1]: API ghost is neither in the file nor in the store",
			"portico.yaml:6: subscriptions[0].owner: user nobody@example.com is neither in the file nor in the store",
			"portico.yaml:7: subscriptions[0].scope: product nothing is neither in the file nor in the store",
			"portico.yaml:9: subscriptions[1].scope: API ghost is neither in the file nor in the store",
		}},
		{name: "reference to a pruned API", prune: true, file: `apis: []
products:
  - name: p
    apis: [echo]
`, want: []string{"portico.yaml:4: products[0].apis[0]: API echo is neither in the file nor in the store (--prune deletes it: it is not in the file)"}},
		{name: "key of another subscription", file: `subscriptions:
  - name: other
    scope: all
    primary_key: ${CI_SECONDARY}
`, want: []string{"portico.yaml:4: subscriptions[0].primary_key: this key belongs to subscription ci-bot in the store; keys must be unique"}},
		{name: "path taken", file: `apis:
  - name: echo2
    path: echo
    backend: {url: "builtin:echo"}
`, want: []string{"portico.yaml:3: apis[0].path: path echo is taken by API echo in the store"}},
		{name: "second open product", file: `products:
  - name: gratis
    subscription_required: false
    apis: [status]
`, want: []string{"portico.yaml:4: products[0].apis[0]: API status is already in open product free in the store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			c := Config{Store: s, Getenv: envOf(testEnv)}
			mustApply(t, writeConfig(t, fullConfig), c, PlanOptions{})
			_, err := plan(t, writeConfig(t, tt.file), c, PlanOptions{Prune: tt.prune})
			if err == nil {
				t.Fatal("Plan succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error:\n%s\nwant it to contain:\n%s", err, w)
				}
			}
			if strings.Contains(err.Error(), testEnv["CI_SECONDARY"]) {
				t.Fatalf("error shows a key: %v", err)
			}
		})
	}
}

func TestOpenProductMovesInOneApply(t *testing.T) {
	s := openStore(t)
	c := Config{Store: s, Getenv: envOf(testEnv)}
	mustApply(t, writeConfig(t, fullConfig), c, PlanOptions{})
	// free closes and gratis opens with its API: the store must see free
	// change first.
	p := mustApply(t, writeConfig(t, `products:
  - name: gratis
    subscription_required: false
    apis: [status]
  - name: free
    apis: [status]
    state: published
`), c, PlanOptions{})
	want := `+ product gratis
~ product free: subscription_required false -> true
Plan: 1 to add, 1 to change, 0 to delete.
`
	if got := diffText(t, p); got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
}

// TestApplyEndsSessions: a user whose role or state the file changes is
// signed out by the apply, as on the users page; a user the file leaves
// alone, or changes otherwise, keeps their sessions.
func TestApplyEndsSessions(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	path := writeConfig(t, fullConfig)
	c := Config{Store: s, Getenv: envOf(testEnv)}
	mustApply(t, path, c, PlanOptions{})
	sessionOf := func(email string) string {
		t.Helper()
		u, err := s.FindUserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		id := "session-of-" + email
		if err := s.SaveSession(ctx, &portal.Session{ID: id, UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	alive := func(id string) bool {
		t.Helper()
		_, err := s.FindSession(ctx, id, time.Now())
		if err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatal(err)
		}
		return err == nil
	}
	steps := []struct {
		name, old, new string
		ended, kept    []string
	}{
		{"role", "    name: Dev\n", "    name: Dev\n    role: admin\n", []string{"dev@example.com"}, []string{"admin@example.com"}},
		{"name only", "    name: Admin\n", "    name: Boss\n", nil, []string{"admin@example.com", "dev@example.com"}},
		{"blocked", "    name: Boss\n", "    name: Boss\n    state: blocked\n", []string{"admin@example.com"}, []string{"dev@example.com"}},
		{"password", "    password: ${DEV_PASSWORD}\n", "    password: another password for dev\n", []string{"dev@example.com"}, []string{"admin@example.com"}},
	}
	content := fullConfig
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ids := map[string]string{}
			for _, email := range append(append([]string{}, st.ended...), st.kept...) {
				ids[email] = sessionOf(email)
			}
			if !strings.Contains(content, st.old) {
				t.Fatalf("%q not in the config", st.old)
			}
			content = strings.Replace(content, st.old, st.new, 1)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			mustApply(t, path, c, PlanOptions{})
			for _, email := range st.ended {
				if alive(ids[email]) {
					t.Errorf("the session of %s outlived the apply", email)
				}
			}
			for _, email := range st.kept {
				if !alive(ids[email]) {
					t.Errorf("the session of %s ended", email)
				}
			}
		})
	}
}
