package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/porticoapi/portico/portal"
)

// conflict is the one place that reads SQLite's UNIQUE violations: it turns
// one into ECONFLICT with a message naming obj (the object being written),
// and wraps any other error with op. Checking inside the statement rather
// than with a SELECT first leaves no gap for another process to fill.
func conflict(ctx context.Context, tx *sql.Tx, err error, op string, obj any) error {
	target, ok := uniqueTarget(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch obj := obj.(type) {
	case *portal.User:
		return portal.Errorf(portal.ECONFLICT, "A user with the email %s already exists.", obj.Email)
	case *portal.API:
		if target == "apis.path" {
			// SQLite aborted only the failed statement, so the transaction
			// can still name the holder.
			var holder string
			if tx.QueryRowContext(ctx, `SELECT name FROM apis WHERE path = ? AND name <> ?`, obj.Path, obj.Name).Scan(&holder) == nil {
				return portal.Errorf(portal.ECONFLICT, "API %s: path %q is already used by API %s.", obj.Name, obj.Path, holder)
			}
			return portal.Errorf(portal.ECONFLICT, "API %s: path %q is already used by another API.", obj.Name, obj.Path)
		}
		return portal.Errorf(portal.ECONFLICT, "An API named %s already exists.", obj.Name)
	case *portal.Product:
		return portal.Errorf(portal.ECONFLICT, "A product named %s already exists.", obj.Name)
	case *portal.Subscription:
		if target == "subscription_keys.hash" {
			// Whose key it is stays unsaid: that would tell a caller who
			// guessed a key where it works.
			return portal.Errorf(portal.ECONFLICT, "Subscription %s: the key is already in use; choose another.", obj.Name)
		}
		return portal.Errorf(portal.ECONFLICT, "A subscription named %s already exists.", obj.Name)
	}
	return portal.Errorf(portal.ECONFLICT, "The change conflicts with an existing object.")
}

// uniqueTarget returns the "table.column" of a failed UNIQUE or PRIMARY KEY
// constraint, as SQLite names it in its message.
func uniqueTarget(err error) (string, bool) {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return "", false
	}
	if e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && e.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", false
	}
	_, target, _ := strings.Cut(e.Error(), "UNIQUE constraint failed: ")
	target, _, _ = strings.Cut(target, " (")
	return strings.TrimSpace(target), true
}

func notFound(format string, args ...any) error {
	return portal.Errorf(portal.ENOTFOUND, format, args...)
}
