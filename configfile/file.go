package configfile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/openapi"
	"github.com/porticoapi/portico/portal"
	"go.yaml.in/yaml/v3"
)

// The keys of each mapping of the file. later holds keys of the format
// (CONTRACT.md section 3) that this version refuses as not supported yet.
var (
	topKeys = keys{
		known: []string{"portal", "identity_providers", "apis", "products", "users", "subscriptions"},
		later: []string{"authorization_servers"},
	}
	portalKeys    = keys{known: []string{"title", "anonymous_access", "basic_auth", "terms_of_use", "invitation_ttl", "session"}}
	basicAuthKeys = keys{known: []string{"signin", "signup", "email_confirmation", "allowed_email_domains", "min_password_length"}}
	sessionKeys   = keys{known: []string{"idle_timeout", "absolute_timeout"}}
	apiKeys       = keys{
		known: []string{"name", "display_name", "description", "path", "openapi", "backend", "subscription_required", "subscription_key", "policies", "policies_xml"},
		later: []string{"authorization_server", "scope"},
	}
	backendKeys   = keys{known: []string{"url", "timeout", "auth"}}
	keyNameKeys   = keys{known: []string{"header", "query"}}
	productKeys   = keys{known: []string{"name", "display_name", "description", "terms", "apis", "state", "subscription_required", "approval_required", "subscriptions_limit", "rate_limit"}}
	rateLimitKeys = keys{known: []string{"calls", "period"}}
	userKeys      = keys{known: []string{"email", "name", "role", "state", "password", "invite"}}
	subKeys       = keys{known: []string{"name", "display_name", "owner", "scope", "state", "state_comment", "primary_key", "secondary_key", "expires_at"}}
)

// File is a loaded and validated config file: the objects it declares,
// normalized as the store keeps them, with the line of every key for the
// messages of Plan.
type File struct {
	path string
	dir  string

	// sections holds the top-level sections present, even when empty:
	// Plan prunes only within them.
	sections map[string]bool

	settings *settingsEntry
	idps     []*idpEntry
	apis     []*apiEntry
	products []*productEntry
	users    []*userEntry
	subs     []*subEntry

	notes []*Error
}

// Path returns the path the file was loaded from.
func (f *File) Path() string { return f.path }

// Notes returns what the user should know about a file that loaded, one
// line each ("portico.yaml:12: apis[0].policies_xml: line 3:
// forward-request: ..."): things policies_xml converted with a caveat.
// They are not errors; `portico apply` may print them.
func (f *File) Notes() []string {
	out := make([]string, 0, len(f.notes))
	for _, n := range f.notes {
		out = append(out, n.Error())
	}
	return out
}

// entry is what every object of the file has: where it is.
type entry struct {
	key   string         // "apis[0]"
	line  int            // line of the object
	lines map[string]int // line of each key of the object: "name", "backend.url", "apis[1]"
}

func newEntry(n *yaml.Node, key string) entry {
	return entry{key: key, line: n.Line, lines: map[string]int{}}
}

// at returns the line and file key of one of the object's keys, or of the
// object itself when the key is absent.
func (e *entry) at(k string) (int, string) {
	if l, ok := e.lines[k]; ok {
		return l, e.key + "." + k
	}
	return e.line, e.key
}

type settingsEntry struct {
	entry
	settings portal.Settings
}

type apiEntry struct {
	entry
	api     portal.API
	openapi string // as written; "" when the API has no description
	// displaySet and descSet say whether the file gave display_name and
	// description; otherwise they come from the spec.
	displaySet, descSet bool
	ok                  bool // no problems so far, worth importing the spec
	// passwordSet, clientSecretSet and keySet say whether the file gave the
	// backend auth's secret; Plan keeps the stored one otherwise.
	passwordSet, clientSecretSet, keySet bool
}

type productEntry struct {
	entry
	product portal.Product
	apiKeys map[string]string // API name -> its key in the file, "apis[1]"
}

// apiAt returns the line and file key of one of the product's APIs.
func (e *productEntry) apiAt(name string) (int, string) {
	return e.at(e.apiKeys[name])
}

type userEntry struct {
	entry
	user        portal.User
	password    string // plaintext from the file; never printed
	hasPassword bool
	// invite: a new user is created pending, without a password, and
	// invited (Plan.Invitations); an existing one keeps its state.
	invite   bool
	hasState bool
}

