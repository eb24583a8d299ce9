package portal

import (
	"context"
	"time"
)

// Mail is a message kept in the outbox: what the portal would have sent
// when no mail server is configured, for administrators to read (and, in
// development, to follow the links in).
type Mail struct {
	ID        int64
	To        []string
	Subject   string
	Text      string
	HTML      string
	CreatedAt time.Time
}

// MailFilter pages the outbox, newest first. Limit 0 means 50.
type MailFilter struct {
	Offset, Limit int
}

// OutboxService keeps the outbox. Like the denials log, it does not change
// the store's Version.
type OutboxService interface {
	// AddMail stores m and sets its ID and, when zero, CreatedAt.
	AddMail(ctx context.Context, m *Mail) error
	// FindMails returns a page of the outbox and the total.
	FindMails(ctx context.Context, f MailFilter) ([]*Mail, int, error)
}
