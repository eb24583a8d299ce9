package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/porticoapi/portico/portal"
)

// Denials are a log written by the gateway in batches; like sessions they
// are written outside Store.change so that they never bump the version.

// maxDenialDetail bounds a stored detail; details are short by design.
const maxDenialDetail = 500

// RecordDenials inserts a batch of denials in one transaction.
func (s *Store) RecordDenials(ctx context.Context, ds []portal.Denial) error {
	if len(ds) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record denials: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO denials (request_id, at, api, subscription_id, status, reason, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("record denials: %w", err)
	}
	defer stmt.Close()
	for _, d := range ds {
		var sub any
		if d.SubscriptionID != 0 {
			sub = d.SubscriptionID
		}
		if d.At.IsZero() {
			d.At = s.nowUTC()
		}
		detail := d.Detail
		if len(detail) > maxDenialDetail {
			detail = detail[:maxDenialDetail]
		}
		if _, err := stmt.ExecContext(ctx, d.RequestID, formatTime(d.At), d.API, sub, d.Status, d.Reason, detail); err != nil {
			return fmt.Errorf("record denials: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record denials: %w", err)
	}
	return nil
}

// FindDenials returns the denials matching f, newest first.
func (s *Store) FindDenials(ctx context.Context, f portal.DenialFilter) ([]portal.Denial, error) {
	q := `SELECT request_id, at, api, coalesce(subscription_id, 0), status, reason, detail FROM denials WHERE 1 = 1`
	var args []any
	if f.RequestID != "" {
		q += ` AND request_id = ?`
		args = append(args, f.RequestID)
	}
	if f.SubscriptionID != 0 {
		q += ` AND subscription_id = ?`
		args = append(args, f.SubscriptionID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find denials: %w", err)
	}
	defer rows.Close()
	var ds []portal.Denial
	for rows.Next() {
		var d portal.Denial
		if err := rows.Scan(&d.RequestID, timeDest{&d.At}, &d.API, &d.SubscriptionID, &d.Status, &d.Reason, &d.Detail); err != nil {
			return nil, fmt.Errorf("find denials: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find denials: %w", err)
	}
	return ds, nil
}

// DeleteDenialsBefore removes denials older than t.
func (s *Store) DeleteDenialsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM denials WHERE at < ?`, formatTime(t))
	if err != nil {
		return 0, fmt.Errorf("delete denials: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
