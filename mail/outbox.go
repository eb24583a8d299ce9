package mail

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/porticoapi/portico/portal"
)

// OutboxStore is where Outbox keeps messages. portal.Store implements it.
type OutboxStore interface {
	AddMail(ctx context.Context, m *portal.Mail) error
}

// Outbox is the sender without a mail server: each message is kept in the
// store for the administrators' outbox page and written to the log, so
// that in development the links in it can be followed.
type Outbox struct {
	Store  OutboxStore
	Logger *slog.Logger
}

// Send keeps m in the outbox.
func (o *Outbox) Send(ctx context.Context, m *Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	if err := o.Store.AddMail(ctx, &portal.Mail{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML}); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if o.Logger != nil {
		o.Logger.InfoContext(ctx, "mail kept in the outbox (no --smtp-url)", "to", m.To, "subject", m.Subject, "text", m.Text)
	}
	return nil
}
