package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Version returns the store version. It is read from the file on every
// call, never cached, because other processes sharing the file bump it.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.reader.QueryRowContext(ctx, `SELECT version FROM store_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read version: %w", err)
	}
	return v, nil
}

func bumpVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE store_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump version: %w", err)
	}
	return nil
}
