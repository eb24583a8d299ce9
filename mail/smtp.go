package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// DefaultSMTPTimeout bounds one delivery, from dial to QUIT.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig is what an SMTP sender needs.
type SMTPConfig struct {
	// URL is smtp://[user:pass@]host[:port] (port 587 by default; STARTTLS
	// whenever the server offers it) or smtps://[user:pass@]host[:port]
	// (port 465, TLS from the first byte).
	URL  string
	From string // the sender address
	// TLS is the client TLS configuration; nil: the system roots and the
	// URL's host name.
	TLS     *tls.Config
	Timeout time.Duration // 0: DefaultSMTPTimeout
	Now     func() time.Time
}

// SMTP delivers messages to a mail server.
type SMTP struct {
	addr, host string
	implicit   bool
	user, pass string
	from       string
	tls        *tls.Config
	timeout    time.Duration
	now        func() time.Time
}

// ParseSMTPURL checks an --smtp-url value; the error says what is wrong
// without repeating the password.
func ParseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, errors.New("the scheme must be smtp:// or smtps://")
	}
	if u.Hostname() == "" {
		return nil, errors.New("a host is required")
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("no path, query or fragment is allowed")
	}
	return u, nil
}

// NewSMTP checks c and returns a sender. It does not connect.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	u, err := ParseSMTPURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp url: %w", err)
	}
	if _, err := parseFrom(c.From); err != nil {
		return nil, err
	}
	s := &SMTP{host: u.Hostname(), implicit: u.Scheme == "smtps", from: c.From, tls: c.TLS, timeout: c.Timeout, now: c.Now}
	port := u.Port()
	if port == "" {
		port = "587"
		if s.implicit {
			port = "465"
		}
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if s.tls == nil {
		s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultSMTPTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func parseFrom(from string) (string, error) {
	if from == "" || strings.ContainsAny(from, "\r\n<>") || !strings.Contains(from, "@") {
		return "", fmt.Errorf("mail: sender %q is not a plain email address", from)
	}
	return from, nil
}

// Send delivers m. Credentials are sent only over TLS (net/smtp's PLAIN
// refuses otherwise, except to localhost).
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	data, err := m.encode(s.from, s.now())
	if err != nil {
		return fmt.Errorf("mail: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", s.addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// Closing the connection when ctx ends unblocks any read or write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if s.implicit {
		conn = tls.Client(conn, s.tls)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: %s: EHLO: %w", s.addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(s.tls); err != nil {
			return fmt.Errorf("mail: %s: STARTTLS: %w", s.addr, err)
		}
	}
	if s.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return fmt.Errorf("mail: %s: authentication: %w", s.addr, err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("mail: %s: MAIL FROM: %w", s.addr, err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("mail: %s: RCPT TO %s: %w", s.addr, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: %s: DATA: %w", s.addr, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("mail: %s: DATA: %w", s.addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: %s: DATA: %w", s.addr, err)
	}
	return c.Quit()
}