type subEntry struct {
	entry
	sub portal.Subscription // PrimaryKey and SecondaryKey as given, or ""
}

// Load reads, parses and validates the config file at path without touching
// any store: ${ENV} substitution, types, unknown keys, each object's rules,
// duplicates and rules between objects of the file, and the import of every
// OpenAPI document. References to objects that may exist only in the store
// (a product's APIs, a subscription's owner and scope) are checked by Plan.
// All problems found are reported together, each as an *Error naming the
// file, line and key.
func Load(ctx context.Context, path string, c Config) (*File, error) {
	c = c.withDefaults()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	f := &File{path: path, dir: filepath.Dir(path), sections: map[string]bool{}}
	errs := &errorList{file: path}
	root, err := parseYAML(data)
	if err != nil {
		errs.add(yamlErrorLine(err), "", portal.Errorf(portal.EINVALID, "%s", strings.TrimPrefix(yamlErrorMessage(err), "yaml: ")))
		return nil, errs.err()
	}
	d := &decoder{errs: errs, getenv: c.Getenv, dir: f.dir}
	if root != nil {
		d.fields(root, "", topKeys, func(key string, kn, vn *yaml.Node, p string) {
			f.sections[key] = true
			switch key {
			case "portal":
				f.settings = d.settings(kn.Line, vn, p)
			case "identity_providers":
				d.list(vn, p, func(_ int, n *yaml.Node, p string) {
					if e := d.identityProvider(n, p); e != nil {
						f.idps = append(f.idps, e)
					}
				})
			case "apis":
				d.list(vn, p, func(_ int, n *yaml.Node, p string) {
					if e := d.api(n, p); e != nil {
						f.apis = append(f.apis, e)
					}
				})
			case "products":
				d.list(vn, p, func(_ int, n *yaml.Node, p string) {
					if e := d.product(n, p); e != nil {
						f.products = append(f.products, e)
					}
				})
			case "users":
				d.list(vn, p, func(_ int, n *yaml.Node, p string) {
					if e := d.user(n, p); e != nil {
						f.users = append(f.users, e)
					}
				})
			case "subscriptions":
				d.list(vn, p, func(_ int, n *yaml.Node, p string) {
					if e := d.subscription(n, p); e != nil {
						f.subs = append(f.subs, e)
					}
				})
			}
		})
	}
	f.notes = d.notes
	f.checkDuplicates(errs)
	for _, e := range f.apis {
		if e.ok {
			f.importSpec(ctx, c, e, errs)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseYAML returns the root node of the file's single document, or nil for
// an empty file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: a config file holds one YAML document; remove the ---", next.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func yamlErrorLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlErrorMessage(err error) string {
	return yamlLine.ReplaceAllString(err.Error(), "")
}

// setStr sets *dst to a string value; null leaves it unchanged. It reports
// whether the key gave a value.
func (d *decoder) setStr(n *yaml.Node, path string, dst *string) bool {
	s, _, ok := d.scalar(n, path, "a string")
	if ok {
		*dst = s
	}
	return ok
}

// settings decodes the portal section; line is that of its key, as the
// section has no name to point at.
func (d *decoder) settings(line int, n *yaml.Node, path string) *settingsEntry {
	e := &settingsEntry{entry: newEntry(n, path), settings: portal.DefaultSettings()}
	e.line = line
	s := &e.settings
	before := d.errs.len()
	d.fields(n, path, portalKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.lines[key] = kn.Line
		switch key {
		case "title":
			d.setStr(vn, p, &s.Title)
		case "anonymous_access":
			d.enum(vn, p, (*string)(&s.AnonymousAccess), string(portal.AnonymousAllow), string(portal.AnonymousRedirect))
		case "basic_auth":
			d.fields(vn, p, basicAuthKeys, func(key string, kn, vn *yaml.Node, p string) {
				e.lines["basic_auth."+key] = kn.Line
				switch key {
				case "signin":
					d.boolean(vn, p, &s.BasicAuth.SignIn)
				case "signup":
					d.boolean(vn, p, &s.BasicAuth.SignUp)
				case "email_confirmation":
					d.boolean(vn, p, &s.BasicAuth.EmailConfirmation)
				case "allowed_email_domains":
					s.BasicAuth.AllowedEmailDomains = d.emailDomains(vn, p)
				case "min_password_length":
					d.integer(vn, p, &s.BasicAuth.MinPasswordLength)
				}
			})
		case "terms_of_use":
			d.setStr(vn, p, &s.TermsOfUse)
		case "invitation_ttl":
			d.duration(vn, p, &s.InvitationTTL)
		case "session":
			d.fields(vn, p, sessionKeys, func(key string, _, vn *yaml.Node, p string) {
				switch key {
				case "idle_timeout":
					d.duration(vn, p, &s.Session.IdleTimeout)
				case "absolute_timeout":
					d.duration(vn, p, &s.Session.AbsoluteTimeout)
				}
			})
		}
	})
	if _, set := e.lines["basic_auth.signup"]; !set && !s.BasicAuth.SignIn {
		// Self sign-up makes password accounts: left out, it follows
		// password sign-in rather than its default, which would be refused.
		s.BasicAuth.SignUp = false
	}
	if d.errs.len() == before {
		if err := s.Validate(); err != nil {
			d.errs.add(e.line, path, err)
		} else if err := s.CheckSignUp(); err != nil {
			line, key := e.at("basic_auth.signup")
			d.errs.add(line, key, err)
		}
	}
	return e
}

// emailDomains decodes allowed_email_domains, each normalized, reporting
// a bad domain at its own line.
func (d *decoder) emailDomains(n *yaml.Node, path string) []string {
	var out []string
	d.list(n, path, func(_ int, item *yaml.Node, p string) {
		v, _, ok := d.scalar(item, p, "a string")
		if !ok {
			return
		}
		domain, err := portal.NormalizeEmailDomain(v)
		if err != nil {
			d.errs.add(item.Line, p, err)
			return
		}
		out = append(out, domain)
	})
	return out
}

func (d *decoder) api(n *yaml.Node, path string) *apiEntry {
	e := &apiEntry{entry: newEntry(n, path)}
	a := &e.api
	a.SubscriptionRequired = true
	before := d.errs.len()
	pathSet := false
	xmlText, xmlSet := "", false
	if !d.fields(n, path, apiKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.lines[key] = kn.Line
		switch key {
		case "name":
			d.setStr(vn, p, &a.Name)
		case "display_name":
			e.displaySet = d.setStr(vn, p, &a.DisplayName)
		case "description":
			e.descSet = d.setStr(vn, p, &a.Description)
		case "path":
			pathSet = d.setStr(vn, p, &a.Path)
		case "openapi":
			d.setStr(vn, p, &e.openapi)
		case "backend":
			d.fields(vn, p, backendKeys, func(key string, kn, vn *yaml.Node, p string) {
				e.lines["backend."+key] = kn.Line
				switch key {
				case "url":
					d.setStr(vn, p, &a.Backend.URL)
				case "timeout":
					d.duration(vn, p, &a.Backend.Timeout)
				case "auth":
					if !isNull(vn) {
						a.Backend.Auth = d.backendAuth(e, vn, p)
					}
				}
			})
		case "policies":
			d.policies(e, vn, p)
		case "policies_xml":
			xmlSet = d.setStr(vn, p, &xmlText)
		case "subscription_required":
			d.boolean(vn, p, &a.SubscriptionRequired)
		case "subscription_key":
			d.fields(vn, p, keyNameKeys, func(key string, kn, vn *yaml.Node, p string) {
				e.lines["subscription_key."+key] = kn.Line
				switch key {
				case "header":
					d.setStr(vn, p, &a.KeyHeader)
				case "query":
					d.setStr(vn, p, &a.KeyQuery)
				}
			})
		}
	}) {
		return nil
	}
	if !pathSet {
		a.Path = a.Name // the gateway serves an API at its name unless told otherwise
	}
	if xmlSet {
		d.policiesXML(e, xmlText)
	}
	a.Normalize()
	switch {
	case a.Name == "":
		d.errs.addf(e.line, path, "name required")
	case !portal.ValidName(a.Name):
		d.errs.addf(e.lines["name"], path+".name", "API name %q must be 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit", a.Name, portal.MaxNameLength)
	}
	if err := portal.ValidateAPIPath(a.Path); err != nil && a.Name != "" {
		line, key := e.at("path")
		d.errs.add(line, key, err)
	}
	if _, ok := e.lines["backend"]; !ok {
		d.errs.addf(e.line, path, "backend required (backend: {url: ...})")
	} else if err := portal.ValidateBackendURL(a.Backend.URL); err != nil {
		line, key := e.at("backend.url")
		d.errs.add(line, key, err)
	}
	if d.errs.len() == before {
		if err := e.validate(); err != nil {
			d.errs.add(e.line, path, err)
		}
	}
	if strings.HasPrefix(e.openapi, "upload:") {
		line, key := e.at("openapi")
		d.errs.addf(line, key, "%s was uploaded through the portal and has no file; export with a directory (portico export --dir) to get the document as a file", e.openapi)
	}
	e.ok = d.errs.len() == before
	return e
}

