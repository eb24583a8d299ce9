package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Message is one email, in plain text and HTML.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// validate checks the recipients and that no header value can inject
// another header.
func (m *Message) validate() error {
	if len(m.To) == 0 {
		return fmt.Errorf("mail: no recipient")
	}
	for _, to := range m.To {
		a, err := mail.ParseAddress(to)
		if err != nil || a.Name != "" || strings.ContainsAny(to, "\r\n") {
			return fmt.Errorf("mail: %q is not a plain email address", to)
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("mail: the subject holds a line break")
	}
	return nil
}

// encode writes m as an RFC 5322 message from from: multipart/alternative
// with a quoted-printable text part and HTML part, CRLF line ends.
func (m *Message) encode(from string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	boundary := randomHex(16)
	host := "portico"
	if _, domain, ok := strings.Cut(from, "@"); ok && domain != "" {
		host = domain
	}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", strings.Join(m.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+randomHex(16)+"@"+host+">")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		if part.body == "" {
			continue
		}
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.typ)
		w := quotedprintable.NewWriter(&b)
		if _, err := w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(part.body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
