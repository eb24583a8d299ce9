package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/porticoapi/portico/migrations"
	"github.com/porticoapi/portico/portal"
)

// Config configures a Store.
type Config struct {
	// Path is the database file. Its directory is created when missing.
	Path string
	// Keys hashes and seals subscription keys so that none is stored in
	// plain text.
	Keys portal.KeyProtector
	// Now is the clock behind every stored time; time.Now when nil.
	Now func() time.Time
}

// Store is portal.Store on a SQLite file. It is safe for concurrent use, and
// several Stores (in one process or several) may share one file.
type Store struct {
	// writer has a single connection: SQLite allows one writer at a time,
	// and queueing in database/sql is cheaper and fairer than spinning on
	// SQLITE_BUSY. Its transactions BEGIN IMMEDIATE so that a transaction
	// that reads before it writes cannot fail to upgrade its lock.
	writer *sql.DB
	// reader is a pool of query-only connections; in WAL mode they read
	// the last committed state while the writer works.
	reader *sql.DB

	keys       portal.KeyProtector
	now        func() time.Time
	migrations []migrations.Migration
}

var _ portal.Store = (*Store)(nil)

// Open opens (creating when missing) the database file. It does not change
// the schema: call Migrate.
func Open(ctx context.Context, c Config) (*Store, error) {
	if c.Path == "" {
		return nil, errors.New("sqlite: database path required")
	}
	if strings.ContainsAny(c.Path, "?#") {
		// The driver reads everything after '?' as its own parameters.
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", c.Path)
	}
	if c.Keys == nil {
		return nil, errors.New("sqlite: a key protector is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	ms, err := migrations.List(migrations.SQLite())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create database directory: %w", err)
	}
	// The file holds password hashes and sealed keys: create it readable by
	// the owner only. SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(c.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	f.Close()

	writer, err := sql.Open("sqlite", dsn(c.Path, url.Values{"_txlock": {"immediate"}}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", c.Path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	// Connecting now makes a bad path fail at start and switches a new file
	// to WAL before any reader opens it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", c.Path, err)
	}

	// query_only turns an accidental write through the read pool into an
	// error instead of a second writer.
	reader, err := sql.Open("sqlite", dsn(c.Path, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", c.Path, err)
	}
	n := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)

	return &Store{writer: writer, reader: reader, keys: c.Keys, now: c.Now, migrations: ms}, nil
}

// dsn builds a modernc.org/sqlite data source name. busy_timeout comes first
// so that the pragmas after it, journal_mode in particular, wait for a lock
// held by another process instead of failing with SQLITE_BUSY. WAL lets
// readers work while one connection writes; foreign keys carry the cascading
// deletes; synchronous=NORMAL is durable enough under WAL (a power cut may
// lose the last commits, never corrupt the file) and much faster than FULL.
func dsn(path string, extra url.Values) string {
	q := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	if len(extra) > 0 {
		q += "&" + extra.Encode()
	}
	return path + "?" + q
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.writer.Close(), s.reader.Close())
}

// Ready reports whether the file can be read and every migration this
// binary knows is applied. /readyz uses it.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	applied, err := appliedMigrations(ctx, s.reader)
	if err != nil {
		return err
	}
	for _, m := range s.migrations {
		if !applied[m.Version] {
			return fmt.Errorf("sqlite: migration %s is not applied", m.Name)
		}
	}
	return nil
}

// view runs fn in a read-only transaction, so that the queries of one call
// see one snapshot.
func (s *Store) view(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// change runs fn in a write transaction and bumps the store version in the
// same transaction, so that a cache never sees a change without the new
// version or the reverse. Every write but sessions goes through it.
func (s *Store) change(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := bumpVersion(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// nowUTC is the injected clock's time as stored (UTC, without monotonic
// reading), so that a struct filled on write equals the one read back.
func (s *Store) nowUTC() time.Time { return s.now().UTC() }

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that the text
// of two times sorts as the times do (time.RFC3339Nano drops trailing zeros
// and does not).
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatNullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// timeDest scans a stored time into *t.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*d.t = t.UTC()
	return nil
}

// nullTimeDest scans a nullable stored time into *t, nil for NULL.
type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(v any) error {
	if v == nil {
		*d.t = nil
		return nil
	}
	var t time.Time
	if err := (timeDest{&t}).Scan(v); err != nil {
		return err
	}
	*d.t = &t
	return nil
}

// where joins conditions with AND; empty when there are none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// page returns the LIMIT and OFFSET clause of a filter; SQLite reads a
// negative limit as none.
func page(offset, limit int) string {
	if limit <= 0 {
		limit = -1
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, max(offset, 0))
}

// searchText returns the lower-cased search text of a filter, for instr()
// on lower()ed columns. SQLite's lower() folds ASCII only, so the search is
// case-insensitive for ASCII letters.
func searchText(q string) string { return strings.ToLower(strings.TrimSpace(q)) }

// jsonIDs encodes ids for `IN (SELECT value FROM json_each(?))`, which
// passes any number of ids as one parameter.
func jsonIDs(ids []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", id)
	}
	b.WriteByte(']')
	return b.String()
}
