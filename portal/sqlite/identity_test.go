package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/porticoapi/portico/migrations"
)

// TestMigrateIdentitiesConfirmed: a file made before identities had a
// confirmed mark gets one. Until then a pending account's identities were
// unconfirmed by that rule alone (a provider sign-up the provider did not
// vouch for), so they start unconfirmed; every other identity stays
// confirmed.
func TestMigrateIdentitiesConfirmed(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations.List(migrations.SQLite())
	if err != nil {
		t.Fatal(err)
	}
	const before = 5 // the last migration without identities.confirmed
	if len(ms) <= before || ms[before].Name != "0006_identities_confirmed.sql" {
		t.Fatalf("migration %d is not 0006_identities_confirmed.sql: %+v", before+1, ms)
	}
	path := filepath.Join(t.TempDir(), "portico.db")
	db := rawDB(t, path)
	// The file as the release before wrote it: schema_migrations as
	// Migrate makes it and the first five migrations recorded there.
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:before] {
		if _, err := db.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00Z')`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	const at = "2026-01-01T00:00:00Z"
	for _, u := range []struct{ email, state, subject string }{
		{"pending@example.com", "pending", "stranger"},
		{"active@example.com", "active", "owner"},
		{"blocked@example.com", "blocked", "blocked"},
	} {
		res, err := db.ExecContext(ctx, `INSERT INTO users (email, name, role, state, password_hash, created_at, updated_at)
			VALUES (?, 'N', 'developer', ?, '', ?, ?)`, u.email, u.state, at, at)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if _, err := db.ExecContext(ctx, `INSERT INTO identities (user_id, provider, issuer, subject, email, created_at, last_used)
			VALUES (?, 'corp', 'https://idp.example.com', ?, '', ?, ?)`, id, u.subject, at, at); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, path, nil)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for subject, want := range map[string]bool{"stranger": true, "owner": false, "blocked": false} {
		i, err := s.FindIdentity(ctx, "https://idp.example.com", subject)
		if err != nil {
			t.Fatal(err)
		}
		if i.Unconfirmed != want {
			t.Fatalf("identity %s: unconfirmed %v after the migration, want %v", subject, i.Unconfirmed, want)
		}
	}
}
