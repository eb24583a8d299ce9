package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	keys, err := keyring.New(bytes.Repeat([]byte{3}, keyring.MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "p.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	o := &mail.Outbox{Store: store, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	m := render(t, mail.Invitation, "new@example.com", mail.Data{SiteTitle: "Contoso", Link: "https://portal.example.com/confirm/invitation?token=t1", ValidFor: "48 hours"})
	if err := o.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, total, err := store.FindMails(ctx, portal.MailFilter{})
	if err != nil || total != 1 {
		t.Fatalf("outbox = %d mails, %v", total, err)
	}
	if got[0].To[0] != "new@example.com" || got[0].Subject != m.Subject || got[0].Text != m.Text || got[0].HTML != m.HTML {
		t.Fatalf("outbox mail = %+v", got[0])
	}
	if !strings.Contains(log.String(), "token=t1") {
		t.Fatalf("the log does not show the mail's link: %s", log.String())
	}
	if err := o.Send(ctx, &mail.Message{To: []string{"a@example.com\nBcc: b@example.com"}, Subject: "x"}); err == nil {
		t.Fatal("the outbox kept a mail with an injected header")
	}
}