func (d *decoder) product(n *yaml.Node, path string) *productEntry {
	e := &productEntry{entry: newEntry(n, path), apiKeys: map[string]string{}}
	p := &e.product
	p.State = portal.ProductNotPublished
	p.SubscriptionRequired = true
	before := d.errs.len()
	if !d.fields(n, path, productKeys, func(key string, kn, vn *yaml.Node, kp string) {
		e.lines[key] = kn.Line
		switch key {
		case "name":
			d.setStr(vn, kp, &p.Name)
		case "display_name":
			d.setStr(vn, kp, &p.DisplayName)
		case "description":
			d.setStr(vn, kp, &p.Description)
		case "terms":
			d.setStr(vn, kp, &p.Terms)
		case "apis":
			d.list(vn, kp, func(i int, item *yaml.Node, ip string) {
				s, _, ok := d.scalar(item, ip, "an API name")
				if !ok {
					return
				}
				if !portal.ValidName(s) {
					d.errs.addf(item.Line, ip, "%q is not an API name", s)
					return
				}
				if slices.Contains(p.APIs, s) {
					d.errs.addf(item.Line, ip, "API %s is listed twice", s)
					return
				}
				k := fmt.Sprintf("apis[%d]", i)
				e.lines[k] = item.Line
				e.apiKeys[s] = k
				p.APIs = append(p.APIs, s)
			})
		case "state":
			d.enum(vn, kp, (*string)(&p.State), string(portal.ProductPublished), string(portal.ProductNotPublished))
		case "subscription_required":
			d.boolean(vn, kp, &p.SubscriptionRequired)
		case "approval_required":
			d.boolean(vn, kp, &p.ApprovalRequired)
		case "subscriptions_limit":
			d.integer(vn, kp, &p.SubscriptionsLimit)
		case "rate_limit":
			if isNull(resolve(vn)) {
				return
			}
			p.RateLimit = &portal.RateLimit{}
			d.fields(vn, kp, rateLimitKeys, func(key string, _, vn *yaml.Node, rp string) {
				switch key {
				case "calls":
					d.integer(vn, rp, &p.RateLimit.Calls)
				case "period":
					d.duration(vn, rp, &p.RateLimit.Period)
				}
			})
		}
	}) {
		return nil
	}
	slices.Sort(p.APIs) // stores keep them sorted; so does the comparison
	switch {
	case p.Name == "":
		d.errs.addf(e.line, path, "name required")
	case !portal.ValidName(p.Name):
		d.errs.addf(e.lines["name"], path+".name", "product name %q must be 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit", p.Name, portal.MaxNameLength)
	}
	if d.errs.len() == before {
		if err := p.Validate(); err != nil {
			d.errs.add(e.line, path, err)
		}
	}
	return e
}

