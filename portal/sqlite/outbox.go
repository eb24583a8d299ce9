package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/porticoapi/portico/portal"
)

// AddMail stores m outside Store.change: the outbox is a log.
func (s *Store) AddMail(ctx context.Context, m *portal.Mail) error {
	if len(m.To) == 0 {
		return portal.Errorf(portal.EINVALID, "A mail needs a recipient.")
	}
	to, err := json.Marshal(m.To)
	if err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.nowUTC()
	}
	res, err := s.writer.ExecContext(ctx, `INSERT INTO outbox (recipients, subject, text_body, html_body, created_at)
		VALUES (?, ?, ?, ?, ?)`, string(to), m.Subject, m.Text, m.HTML, formatTime(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	return nil
}

// FindMails returns a page of the outbox, newest first, and the total.
func (s *Store) FindMails(ctx context.Context, f portal.MailFilter) ([]*portal.Mail, int, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var total int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("find mails: %w", err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT id, recipients, subject, text_body, html_body, created_at
		FROM outbox ORDER BY id DESC LIMIT ? OFFSET ?`, limit, max(f.Offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("find mails: %w", err)
	}
	defer rows.Close()
	var mails []*portal.Mail
	for rows.Next() {
		m := &portal.Mail{}
		var to string
		if err := rows.Scan(&m.ID, &to, &m.Subject, &m.Text, &m.HTML, timeDest{&m.CreatedAt}); err != nil {
			return nil, 0, fmt.Errorf("find mails: %w", err)
		}
		if err := json.Unmarshal([]byte(to), &m.To); err != nil {
			return nil, 0, fmt.Errorf("find mails: recipients of mail %d: %w", m.ID, err)
		}
		mails = append(mails, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find mails: %w", err)
	}
	return mails, total, nil
}
