package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/porticoapi/portico/portal"
)

// settingsDocument is the stored JSON form of portal.Settings, with names of
// its own so that renaming a Go field does not silently lose a setting.
// Durations are Go duration strings.
type settingsDocument struct {
	Title           string `json:"title"`
	AnonymousAccess string `json:"anonymous_access"`
	BasicAuth       struct {
		SignIn              bool     `json:"signin"`
		SignUp              bool     `json:"signup"`
		EmailConfirmation   bool     `json:"email_confirmation"`
		AllowedEmailDomains []string `json:"allowed_email_domains"`
		MinPasswordLength   int      `json:"min_password_length,omitempty"`
	} `json:"basic_auth"`
	TermsOfUse    string `json:"terms_of_use"`
	InvitationTTL string `json:"invitation_ttl"`
	Session       struct {
		IdleTimeout     string `json:"idle_timeout"`
		AbsoluteTimeout string `json:"absolute_timeout"`
	} `json:"session"`
}

func encodeSettings(s *portal.Settings) settingsDocument {
	var d settingsDocument
	d.Title = s.Title
	d.AnonymousAccess = string(s.AnonymousAccess)
	d.BasicAuth.SignIn = s.BasicAuth.SignIn
	d.BasicAuth.SignUp = s.BasicAuth.SignUp
	d.BasicAuth.EmailConfirmation = s.BasicAuth.EmailConfirmation
	d.BasicAuth.AllowedEmailDomains = s.BasicAuth.AllowedEmailDomains
	d.BasicAuth.MinPasswordLength = s.BasicAuth.MinPasswordLength
	d.TermsOfUse = s.TermsOfUse
	d.InvitationTTL = s.InvitationTTL.String()
	d.Session.IdleTimeout = s.Session.IdleTimeout.String()
	d.Session.AbsoluteTimeout = s.Session.AbsoluteTimeout.String()
	return d
}

func decodeSettings(d settingsDocument) (*portal.Settings, error) {
	s := &portal.Settings{
		Title:           d.Title,
		AnonymousAccess: portal.AnonymousAccess(d.AnonymousAccess),
		BasicAuth: portal.BasicAuthSettings{
			SignIn:              d.BasicAuth.SignIn,
			SignUp:              d.BasicAuth.SignUp,
			EmailConfirmation:   d.BasicAuth.EmailConfirmation,
			AllowedEmailDomains: d.BasicAuth.AllowedEmailDomains,
			MinPasswordLength:   d.BasicAuth.MinPasswordLength,
		},
		TermsOfUse: d.TermsOfUse,
	}
	for _, f := range []struct {
		dst *time.Duration
		src string
	}{{&s.InvitationTTL, d.InvitationTTL}, {&s.Session.IdleTimeout, d.Session.IdleTimeout}, {&s.Session.AbsoluteTimeout, d.Session.AbsoluteTimeout}} {
		v, err := time.ParseDuration(f.src)
		if err != nil {
			return nil, fmt.Errorf("decode settings: %w", err)
		}
		*f.dst = v
	}
	return s, nil
}

// FindSettings returns the stored settings, or portal.DefaultSettings when
// none were saved.
func (s *Store) FindSettings(ctx context.Context) (*portal.Settings, error) {
	var doc []byte
	err := s.reader.QueryRowContext(ctx, `SELECT document FROM settings WHERE id = 1`).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		d := portal.DefaultSettings()
		return &d, nil
	} else if err != nil {
		return nil, fmt.Errorf("find settings: %w", err)
	}
	// Decoding over the defaults gives a member added after the document was
	// saved its default value.
	def := portal.DefaultSettings()
	d := encodeSettings(&def)
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("decode settings: %w", err)
	}
	return decodeSettings(d)
}

// UpdateSettings validates and replaces the settings. Returns EINVALID.
func (s *Store) UpdateSettings(ctx context.Context, settings *portal.Settings) error {
	if err := settings.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx) error { return saveSettings(ctx, tx, settings) })
}

func saveSettings(ctx context.Context, tx *sql.Tx, settings *portal.Settings) error {
	doc, err := json.Marshal(encodeSettings(settings))
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (id, document) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET document = excluded.document`, string(doc)); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}
