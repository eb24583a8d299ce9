package mail_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/internal/smtptest"
	"github.com/porticoapi/portico/mail"
)

func render(t *testing.T, kind, to string, d mail.Data) *mail.Message {
	t.Helper()
	tm, err := mail.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	m, err := tm.Render(kind, to, d)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSMTP delivers through a real SMTP server in each of its modes.
func TestSMTP(t *testing.T) {
	link := "https://portal.example.com/confirm/signup?token=abc&x=1"
	for _, tc := range []struct {
		name     string
		opts     smtptest.Options
		scheme   string
		userinfo string
		wantTLS  bool
	}{
		{"plain relay", smtptest.Options{}, "smtp", "", false},
		{"STARTTLS and AUTH", smtptest.Options{StartTLS: true, Users: map[string]string{"portal": "s3cret pass"}}, "smtp", "portal:s3cret%20pass@", true},
		{"implicit TLS", smtptest.Options{Implicit: true, Users: map[string]string{"portal": "pw"}}, "smtps", "portal:pw@", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.New(t, tc.opts)
			s, err := mail.NewSMTP(mail.SMTPConfig{
				URL: tc.scheme + "://" + tc.userinfo + srv.Addr, From: "portico@example.com",
				TLS: &tls.Config{RootCAs: srv.RootCAs, ServerName: "localhost"},
			})
			if err != nil {
				t.Fatal(err)
			}
			m := render(t, mail.ConfirmSignup, "dev@example.com", mail.Data{SiteTitle: "Contoso APIs", Name: "Dee", Link: link, ValidFor: "48 hours"})
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 1)[0]
			if got.From != "portico@example.com" || len(got.To) != 1 || got.To[0] != "dev@example.com" || got.TLS != tc.wantTLS {
				t.Fatalf("envelope = from %q to %q, TLS %v", got.From, got.To, got.TLS)
			}
			if got.Subject != "Confirm your email address for Contoso APIs" {
				t.Fatalf("subject = %q", got.Subject)
			}
			if !strings.Contains(got.Text, "Hello Dee,") || !strings.Contains(got.Text, link) || !strings.Contains(got.Text, "48 hours") {
				t.Fatalf("text part = %q", got.Text)
			}
			// The HTML part escapes the link's & in the attribute and text.
			if !strings.Contains(got.HTML, `href="https://portal.example.com/confirm/signup?token=abc&amp;x=1"`) {
				t.Fatalf("html part = %q", got.HTML)
			}
			for _, h := range []string{"Date", "Message-Id", "Mime-Version"} {
				if got.Header.Get(h) == "" {
					t.Fatalf("header %s missing", h)
				}
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	ctx := context.Background()
	m := &mail.Message{To: []string{"dev@example.com"}, Subject: "Hi", Text: "hello"}

	// Wrong credentials: the server's refusal comes back.
	srv := smtptest.New(t, smtptest.Options{StartTLS: true, Users: map[string]string{"portal": "right"}})
	s, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://portal:wrong@" + srv.Addr, From: "portico@example.com",
		TLS: &tls.Config{RootCAs: srv.RootCAs, ServerName: "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, m); err == nil || !strings.Contains(err.Error(), "authentication") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: %v", err)
	}

	// A certificate the client does not trust is refused.
	s, _ = mail.NewSMTP(mail.SMTPConfig{URL: "smtp://" + srv.Addr, From: "portico@example.com"})
	if err := s.Send(ctx, m); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("untrusted certificate: %v", err)
	}

	// Nobody listening: an error within the timeout, not a hang.
	s, _ = mail.NewSMTP(mail.SMTPConfig{URL: "smtp://127.0.0.1:1", From: "portico@example.com", Timeout: 2 * time.Second})
	if err := s.Send(ctx, m); err == nil {
		t.Fatal("sent to a closed port")
	}

	// Header injection through a recipient or the subject is refused
	// before anything is sent.
	for _, bad := range []*mail.Message{
		{To: []string{"dev@example.com\r\nBcc: victim@example.com"}, Subject: "x", Text: "x"},
		{To: []string{"Dee <dev@example.com>"}, Subject: "x", Text: "x"},
		{To: []string{"dev@example.com"}, Subject: "x\r\nBcc: victim@example.com", Text: "x"},
		{Subject: "no one", Text: "x"},
	} {
		if err := s.Send(ctx, bad); err == nil {
			t.Fatalf("sent %+v", bad)
		}
	}
}

func TestParseSMTPURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"smtp://mail.example.com":          true,
		"smtps://u:p@mail.example.com:465": true,
		"http://mail.example.com":          false,
		"smtp://":                          false,
		"smtp://mail.example.com/path":     false,
		"smtp://mail.example.com?x=1":      false,
	} {
		_, err := mail.ParseSMTPURL(raw)
		if (err == nil) != ok {
			t.Errorf("ParseSMTPURL(%q) = %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), ":p@") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

func TestTemplates(t *testing.T) {
	d := mail.Data{SiteTitle: "Contoso APIs", Name: "Dee", Link: "https://portal.example.com/x", ValidFor: "48 hours",
		Product: "Gold", Subscription: "dee-gold", Comment: "Welcome <b>aboard</b>", Requester: "dee@example.com", Provider: "Contoso staff"}
	for _, kind := range []string{mail.ConfirmSignup, mail.ConfirmProviderSignup, mail.ResetPassword, mail.Invitation, mail.SubscriptionApproved, mail.SubscriptionRejected, mail.ApprovalPending} {
		m := render(t, kind, "dee@example.com", d)
		if m.Subject == "" || strings.Contains(m.Subject, "\n") || !strings.Contains(m.Text, d.Link) || !strings.Contains(m.HTML, d.Link) {
			t.Fatalf("%s = %+v", kind, m)
		}
		if strings.Contains(m.HTML, "<b>aboard</b>") {
			t.Fatalf("%s: the HTML part does not escape data", kind)
		}
	}
	// A name with a line break cannot make a second subject line.
	tm, _ := mail.NewTemplates()
	m, err := tm.Render(mail.SubscriptionApproved, "dee@example.com", mail.Data{Product: "Gold\r\nBcc: x@example.com"})
	if err != nil || strings.ContainsAny(m.Subject, "\r\n") {
		t.Fatalf("subject = %q, %v", m.Subject, err)
	}
}