func (d *decoder) user(n *yaml.Node, path string) *userEntry {
	e := &userEntry{entry: newEntry(n, path)}
	u := &e.user
	u.Role = portal.RoleDeveloper
	u.State = portal.UserActive
	before := d.errs.len()
	if !d.fields(n, path, userKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.lines[key] = kn.Line
		switch key {
		case "email":
			d.setStr(vn, p, &u.Email)
		case "name":
			d.setStr(vn, p, &u.Name)
		case "role":
			d.enum(vn, p, (*string)(&u.Role), string(portal.RoleAdmin), string(portal.RoleDeveloper))
		case "state":
			// pending is not written by hand, but an export holds it for
			// accounts awaiting confirmation, and must load again.
			d.enum(vn, p, (*string)(&u.State), string(portal.UserActive), string(portal.UserBlocked), string(portal.UserPending))
			e.hasState = true
		case "password":
			e.hasPassword = d.setStr(vn, p, &e.password)
		case "invite":
			d.boolean(vn, p, &e.invite)
		}
	}) {
		return nil
	}
	u.Email = portal.NormalizeEmail(u.Email)
	if u.Email == "" {
		d.errs.addf(e.line, path, "email required")
	} else if err := portal.ValidateEmail(u.Email); err != nil {
		d.errs.add(e.lines["email"], path+".email", err)
	}
	if e.invite {
		switch {
		case e.hasPassword:
			d.errs.addf(e.lines["invite"], path+".invite", "invite and password exclude each other: the invited person chooses their password")
		case e.hasState:
			d.errs.addf(e.lines["state"], path+".state", "an invited user is pending until they accept; leave state out")
		}
		u.State = portal.UserPending
	}
	if e.hasPassword {
		if err := auth.ValidatePassword(e.password, 0); err != nil {
			d.errs.add(e.lines["password"], path+".password", err)
		}
	}
	if d.errs.len() == before {
		if err := portal.ValidateUserName(strings.TrimSpace(u.Name)); err != nil {
			line, key := e.at("name")
			d.errs.add(line, key, err)
		} else if err := u.Validate(); err != nil {
			d.errs.add(e.line, path, err)
		}
	}
	return e
}

