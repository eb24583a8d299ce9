package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options shape the server.
type Options struct {
	StartTLS bool              // offer STARTTLS
	Implicit bool              // TLS from the first byte (smtps)
	Users    map[string]string // PLAIN credentials; nil: no AUTH
	// Hold, when not nil, keeps each message's DATA unanswered until it
	// is closed (at most 10 seconds): a slow mail server.
	Hold <-chan struct{}
}

// Server is a running SMTP server.
type Server struct {
	Addr string
	// RootCAs trusts the server's certificate (for TLS modes).
	RootCAs *x509.CertPool

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
	users    map[string]string
	hold     <-chan struct{}
	holding  chan struct{}
}

// Message is one received message.
type Message struct {
	From     string
	To       []string
	Raw      []byte
	Header   mail.Header
	Subject  string
	Text     string
	HTML     string
	Username string // who authenticated, or ""
	TLS      bool   // whether the session was encrypted
}

// New starts a server on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1000), users: o.Users, hold: o.Hold, holding: make(chan struct{}, 1000)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = !o.StartTLS && !o.Implicit
	if o.StartTLS || o.Implicit {
		cert, pool := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.RootCAs = pool
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.Implicit {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	s.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Holding waits until a message is being held (Options.Hold), failing
// the test after 5 seconds.
func (s *Server) Holding(t testing.TB) {
	t.Helper()
	select {
	case <-s.holding:
	case <-time.After(5 * time.Second):
		t.Fatal("smtptest: no message is being held")
	}
}

// Wait returns the first n messages, failing the test after 5 seconds.
func (s *Server) Wait(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if m := s.Messages(); len(m) >= n {
			return m[:n]
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("smtptest: %d messages arrived, want %d", len(s.Messages()), n)
		}
	}
}

type session struct {
	s        *Server
	conn     *smtp.Conn
	from     string
	to       []string
	username string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if want, ok := ss.s.users[username]; !ok || want != password {
			return errors.New("invalid credentials")
		}
		ss.username = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.users != nil && ss.username == "" {
		return &smtp.SMTPError{Code: 530, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.hold != nil {
		ss.s.holding <- struct{}{}
		select {
		case <-ss.s.hold:
		case <-time.After(10 * time.Second):
		}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	m := Message{From: ss.from, To: ss.to, Raw: raw, Username: ss.username, TLS: isTLS}
	if err := decode(&m); err != nil {
		return &smtp.SMTPError{Code: 554, Message: "undecodable message: " + err.Error()}
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, m)
	ss.s.mu.Unlock()
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// decode parses the header, the subject and the text and HTML parts.
func decode(m *Message) error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return err
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return err
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		b, err := io.ReadAll(msg.Body)
		m.Text = string(b)
		return err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return err
		}
		body := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch typ, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); typ {
		case "text/plain":
			m.Text = body
		case "text/html":
			m.HTML = body
		}
	}
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
