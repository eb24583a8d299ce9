package configfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/porticoapi/portico/portal"
	"go.yaml.in/yaml/v3"
)

// ExportOptions change what Export writes.
type ExportOptions struct {
	// Dir, when set, makes an export that applies from anywhere: the
	// config goes to Dir/portico.yaml (not to w) and each API's OpenAPI
	// document to Dir/specs/{api}.yaml or .json, to which the config's
	// openapi keys point. Without Dir, openapi is the stored location,
	// relative to the directory of the file it was applied from.
	Dir string
}

// exportHeader opens every export. It matters: an exported file applied
// as it is must not wipe the secrets it leaves out.
const exportHeader = `# Portico configuration, exported from the store.
#
# Secrets are redacted: user passwords, subscription keys, the backend
# password, client_secret and certificate key of APIs, and the
# client_secret of identity providers are left out. Applying this file
# keeps the stored ones (a new subscription gets new keys); add password,
# primary_key, secondary_key, client_secret or key_pem (as ${ENV_NAME}) or
# key_file to set them. A symmetric validate_jwt
# signing key is written as "(stored symmetric key N)": applying keeps that
# stored key; remove the line to drop it. CA files are written inline as
# ca_certificates, backend certificates as cert_pem.
`

// The shape of an exported file. Keys that Load fills from elsewhere when
// absent (an API's display_name and description come from its spec) are
// always written, so that the export applies as no change.
type (
	xFile struct {
		Portal            xPortal             `yaml:"portal"`
		IdentityProviders []xIdentityProvider `yaml:"identity_providers"`
		APIs              []xAPI              `yaml:"apis"`
		Products          []xProduct          `yaml:"products"`
		Users             []xUser             `yaml:"users"`
		Subscriptions     []xSubscription     `yaml:"subscriptions"`
	}
	xPortal struct {
		Title           string     `yaml:"title"`
		AnonymousAccess string     `yaml:"anonymous_access"`
		BasicAuth       xBasicAuth `yaml:"basic_auth"`
		TermsOfUse      string     `yaml:"terms_of_use"`
		InvitationTTL   string     `yaml:"invitation_ttl"`
		Session         xSession   `yaml:"session"`
	}
	xBasicAuth struct {
		SignIn              bool     `yaml:"signin"`
		SignUp              bool     `yaml:"signup"`
		EmailConfirmation   bool     `yaml:"email_confirmation"`
		AllowedEmailDomains []string `yaml:"allowed_email_domains"`
		MinPasswordLength   int      `yaml:"min_password_length,omitempty"`
	}
	xSession struct {
		IdleTimeout     string `yaml:"idle_timeout"`
		AbsoluteTimeout string `yaml:"absolute_timeout"`
	}
	xAPI struct {
		Name                 string     `yaml:"name"`
		DisplayName          string     `yaml:"display_name"`
		Description          string     `yaml:"description"`
		Path                 string     `yaml:"path"`
		OpenAPI              string     `yaml:"openapi,omitempty"`
		Backend              xBackend   `yaml:"backend"`
		SubscriptionRequired bool       `yaml:"subscription_required"`
		SubscriptionKey      xKeyNames  `yaml:"subscription_key"`
		Policies             *xPolicies `yaml:"policies,omitempty"`
	}
	xBackend struct {
		URL     string        `yaml:"url"`
		Timeout string        `yaml:"timeout"`
		Auth    *xBackendAuth `yaml:"auth,omitempty"`
	}
	xKeyNames struct {
		Header string `yaml:"header"`
		Query  string `yaml:"query"`
	}
	xProduct struct {
		Name                 string      `yaml:"name"`
		DisplayName          string      `yaml:"display_name,omitempty"`
		Description          string      `yaml:"description,omitempty"`
		Terms                string      `yaml:"terms,omitempty"`
		APIs                 []string    `yaml:"apis"`
		State                string      `yaml:"state"`
		SubscriptionRequired bool        `yaml:"subscription_required"`
		ApprovalRequired     bool        `yaml:"approval_required"`
		SubscriptionsLimit   int         `yaml:"subscriptions_limit"`
		RateLimit            *xRateLimit `yaml:"rate_limit,omitempty"`
	}
	xRateLimit struct {
		Calls  int    `yaml:"calls"`
		Period string `yaml:"period"`
	}
	xUser struct {
		Email string `yaml:"email"`
		Name  string `yaml:"name"`
		Role  string `yaml:"role"`
		State string `yaml:"state"`
	}
	xSubscription struct {
		Name         string `yaml:"name"`
		DisplayName  string `yaml:"display_name,omitempty"`
		Owner        string `yaml:"owner,omitempty"`
		Scope        string `yaml:"scope"`
		State        string `yaml:"state"`
		StateComment string `yaml:"state_comment,omitempty"`
		ExpiresAt    string `yaml:"expires_at,omitempty"`
	}
)

// exportAPI returns the file form of an API, without its OpenAPI location
// and without secrets.
func exportAPI(a *portal.API) xAPI {
	return xAPI{
		Name: a.Name, DisplayName: esc(a.DisplayName), Description: esc(a.Description), Path: a.Path,
		OpenAPI:              esc(a.Spec.Location),
		Backend:              xBackend{URL: esc(a.Backend.URL), Timeout: formatDuration(a.Backend.Timeout), Auth: exportBackendAuth(a.Backend.Auth)},
		SubscriptionRequired: a.SubscriptionRequired,
		SubscriptionKey:      xKeyNames{Header: esc(a.KeyHeader), Query: esc(a.KeyQuery)},
		Policies:             exportPolicies(&a.Policies),
	}
}

