package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/views"
)

// OutboxReader pages through the mail kept in the outbox. portal.Store
// implements it.
type OutboxReader interface {
	FindMails(ctx context.Context, f portal.MailFilter) ([]*portal.Mail, int, error)
}

// adminOutbox is the outbox's section of the administration.
const adminOutbox = "outbox"

// handleAdminOutbox lists the outbox, newest first: the mail the portal
// kept because no mail server is configured, so that an administrator can
// read it (and pass a confirmation link on by hand).
func (s *Server) handleAdminOutbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page, err := pageNumber(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	mails, total, err := s.store.FindMails(ctx, portal.MailFilter{Offset: (page - 1) * adminPageSize, Limit: adminPageSize})
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, outbox := s.mail.(*mail.Outbox)
	v := views.AdminOutboxView{
		Frame:      s.adminFrame(w, r, settings, adminOutbox, "Outbox"),
		Total:      total,
		SMTP:       !outbox,
		Pagination: pagination(page, total, adminOutboxURL),
	}
	for _, m := range mails {
		v.Rows = append(v.Rows, views.OutboxRow{
			To:      strings.Join(m.To, ", "),
			Subject: m.Subject,
			Sent:    formatTime(m.CreatedAt),
			Text:    m.Text,
		})
	}
	s.render(w, r, http.StatusOK, views.AdminOutboxPage(v))
}

func adminOutboxURL(page int) string {
	if page > 1 {
		return "/admin/outbox?page=" + strconv.Itoa(page)
	}
	return "/admin/outbox"
}