func (d *decoder) subscription(n *yaml.Node, path string) *subEntry {
	e := &subEntry{entry: newEntry(n, path)}
	s := &e.sub
	s.State = portal.SubscriptionActive
	before := d.errs.len()
	scopeSet := false
	if !d.fields(n, path, subKeys, func(key string, kn, vn *yaml.Node, p string) {
		e.lines[key] = kn.Line
		switch key {
		case "name":
			d.setStr(vn, p, &s.Name)
		case "display_name":
			d.setStr(vn, p, &s.DisplayName)
		case "owner":
			d.setStr(vn, p, &s.OwnerEmail)
		case "scope":
			var text string
			if scopeSet = d.setStr(vn, p, &text); scopeSet {
				sc, err := portal.ParseScope(text)
				if err != nil {
					d.errs.add(kn.Line, p, err)
				}
				s.Scope = sc
			}
		case "state":
			states := []string{"submitted", "active", "suspended", "rejected", "cancelled", "expired"}
			d.enum(vn, p, (*string)(&s.State), states...)
		case "state_comment":
			d.setStr(vn, p, &s.StateComment)
		case "primary_key", "secondary_key":
			dst := &s.PrimaryKey
			if key == "secondary_key" {
				dst = &s.SecondaryKey
			}
			if d.setStr(vn, p, dst) {
				if err := portal.ValidateKey(*dst); err != nil {
					d.errs.add(kn.Line, p, err)
				}
			}
		case "expires_at":
			var text string
			if d.setStr(vn, p, &text) && text != "" {
				t, err := time.Parse(time.RFC3339, text)
				if err != nil {
					d.errs.addf(kn.Line, p, "want an RFC 3339 time such as 2030-01-31T00:00:00Z, got %q", text)
					return
				}
				// One-second precision, so that what the store keeps
				// compares equal to the file on the next apply.
				t = t.UTC().Truncate(time.Second)
				s.ExpiresAt = &t
			}
		}
	}) {
		return nil
	}
	s.OwnerEmail = portal.NormalizeEmail(s.OwnerEmail)
	switch {
	case s.Name == "":
		d.errs.addf(e.line, path, "name required")
	case !portal.ValidName(s.Name):
		d.errs.addf(e.lines["name"], path+".name", "subscription name %q must be 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit", s.Name, portal.MaxNameLength)
	}
	if !scopeSet {
		d.errs.addf(e.line, path, "scope required (product:NAME, api:NAME or all)")
	}
	if s.OwnerEmail != "" {
		if err := portal.ValidateEmail(s.OwnerEmail); err != nil {
			d.errs.add(e.lines["owner"], path+".owner", err)
		}
	}
	if d.errs.len() == before {
		if err := s.Validate(); err != nil {
			d.errs.add(e.line, path, err)
		}
	}
	return e
}