// Export writes the store's configuration as a config file that Load
// accepts and that applies to the same store as no change. Passwords and
// subscription keys are never written.
func Export(ctx context.Context, c Config, w io.Writer, opts ExportOptions) error {
	if c.Store == nil {
		return errors.New("configfile: Config.Store is nil")
	}
	st, err := readStore(ctx, c.Store)
	if err != nil {
		return err
	}
	s := st.settings
	out := xFile{
		Portal: xPortal{
			Title:           esc(s.Title),
			AnonymousAccess: string(s.AnonymousAccess),
			BasicAuth: xBasicAuth{
				// Stores still hold sign-up on with password sign-in off
				// (saved before CheckSignUp, treated as off); the file must
				// say off, or it would not apply back.
				SignIn: s.BasicAuth.SignIn, SignUp: s.BasicAuth.SignUp && s.BasicAuth.SignIn, EmailConfirmation: s.BasicAuth.EmailConfirmation,
				AllowedEmailDomains: escAll(s.BasicAuth.AllowedEmailDomains),
				MinPasswordLength:   s.BasicAuth.MinPasswordLength,
			},
			TermsOfUse:    esc(s.TermsOfUse),
			InvitationTTL: formatDuration(s.InvitationTTL),
			Session:       xSession{IdleTimeout: formatDuration(s.Session.IdleTimeout), AbsoluteTimeout: formatDuration(s.Session.AbsoluteTimeout)},
		},
		IdentityProviders: []xIdentityProvider{},
		APIs:              []xAPI{}, Products: []xProduct{}, Users: []xUser{}, Subscriptions: []xSubscription{},
	}
	for _, n := range st.idpNames {
		out.IdentityProviders = append(out.IdentityProviders, exportIdentityProvider(st.idps[n]))
	}
	specs := map[string][]byte{} // file name under Dir -> document
	for _, n := range st.apiNames {
		a := st.apis[n]
		x := exportAPI(a)
		if opts.Dir != "" && a.Spec.Location != "" {
			doc, _, err := c.Store.FindAPISpec(ctx, a.Name)
			if err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
				return fmt.Errorf("read OpenAPI document of %s: %w", a.Name, err)
			}
			if len(doc) == 0 {
				x.OpenAPI = ""
			} else {
				name := "specs/" + a.Name + specExtension(doc)
				specs[name] = doc
				x.OpenAPI = name
			}
		}
		out.APIs = append(out.APIs, x)
	}
	for _, n := range st.productNames {
		p := st.products[n]
		x := xProduct{
			Name: p.Name, DisplayName: esc(p.DisplayName), Description: esc(p.Description), Terms: esc(p.Terms),
			APIs: append([]string{}, p.APIs...), State: string(p.State), SubscriptionRequired: p.SubscriptionRequired,
			ApprovalRequired: p.ApprovalRequired, SubscriptionsLimit: p.SubscriptionsLimit,
		}
		if rl := p.RateLimit; rl != nil {
			x.RateLimit = &xRateLimit{Calls: rl.Calls, Period: formatDuration(rl.Period)}
		}
		out.Products = append(out.Products, x)
	}
	for _, e := range st.userEmails {
		u := st.users[e]
		out.Users = append(out.Users, xUser{Email: esc(u.Email), Name: esc(u.Name), Role: string(u.Role), State: string(u.State)})
	}
	for _, n := range st.subNames {
		s := st.subs[n]
		x := xSubscription{
			Name: s.Name, DisplayName: esc(s.DisplayName), Owner: esc(s.OwnerEmail), Scope: s.Scope.String(),
			State: string(s.State), StateComment: esc(s.StateComment),
		}
		if s.ExpiresAt != nil {
			x.ExpiresAt = s.ExpiresAt.UTC().Truncate(time.Second).Format(time.RFC3339)
		}
		out.Subscriptions = append(out.Subscriptions, x)
	}

	var buf bytes.Buffer
	buf.WriteString(exportHeader)
	if opts.Dir != "" {
		buf.WriteString("# The OpenAPI documents are in specs/ beside this file.\n")
	}
	buf.WriteString("\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if opts.Dir == "" {
		_, err := w.Write(buf.Bytes())
		return err
	}
	if len(specs) > 0 {
		if err := os.MkdirAll(filepath.Join(opts.Dir, "specs"), 0o755); err != nil {
			return err
		}
	}
	for name, doc := range specs {
		if err := os.WriteFile(filepath.Join(opts.Dir, filepath.FromSlash(name)), doc, 0o644); err != nil {
			return err
		}
	}
	// The file lists every account, so it is kept private like the store.
	return os.WriteFile(filepath.Join(opts.Dir, "portico.yaml"), buf.Bytes(), 0o600)
}

// esc protects text that contains ${ from substitution when read back.
func esc(s string) string { return escapeEnv(s) }

func escAll(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, esc(s))
	}
	return out
}

// specExtension tells a JSON document from a YAML one by its first byte.
func specExtension(doc []byte) string {
	if b := bytes.TrimSpace(doc); len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return ".json"
	}
	return ".yaml"
}
