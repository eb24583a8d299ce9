package web

import (
	"context"
	"fmt"

	"github.com/porticoapi/portico/mail"
)

// sendMail renders the message kind for to and sends it. path is the
// portal path the message links to ("/confirm/signup?token=..."); it is
// made absolute with the public URL, never with a request's Host header,
// so a forged Host cannot turn a reset link into a link to someone else.
// d.SiteTitle is filled from the settings when empty.
func (s *Server) sendMail(ctx context.Context, kind, to, path string, d mail.Data) error {
	if d.SiteTitle == "" {
		settings, err := s.store.FindSettings(ctx)
		if err != nil {
			return err
		}
		d.SiteTitle = settings.Title
	}
	d.Link = s.absoluteURL(path)
	m, err := s.mailText.Render(kind, to, d)
	if err != nil {
		return err
	}
	if err := s.mail.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s mail: %w", kind, err)
	}
	return nil
}

// absoluteURL makes a portal path absolute with the public URL.
func (s *Server) absoluteURL(path string) string {
	base := "http://localhost:8080"
	if s.publicURL != nil {
		base = s.publicURL.Scheme + "://" + s.publicURL.Host + s.publicURL.EscapedPath()
	}
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + path
}
