package configfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

// idpConfig declares one identity provider of each type.
const idpConfig = `identity_providers:
  - name: corp
    type: entra
    display_name: Contoso staff
    client_id: ${IDP_CLIENT_ID}
    client_secret: ${IDP_SECRET}
    tenant: organizations
    allowed_tenants: [AAAA-1111, bbbb-2222]
    authority: https://login.microsoftonline.us/
  - name: shop
    type: external-id
    client_id: shop-app
    tenant: contoso.onmicrosoft.com
    signup: false
  - name: dex
    type: oidc
    client_id: portal
    client_secret: ${DEX_SECRET}
    issuer: http://127.0.0.1:5556/dex
    scopes: [openid, email, groups]
`

var idpEnv = map[string]string{
	"IDP_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
	"IDP_SECRET":    "entra-secret-value-do-not-print",
	"DEX_SECRET":    "dex-secret-value-do-not-print",
}

func idpEnvWith(kv ...string) map[string]string {
	env := map[string]string{}
	for k, v := range idpEnv {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// noSecrets fails if text shows a client secret.
func noSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{idpEnv["IDP_SECRET"], idpEnv["DEX_SECRET"], "rotated-secret-do-not-print"} {
		if strings.Contains(text, s) {
			t.Fatalf("%s shows a client secret:\n%s", what, text)
		}
	}
}

func TestIdentityProvidersLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // the whole error
	}{
		{"type required", `identity_providers:
  - name: corp
    client_id: x
    issuer: https://idp.example.com
`, "portico.yaml:2: identity_providers[0]: type required (entra, external-id or oidc)"},
		{"bad type", `identity_providers:
  - name: corp
    type: saml
    client_id: x
`, `portico.yaml:3: identity_providers[0].type: want one of entra, external-id, oidc, got "saml"`},
		{"bad name", `identity_providers:
  - name: the corp
    type: oidc
    client_id: x
    issuer: https://idp.example.com
`, `portico.yaml:2: identity_providers[0].name: identity provider name "the corp" must be 1-80 letters, digits, '-', '_' or '.', starting with a letter or digit`},
		{"client id missing", `identity_providers:
  - name: corp
    type: oidc
    issuer: https://idp.example.com
`, "portico.yaml:2: identity_providers[0]: Identity provider corp: client id required (at most 200 characters)."},
		{"oidc without issuer", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
`, "portico.yaml:2: identity_providers[0]: Identity provider corp: an oidc provider needs an issuer URL."},
		{"plain http issuer", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    issuer: http://idp.example.com
`, `portico.yaml:5: identity_providers[0].issuer: Identity provider corp: issuer "http://idp.example.com" must be an https URL (http only for localhost).`},
		{"oidc with a tenant", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    issuer: https://idp.example.com
    tenant: contoso.com
`, "portico.yaml:6: identity_providers[0].tenant: Identity provider corp: tenant, allowed tenants and authority are for entra and external-id providers."},
		{"entra without tenant", `identity_providers:
  - name: corp
    type: entra
    client_id: x
`, "portico.yaml:2: identity_providers[0]: Identity provider corp: an Entra provider needs a tenant (id, domain, organizations or common)."},
		{"entra with an issuer", `identity_providers:
  - name: corp
    type: entra
    client_id: x
    tenant: common
    issuer: https://idp.example.com
`, "portico.yaml:6: identity_providers[0].issuer: Identity provider corp: an Entra provider takes a tenant and an authority, not an issuer."},
		{"bad authority", `identity_providers:
  - name: corp
    type: entra
    client_id: x
    tenant: common
    authority: https://login.example.com/?x=1
`, `portico.yaml:6: identity_providers[0].authority: Identity provider corp: authority "https://login.example.com/?x=1" must be an absolute https URL without query or fragment.`},
		{"allowed tenants on external id", `identity_providers:
  - name: corp
    type: external-id
    client_id: x
    tenant: contoso.onmicrosoft.com
    allowed_tenants: [aaaa]
`, "portico.yaml:6: identity_providers[0].allowed_tenants: Identity provider corp: allowed tenants are for entra providers."},
		{"bad scope", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    issuer: https://idp.example.com
    scopes: [openid, "read write"]
`, `portico.yaml:6: identity_providers[0].scopes: Identity provider corp: scope "read write" is not a scope token.`},
		{"unknown key", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    isuer: https://idp.example.com
`, "portico.yaml:5: identity_providers[0].isuer: unknown key (did you mean issuer?)"},
		{"bad signup", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    issuer: https://idp.example.com
    signup: maybe
`, `portico.yaml:6: identity_providers[0].signup: want true or false, got "maybe"`},
		{"unset secret variable", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    client_secret: ${NO_SUCH_SECRET}
    issuer: https://idp.example.com
`, "portico.yaml:5: identity_providers[0].client_secret: environment variable NO_SUCH_SECRET is not set"},
		{"duplicate", `identity_providers:
  - name: corp
    type: oidc
    client_id: x
    issuer: https://idp.example.com
  - name: Corp
    type: oidc
    client_id: y
    issuer: https://idp.example.com
`, "portico.yaml:6: identity_providers[1].name: identity provider Corp is already used at line 2"},
		{"a list", `identity_providers:
  name: corp
`, "portico.yaml:2: identity_providers: want a list, got a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.file)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if got := err.Error(); got != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestIdentityProvidersApply(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := Config{Store: s, Getenv: envOf(idpEnv)}
	path := writeConfig(t, idpConfig)

	p, err := plan(t, path, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `+ identity_provider corp
+ identity_provider shop
+ identity_provider dex
Plan: 3 to add, 0 to change, 0 to delete.
`
	if got := diffText(t, p); got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	if err := Apply(ctx, p, c); err != nil {
		t.Fatal(err)
	}
	corp, err := s.FindIdentityProviderByName(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	if corp.Type != portal.IdentityProviderEntra || corp.ClientID != idpEnv["IDP_CLIENT_ID"] || corp.ClientSecret != idpEnv["IDP_SECRET"] ||
		corp.Tenant != "organizations" || strings.Join(corp.AllowedTenants, ",") != "aaaa-1111,bbbb-2222" ||
		corp.Authority != "https://login.microsoftonline.us" || corp.DisplayName != "Contoso staff" || !corp.SignUp || corp.Scopes != nil {
		t.Fatalf("corp = %+v", corp)
	}
	shop, err := s.FindIdentityProviderByName(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if shop.Type != portal.IdentityProviderExternalID || shop.SignUp || shop.ClientSecret != "" || shop.Tenant != "contoso.onmicrosoft.com" {
		t.Fatalf("shop = %+v", shop)
	}
	dex, err := s.FindIdentityProviderByName(ctx, "dex")
	if err != nil {
		t.Fatal(err)
	}
	if dex.Issuer != "http://127.0.0.1:5556/dex" || strings.Join(dex.Scopes, " ") != "openid email groups" || dex.ClientSecret != idpEnv["DEX_SECRET"] {
		t.Fatalf("dex = %+v", dex)
	}

	// The same file again is no change, with or without --prune.
	v := version(t, s)
	for _, prune := range []bool{false, true} {
		p, err := plan(t, path, c, PlanOptions{Prune: prune})
		if err != nil {
			t.Fatal(err)
		}
		if got := diffText(t, p); got != "No changes.\n" {
			t.Fatalf("prune=%t: second plan:\n%s", prune, got)
		}
	}

	// The export leaves the secrets out, loads without the environment
	// and applies as no change; the stored secrets stay.
	var out bytes.Buffer
	if err := Export(ctx, c, &out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	exported := out.String()
	noSecrets(t, "export", exported)
	if strings.Contains(exported, "client_secret:") {
		t.Fatalf("export has a client_secret key:\n%s", exported)
	}
	for _, w := range []string{"identity_providers:\n  - name: corp\n    type: entra\n", "    allowed_tenants:\n      - aaaa-1111\n", "issuer: http://127.0.0.1:5556/dex", "    signup: false\n"} {
		if !strings.Contains(exported, w) {
			t.Fatalf("export lacks %q:\n%s", w, exported)
		}
	}
	again := filepath.Join(t.TempDir(), "exported.yaml")
	if err := os.WriteFile(again, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p = mustApply(t, again, Config{Store: s, Getenv: envOf(nil)}, PlanOptions{Prune: true})
	if !p.Empty() {
		t.Fatalf("plan of the export:\n%s\nexport:\n%s", diffText(t, p), exported)
	}
	if got := version(t, s); got != v {
		t.Fatalf("Version moved from %d to %d", v, got)
	}
	for name, secret := range map[string]string{"corp": idpEnv["IDP_SECRET"], "dex": idpEnv["DEX_SECRET"]} {
		if got, err := s.FindIdentityProviderByName(ctx, name); err != nil || got.ClientSecret != secret {
			t.Fatalf("%s lost its secret: %v", name, err)
		}
	}
}

// TestIdentityProvidersChange edits the applied file in one place and
// checks the diff, that applying converges, and that secrets never show.
func TestIdentityProvidersChange(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		env      map[string]string
		want     string
		check    func(t *testing.T, s portal.Store)
	}{
		{name: "issuer", old: "issuer: http://127.0.0.1:5556/dex", new: "issuer: https://dex.example.com",
			want: "~ identity_provider dex: issuer http://127.0.0.1:5556/dex -> https://dex.example.com\n"},
		{name: "allowed tenants", old: "allowed_tenants: [AAAA-1111, bbbb-2222]", new: "allowed_tenants: [aaaa-1111]",
			want: "~ identity_provider corp: allowed_tenants [aaaa-1111, bbbb-2222] -> [aaaa-1111]\n"},
		{name: "signup", old: "    signup: false\n", new: "",
			want: "~ identity_provider shop: signup false -> true\n"},
		{name: "secret rotated", env: idpEnvWith("DEX_SECRET", "rotated-secret-do-not-print"),
			want: "~ identity_provider dex: client_secret (changed)\n",
			check: func(t *testing.T, s portal.Store) {
				if p, _ := s.FindIdentityProviderByName(context.Background(), "dex"); p.ClientSecret != "rotated-secret-do-not-print" {
					t.Fatalf("secret not rotated: %q", p.ClientSecret)
				}
			}},
		{name: "secret left out is kept", old: "    client_secret: ${DEX_SECRET}\n", new: "",
			check: func(t *testing.T, s portal.Store) {
				if p, _ := s.FindIdentityProviderByName(context.Background(), "dex"); p.ClientSecret != idpEnv["DEX_SECRET"] {
					t.Fatalf("secret lost: %q", p.ClientSecret)
				}
			}},
		{name: "secret and scopes", old: "scopes: [openid, email, groups]", new: "scopes: [openid]", env: idpEnvWith("DEX_SECRET", "rotated-secret-do-not-print"),
			want: "~ identity_provider dex: scopes [openid, email, groups] -> [openid]\n~ identity_provider dex: client_secret (changed)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			path := writeConfig(t, idpConfig)
			mustApply(t, path, Config{Store: s, Getenv: envOf(idpEnv)}, PlanOptions{})

			content := idpConfig
			if tt.old != "" {
				if !strings.Contains(content, tt.old) {
					t.Fatalf("%q not in the config", tt.old)
				}
				content = strings.Replace(content, tt.old, tt.new, 1)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			env := idpEnv
			if tt.env != nil {
				env = tt.env
			}
			c := Config{Store: s, Getenv: envOf(env)}
			p, err := plan(t, path, c, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := diffText(t, p)
			want := "No changes.\n"
			if tt.want != "" {
				want = tt.want + "Plan: 0 to add, 1 to change, 0 to delete.\n"
			}
			if got != want {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
			}
			noSecrets(t, "diff", got)
			if err := Apply(ctx, p, c); err != nil {
				t.Fatal(err)
			}
			if p, err = plan(t, path, c, PlanOptions{}); err != nil {
				t.Fatal(err)
			} else if !p.Empty() {
				t.Fatalf("after applying, plan:\n%s", diffText(t, p))
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestIdentityProvidersPrune(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		prune bool
		want  string
		left  string
	}{
		{name: "section present", prune: true, file: `identity_providers:
  - name: dex
    type: oidc
    client_id: portal
    issuer: http://127.0.0.1:5556/dex
    scopes: [openid, email, groups]
`, want: `- identity_provider corp
- identity_provider shop
Plan: 0 to add, 0 to change, 2 to delete.
`, left: "dex"},
		{name: "empty section", prune: true, file: "identity_providers: []\n", want: `- identity_provider corp
- identity_provider dex
- identity_provider shop
Plan: 0 to add, 0 to change, 3 to delete.
`, left: ""},
		{name: "section absent", prune: true, file: "apis: []\n", want: "No changes.\n", left: "corp,dex,shop"},
		{name: "without prune", file: "identity_providers: []\n", want: "No changes.\n", left: "corp,dex,shop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			c := Config{Store: s, Getenv: envOf(idpEnv)}
			mustApply(t, writeConfig(t, idpConfig), c, PlanOptions{})
			p := mustApply(t, writeConfig(t, tt.file), c, PlanOptions{Prune: tt.prune})
			if got := diffText(t, p); got != tt.want {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
			all, err := s.FindIdentityProviders(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range all {
				names = append(names, p.Name)
			}
			if got := strings.Join(names, ","); got != tt.left {
				t.Fatalf("left %q, want %q", got, tt.left)
			}
		})
	}
}

// TestIdentityProvidersRenameByPrune: the file matches providers by name,
// so renaming one is a new provider plus the old one pruned. The
// identities linked through the old one stay with their accounts, keyed
// by issuer and subject, so a sign-in through the new provider (same
// issuer) reaches the same account; they keep naming the old provider,
// which the profile shows as no longer offered.
func TestIdentityProvidersRenameByPrune(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := Config{Store: s, Getenv: envOf(idpEnv)}
	mustApply(t, writeConfig(t, idpConfig), c, PlanOptions{})
	u := &portal.User{Email: "olive@example.com", Name: "Olive", Role: portal.RoleDeveloper, State: portal.UserActive}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIdentity(ctx, &portal.Identity{UserID: u.ID, Provider: "dex", Issuer: "http://127.0.0.1:5556/dex", Subject: "olive"}); err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(idpConfig, "  - name: dex\n", "  - name: dex2\n", 1)
	p := mustApply(t, writeConfig(t, renamed), c, PlanOptions{Prune: true})
	if got, want := diffText(t, p), "+ identity_provider dex2\n- identity_provider dex\nPlan: 1 to add, 0 to change, 1 to delete.\n"; got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	i, err := s.FindIdentity(ctx, "http://127.0.0.1:5556/dex", "olive")
	if err != nil || i.UserID != u.ID || i.Provider != "dex" {
		t.Fatalf("identity after the rename by prune = %+v, %v", i, err)
	}
}

// TestApplyKeepsAWayIn: a file after which password sign-in is off and no
// identity provider is left is refused at the key that turns sign-in off
// (or the providers section that prunes the last one), and writes
// nothing; with a provider left it applies.
func TestApplyKeepsAWayIn(t *testing.T) {
	ctx := context.Background()
	signInOff := "portal:\n  basic_auth:\n    signin: false\n"
	tests := []struct {
		name, setup, file string
		prune             bool
		want              string // "" applies
	}{
		{name: "sign-in off, no provider", file: signInOff,
			want: ":3: portal.basic_auth.signin: nobody could sign in"},
		{name: "sign-in off, providers stored", setup: idpConfig, file: signInOff},
		{name: "sign-in off with a provider in the file", file: signInOff + idpConfig},
		{name: "pruning the last provider with sign-in off", setup: idpConfig + signInOff, file: "identity_providers: []\n", prune: true,
			want: ": identity_providers: nobody could sign in"},
		{name: "pruning providers with sign-in on", setup: idpConfig, file: "identity_providers: []\n", prune: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			c := Config{Store: s, Getenv: envOf(idpEnv)}
			if tt.setup != "" {
				mustApply(t, writeConfig(t, tt.setup), c, PlanOptions{})
			}
			before := version(t, s)
			_, err := plan(t, writeConfig(t, tt.file), c, PlanOptions{Prune: tt.prune})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if version(t, s) != before {
				t.Fatal("the refused file changed the store")
			}
			settings, err := s.FindSettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ps, _ := s.FindIdentityProviders(ctx); !settings.BasicAuth.SignIn && len(ps) == 0 {
				t.Fatal("the store is left without a way in")
			}
		})
	}
}
