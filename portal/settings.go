package portal

import (
	"context"
	"slices"
	"strings"
	"time"
)

// AnonymousAccess says what anonymous visitors get.
type AnonymousAccess string

const (
	AnonymousAllow    AnonymousAccess = "allow"    // browse the catalogue without signing in
	AnonymousRedirect AnonymousAccess = "redirect" // every page but sign-in and sign-up redirects to sign-in
)

// Settings are the portal-wide options of the config file's portal section.
type Settings struct {
	Title           string
	AnonymousAccess AnonymousAccess
	BasicAuth       BasicAuthSettings
	TermsOfUse      string
	InvitationTTL   time.Duration
	Session         SessionSettings
}

// BasicAuthSettings governs username/password accounts.
type BasicAuthSettings struct {
	SignIn              bool
	SignUp              bool
	EmailConfirmation   bool
	AllowedEmailDomains []string // empty: any
	// MinPasswordLength is the fewest characters a new password may have:
	// 0 means the default, 8; an administrator may lower it to 6, as APIM
	// allows, or raise it up to 128.
	MinPasswordLength int
}

// SessionSettings bound how long a signed-in session lasts.
type SessionSettings struct {
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
}

// DefaultSettings are the settings of a new store.
func DefaultSettings() Settings {
	return Settings{
		Title:           "Portico",
		AnonymousAccess: AnonymousAllow,
		BasicAuth:       BasicAuthSettings{SignIn: true, SignUp: true, EmailConfirmation: true},
		InvitationTTL:   48 * time.Hour,
		Session:         SessionSettings{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour},
	}
}

// Validate checks the settings and normalizes the allowed domains
// (NormalizeEmailDomain), dropping repeats. It does not refuse self
// sign-up with password sign-in off (see CheckSignUp).
func (s *Settings) Validate() error {
	s.Title = strings.TrimSpace(s.Title)
	if s.Title == "" || len(s.Title) > 100 {
		return Errorf(EINVALID, "Portal title must be 1 to 100 characters.")
	}
	switch s.AnonymousAccess {
	case AnonymousAllow, AnonymousRedirect:
	default:
		return Errorf(EINVALID, "Anonymous access %q must be allow or redirect.", s.AnonymousAccess)
	}
	domains := make([]string, 0, len(s.BasicAuth.AllowedEmailDomains))
	for _, d := range s.BasicAuth.AllowedEmailDomains {
		n, err := NormalizeEmailDomain(d)
		if err != nil {
			return err
		}
		if !slices.Contains(domains, n) {
			domains = append(domains, n)
		}
	}
	if s.BasicAuth.AllowedEmailDomains != nil {
		s.BasicAuth.AllowedEmailDomains = domains
	}
	if n := s.BasicAuth.MinPasswordLength; n != 0 && (n < 6 || n > 128) {
		return Errorf(EINVALID, "Minimum password length must be between 6 and 128 characters.")
	}
	if s.InvitationTTL < time.Minute || s.InvitationTTL > 30*24*time.Hour {
		return Errorf(EINVALID, "Invitation lifetime must be between 1m and 720h.")
	}
	if s.Session.IdleTimeout < time.Minute || s.Session.AbsoluteTimeout < s.Session.IdleTimeout || s.Session.AbsoluteTimeout > 90*24*time.Hour {
		return Errorf(EINVALID, "Session timeouts need idle >= 1m and idle <= absolute <= 2160h.")
	}
	return nil
}

// NormalizeEmailDomain returns the allowed email domain d lower-cased,
// trimmed and without a leading "@", or EINVALID naming d. A domain is a
// host name: labels of letters, digits and hyphens (not first or last),
// 1 to 63 characters each, at least two of them, at most 253 characters
// in all. An international domain is given in its ASCII (xn--) form:
// sign-up compares the domain of an address as written, and the whole of
// it, so "*.contoso.com" is refused rather than silently never matching.
func NormalizeEmailDomain(d string) (string, error) {
	n := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	bad := func(why string) error {
		return Errorf(EINVALID, "Allowed email domain %q is not a domain name: %s", d, why)
	}
	switch {
	case n == "":
		return "", bad("it is empty.")
	case strings.HasPrefix(n, "*."):
		return "", bad("wildcards are not supported; list each domain, such as contoso.com and eu.contoso.com.")
	case strings.Contains(n, ","):
		return "", bad("give one domain per entry, such as contoso.com.")
	}
	for _, r := range n {
		if r > 127 {
			return "", bad("write an international domain in its ASCII form (xn--...).")
		}
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "", bad("use letters, digits, hyphens and dots only, such as contoso.com.")
		}
	}
	if len(n) > 253 {
		return "", bad("it is longer than 253 characters.")
	}
	labels := strings.Split(n, ".")
	if len(labels) < 2 {
		return "", bad("it needs a dot, such as contoso.com.")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", bad("each part between dots must be 1 to 63 characters.")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("a part between dots cannot start or end with a hyphen.")
		}
	}
	return n, nil
}

// CheckSignUp refuses self sign-up turned on while password sign-in is
// off: sign-up makes password accounts, so it would be offered nowhere and
// do nothing. The settings form and the config file call it; stores do
// not, so that settings saved before the rule still load (sign-up is then
// treated as off).
func (s *Settings) CheckSignUp() error {
	if s.BasicAuth.SignUp && !s.BasicAuth.SignIn {
		return Errorf(EINVALID, "Self sign-up needs sign-in with email and password: turn self sign-up off too, or keep password sign-in on.")
	}
	return nil
}

// SettingsService reads and writes the portal settings.
type SettingsService interface {
	// FindSettings returns the stored settings, or DefaultSettings when
	// none were saved.
	FindSettings(ctx context.Context) (*Settings, error)
	// UpdateSettings validates and replaces the settings. Returns EINVALID.
	UpdateSettings(ctx context.Context, s *Settings) error
}

// EmailDomainAllowed reports whether email's domain is in allowed (lower
// case, as Settings.Validate leaves BasicAuth.AllowedEmailDomains); an
// empty list allows any. Password and identity provider sign-ups share
// this one rule.
func EmailDomainAllowed(email string, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range allowed {
		if domain == d {
			return true
		}
	}
	return false
}
