package views

import "github.com/porticoapi/portico/web/components"

// AdminOutboxView is the outbox: the mail the portal kept instead of
// sending, newest first.
type AdminOutboxView struct {
	Frame      AdminFrame
	Total      int
	Rows       []OutboxRow
	Pagination components.Pagination
	SMTP       bool // mail goes to a server; the outbox holds only older messages
}

// OutboxRow is one kept message.
type OutboxRow struct {
	To      string
	Subject string
	Sent    string
	Text    string
}
