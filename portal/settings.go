package portal

import (
	"context"
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

// Validate checks the settings and lower-cases the allowed domains.
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
	for i, d := range s.BasicAuth.AllowedEmailDomains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		if d == "" || strings.ContainsAny(d, "@ /") {
			return Errorf(EINVALID, "Allowed email domain %q is not a domain name.", s.BasicAuth.AllowedEmailDomains[i])
		}
		s.BasicAuth.AllowedEmailDomains[i] = d
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

// SettingsService reads and writes the portal settings.
type SettingsService interface {
	// FindSettings returns the stored settings, or DefaultSettings when
	// none were saved.
	FindSettings(ctx context.Context) (*Settings, error)
	// UpdateSettings validates and replaces the settings. Returns EINVALID.
	UpdateSettings(ctx context.Context, s *Settings) error
}