// checkDuplicates enforces the rules between objects of the file alone:
// unique names, emails, API paths and subscription keys, and the
// one-open-product-per-API rule.
func (f *File) checkDuplicates(errs *errorList) {
	type seen struct {
		line int
		name string
	}
	unique := func(kind, field string, key func(i int) (string, *entry), n int) {
		first := map[string]seen{}
		for i := range n {
			k, e := key(i)
			if k == "" {
				continue
			}
			line, p := e.at(field)
			if prev, dup := first[strings.ToLower(k)]; dup {
				errs.conflictf(line, p, "%s %s is already used at line %d", kind, k, prev.line)
				continue
			}
			first[strings.ToLower(k)] = seen{line: line}
		}
	}
	unique("identity provider", "name", func(i int) (string, *entry) { return f.idps[i].idp.Name, &f.idps[i].entry }, len(f.idps))
	unique("API", "name", func(i int) (string, *entry) { return f.apis[i].api.Name, &f.apis[i].entry }, len(f.apis))
	unique("API path", "path", func(i int) (string, *entry) { return f.apis[i].api.Path, &f.apis[i].entry }, len(f.apis))
	unique("product", "name", func(i int) (string, *entry) { return f.products[i].product.Name, &f.products[i].entry }, len(f.products))
	unique("user", "email", func(i int) (string, *entry) { return f.users[i].user.Email, &f.users[i].entry }, len(f.users))
	unique("subscription", "name", func(i int) (string, *entry) { return f.subs[i].sub.Name, &f.subs[i].entry }, len(f.subs))

	keys := map[string]int{}
	for _, e := range f.subs {
		for _, k := range []struct{ field, key string }{{"primary_key", e.sub.PrimaryKey}, {"secondary_key", e.sub.SecondaryKey}} {
			if k.key == "" {
				continue
			}
			line, p := e.at(k.field)
			if prev, dup := keys[k.key]; dup {
				errs.conflictf(line, p, "this key is already used at line %d", prev)
				continue
			}
			keys[k.key] = line
		}
	}

	open := map[string]*productEntry{} // API name -> the open product holding it
	for _, e := range f.products {
		if e.product.SubscriptionRequired {
			continue
		}
		for _, a := range e.product.APIs {
			if prev, dup := open[a]; dup {
				line, p := e.apiAt(a)
				errs.conflictf(line, p, "API %s is already in open product %s (line %d); an API may be in at most one open product", a, prev.product.Name, prev.line)
				continue
			}
			open[a] = e
		}
	}
}

// importSpec reads the API's OpenAPI document and fills the operations and
// spec fields, and the display name and description when the file has
// none. Without openapi the API has no operations: it accepts any path.
func (f *File) importSpec(ctx context.Context, c Config, e *apiEntry, errs *errorList) {
	a := &e.api
	if e.openapi == "" {
		a.Operations = []portal.Operation{} // non-nil: clears operations of a stored API
		a.SpecDocument = []byte{}
		a.Spec = portal.SpecInfo{}
		a.Version = ""
		return
	}
	line, key := e.at("openapi")
	// Relative $refs resolve beside a local document; a fetched one may
	// not refer to other documents.
	baseDir := ""
	if !isURL(e.openapi) {
		baseDir = filepath.Dir(filepath.Join(f.dir, e.openapi))
	}
	data, err := openapi.Fetch(ctx, e.openapi, openapi.FetchOptions{BaseDir: f.dir, Client: c.HTTPClient})
	if err != nil {
		errs.add(line, key, err)
		return
	}
	doc, err := openapi.Parse(ctx, data, openapi.Options{Location: e.openapi, BaseDir: baseDir})
	if err != nil {
		errs.add(line, key, err)
		return
	}
	sum := sha256.Sum256(data)
	a.Operations = doc.Operations
	if a.Operations == nil {
		a.Operations = []portal.Operation{}
	}
	a.SpecDocument = data
	a.Spec = portal.SpecInfo{Location: e.openapi, Format: doc.Format, Digest: hex.EncodeToString(sum[:])}
	a.Version = doc.Version
	if !e.displaySet {
		a.DisplayName = doc.Title
	}
	if !e.descSet {
		a.Description = doc.Description
	}
	a.Normalize()
	if err := e.validate(); err != nil {
		errs.add(line, key, err)
	}
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
