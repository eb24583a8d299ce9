package configfile

import (
	"strings"

	"github.com/porticoapi/portico/portal"
	"go.yaml.in/yaml/v3"
)

// The identity_providers section: OpenID Connect providers developers
// sign in with (portal.IdentityProvider), matched by name. client_secret
// is a secret: never in a diff or an export, and left out it keeps the
// stored one.

var idpKeys = keys{known: []string{"name", "type", "display_name", "client_id", "client_secret", "tenant", "allowed_tenants",
	"authority", "issuer", "scopes", "signup"}}

type idpEntry struct {
	entry
	idp       portal.IdentityProvider
	secretSet bool // the file gave client_secret; Plan keeps the stored one otherwise
}

func (d *decoder) identityProvider(n *yaml.Node, path string) *idpEntry {
	e := &idpEntry{entry: newEntry(n, path)}
	p := &e.idp
	p.SignUp = true
	before := d.errs.len()
	typeSet := false
	if !d.fields(n, path, idpKeys, func(key string, kn, vn *yaml.Node, kp string) {
		e.lines[key] = kn.Line
		switch key {
		case "name":
			d.setStr(vn, kp, &p.Name)
		case "type":
			typeSet = true
			d.enum(vn, kp, (*string)(&p.Type), string(portal.IdentityProviderEntra), string(portal.IdentityProviderExternalID), string(portal.IdentityProviderOIDC))
		case "display_name":
			d.setStr(vn, kp, &p.DisplayName)
		case "client_id":
			d.setStr(vn, kp, &p.ClientID)
		case "client_secret":
			e.secretSet = d.setStr(vn, kp, &p.ClientSecret) && p.ClientSecret != ""
		case "tenant":
			d.setStr(vn, kp, &p.Tenant)
		case "allowed_tenants":
			p.AllowedTenants = d.strs(vn, kp)
		case "authority":
			d.setStr(vn, kp, &p.Authority)
		case "issuer":
			d.setStr(vn, kp, &p.Issuer)
		case "scopes":
			p.Scopes = d.strs(vn, kp)
		case "signup":
			d.boolean(vn, kp, &p.SignUp)
		}
	}) {
		return nil
	}
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		d.errs.addf(e.line, path, "name required")
	case !portal.ValidName(p.Name):
		d.errs.addf(e.lines["name"], path+".name", "identity provider name %q must be 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit", p.Name, portal.MaxNameLength)
	}
	if !typeSet {
		d.errs.addf(e.line, path, "type required (entra, external-id or oidc)")
	}
	if d.errs.len() == before {
		if err := p.Validate(); err != nil {
			line, key := e.at(e.keyOf(portal.ErrorMessage(err)))
			d.errs.add(line, key, err)
		}
	}
	return e
}

// keyOf names the key a message of portal.IdentityProvider.Validate is
// about, so that the error points at its line; "" points at the object
// (a key that is missing).
func (e *idpEntry) keyOf(msg string) string {
	_, msg, _ = strings.Cut(msg, ": ") // "Identity provider corp: ..."
	present := func(keys ...string) string {
		for _, k := range keys {
			if _, ok := e.lines[k]; ok {
				return k
			}
		}
		return ""
	}
	switch {
	case strings.HasPrefix(msg, "type "):
		return "type"
	case strings.HasPrefix(msg, "display name"):
		return "display_name"
	case strings.HasPrefix(msg, "client id"):
		return present("client_id")
	case strings.HasPrefix(msg, "client secret"):
		return "client_secret"
	case strings.HasPrefix(msg, "authority "):
		return "authority"
	case strings.HasPrefix(msg, "tenant \""):
		return "tenant"
	case strings.HasPrefix(msg, "issuer "), strings.HasSuffix(msg, "not an issuer."):
		return "issuer"
	case strings.HasPrefix(msg, "tenant, allowed tenants and authority"):
		return present("tenant", "allowed_tenants", "authority")
	case strings.HasPrefix(msg, "allowed tenant"):
		return "allowed_tenants"
	case strings.HasPrefix(msg, "scope "):
		return "scopes"
	}
	return ""
}

// want returns the provider to write and whether its client secret
// changes: without a client secret in the file, or with the stored one,
// ClientSecret is empty, which the store reads as "keep".
func (e *idpEntry) want(have *portal.IdentityProvider) (portal.IdentityProvider, bool) {
	want := e.idp
	want.AllowedTenants = append([]string(nil), e.idp.AllowedTenants...)
	want.Scopes = append([]string(nil), e.idp.Scopes...)
	changed := e.secretSet && (have == nil || have.ClientSecret != want.ClientSecret)
	if !changed {
		want.ClientSecret = ""
	}
	return want, changed
}

func identityProviderDiff(have, want *portal.IdentityProvider) *diff {
	d := &diff{kind: "identity_provider", name: want.Name}
	d.str("type", string(have.Type), string(want.Type))
	d.str("display_name", have.DisplayName, want.DisplayName)
	d.str("client_id", have.ClientID, want.ClientID)
	d.str("tenant", have.Tenant, want.Tenant)
	d.list("allowed_tenants", have.AllowedTenants, want.AllowedTenants)
	d.str("authority", have.Authority, want.Authority)
	d.str("issuer", have.Issuer, want.Issuer)
	d.list("scopes", have.Scopes, want.Scopes)
	d.boolean("signup", have.SignUp, want.SignUp)
	return d
}

// xIdentityProvider is an identity provider in an export: no client
// secret.
type xIdentityProvider struct {
	Name           string   `yaml:"name"`
	Type           string   `yaml:"type"`
	DisplayName    string   `yaml:"display_name,omitempty"`
	ClientID       string   `yaml:"client_id"`
	Tenant         string   `yaml:"tenant,omitempty"`
	AllowedTenants []string `yaml:"allowed_tenants,omitempty"`
	Authority      string   `yaml:"authority,omitempty"`
	Issuer         string   `yaml:"issuer,omitempty"`
	Scopes         []string `yaml:"scopes,omitempty"`
	SignUp         bool     `yaml:"signup"`
}

func exportIdentityProvider(p *portal.IdentityProvider) xIdentityProvider {
	x := xIdentityProvider{
		Name: p.Name, Type: string(p.Type), DisplayName: esc(p.DisplayName), ClientID: esc(p.ClientID),
		Tenant: esc(p.Tenant), Authority: esc(p.Authority), Issuer: esc(p.Issuer), SignUp: p.SignUp,
	}
	if len(p.AllowedTenants) > 0 {
		x.AllowedTenants = escAll(p.AllowedTenants)
	}
	if len(p.Scopes) > 0 {
		x.Scopes = escAll(p.Scopes)
	}
	return x
}
