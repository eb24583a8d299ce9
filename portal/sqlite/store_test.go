package sqlite_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/migrations"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/portaltest"
	"github.com/porticoapi/portico/portal/sqlite"
)

func openStore(t *testing.T, path string, now func() time.Time) *sqlite.Store {
	t.Helper()
	keys, err := keyring.New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), sqlite.Config{Path: path, Keys: keys, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portico.db")
	s := openStore(t, path, nil)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestStore(t *testing.T) {
	portaltest.RunStoreTests(t, func(t *testing.T) portal.Store {
		s, _ := newStore(t)
		return s
	})
}

// rawDB opens the file beside the store, to look at what it wrote.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "portico.db")
	s := openStore(t, path, nil)
	if err := s.Ready(ctx); err == nil || !strings.Contains(err.Error(), "0001_init.sql") {
		t.Fatalf("Ready before Migrate = %v, want an error naming the pending migration", err)
	}
	for i := range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after Migrate: %v", err)
	}
	ms, err := migrations.List(migrations.SQLite())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var mode string
	db := rawDB(t, path)
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if v, err := s.Version(ctx); err != nil || v != 0 {
		t.Fatalf("Version of a new store = %d, %v", v, err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portico.db")
	stores := []*sqlite.Store{openStore(t, path, nil), openStore(t, path, nil), openStore(t, path, nil)}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("Migrate in store %d: %v", i, errs[i])
		}
		if err := s.Ready(t.Context()); err != nil {
			t.Fatalf("Ready in store %d: %v", i, err)
		}
	}
}

func TestOpen(t *testing.T) {
	keys, _ := keyring.New(bytes.Repeat([]byte("k"), 32))
	dir := t.TempDir()
	tests := []struct {
		name string
		c    sqlite.Config
	}{
		{"no path", sqlite.Config{Keys: keys}},
		{"no keys", sqlite.Config{Path: filepath.Join(dir, "a.db")}},
		{"query in path", sqlite.Config{Path: filepath.Join(dir, "a.db?mode=ro"), Keys: keys}},
		{"directory in the way", sqlite.Config{Path: filepath.Join(dir, "file", "a.db"), Keys: keys}},
	}
	os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o600)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := sqlite.Open(t.Context(), tt.c); err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}

	t.Run("creates the directory and files private", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "nested", "portico.db")
		s := openStore(t, path, nil)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", filepath.Dir(path)} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Fatalf("%s has mode %v; want no access for group and others", p, perm)
			}
		}
	})
}

func TestSharedFile(t *testing.T) {
	ctx := t.Context()
	a, path := newStore(t)
	b := openStore(t, path, nil)
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("second store not ready on a migrated file: %v", err)
	}

	api := &portal.API{Name: "echo", Path: "echo", Backend: portal.Backend{URL: portal.BuiltinEcho}}
	if err := a.CreateAPI(ctx, api); err != nil {
		t.Fatal(err)
	}
	va, _ := a.Version(ctx)
	vb, _ := b.Version(ctx)
	if va == 0 || va != vb {
		t.Fatalf("versions after a write in A: A %d, B %d", va, vb)
	}
	if got, err := b.FindAPIByName(ctx, "echo"); err != nil || got.ID != api.ID {
		t.Fatalf("B does not see A's API: %+v, %v", got, err)
	}
	sub := &portal.Subscription{Name: "ci", Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "echo"}, State: portal.SubscriptionActive}
	if err := b.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Version(ctx); v <= va {
		t.Fatalf("A's version after B's write = %d, want more than %d", v, va)
	}
	if got, _, err := a.FindSubscriptionByKey(ctx, sub.PrimaryKey); err != nil || got.ID != sub.ID {
		t.Fatalf("A does not find B's key: %+v, %v", got, err)
	}

	// Both write at once; busy_timeout makes each wait for the other's lock.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i, s := range []*sqlite.Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 10 {
				u := &portal.User{Email: fmt.Sprintf("u%d-%d@example.com", i, j), Name: "U", Role: portal.RoleDeveloper, State: portal.UserActive}
				if err := s.CreateUser(ctx, u); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent writes from two stores: %v", err)
	}
	if _, total, err := b.FindUsers(ctx, portal.UserFilter{}); err != nil || total != 40 {
		t.Fatalf("users = %d, %v; want 40", total, err)
	}
}

// TestKeysNotInPlainText looks for the keys in the raw bytes of every file
// the store writes, while it is open (WAL not yet checkpointed) and after.
func TestKeysNotInPlainText(t *testing.T) {
	ctx := t.Context()
	s, path := newStore(t)
	primary, secondary := "PLAINTEXT-primary-key-0001", "PLAINTEXT-secondary-key-0002"
	if err := s.CreateUser(ctx, &portal.User{Email: "owner@example.com", Name: "O", Role: portal.RoleDeveloper, State: portal.UserActive}); err != nil {
		t.Fatal(err)
	}
	api := &portal.API{Name: "echo", Path: "echo", Backend: portal.Backend{URL: portal.BuiltinEcho}}
	if err := s.CreateAPI(ctx, api); err != nil {
		t.Fatal(err)
	}
	sub := &portal.Subscription{Name: "findable-subscription-name", OwnerEmail: "owner@example.com",
		Scope: portal.Scope{Kind: portal.ScopeAPI, Name: "echo"}, State: portal.SubscriptionActive,
		PrimaryKey: primary, SecondaryKey: secondary}
	if err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	regenerated, err := s.RegenerateSubscriptionKey(ctx, sub.ID, portal.PrimaryKey)
	if err != nil {
		t.Fatal(err)
	}
	applied := "PLAINTEXT-applied-key-0003"
	if err := s.Apply(ctx, &portal.ChangeSet{Subscriptions: []*portal.Subscription{{Name: "applied", Scope: portal.Scope{Kind: portal.ScopeAll},
		State: portal.SubscriptionActive, PrimaryKey: applied}}}); err != nil {
		t.Fatal(err)
	}

	scan := func(when string) {
		t.Helper()
		var all []byte
		entries, err := os.ReadDir(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(path), e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		// The scan must see what was written, or finding nothing proves nothing.
		if !bytes.Contains(all, []byte("findable-subscription-name")) {
			t.Fatalf("%s: the files do not contain the subscription's name; the scan sees nothing", when)
		}
		for _, k := range []string{primary, secondary, regenerated, applied} {
			if bytes.Contains(all, []byte(k)) {
				t.Fatalf("%s: key %q is stored in plain text", when, k)
			}
		}
	}
	scan("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	scan("closed")
}

func TestInjectedClock(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	path := filepath.Join(t.TempDir(), "portico.db")
	s := openStore(t, path, func() time.Time { return now })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := &portal.User{Email: "a@example.com", Name: "A", Role: portal.RoleDeveloper, State: portal.UserActive}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != now.UTC() || u.CreatedAt != now.UTC() || got.UpdatedAt != now.UTC() {
		t.Fatalf("CreatedAt = %v (returned %v), want %v in UTC", got.CreatedAt, u.CreatedAt, now)
	}
	var text string
	if err := rawDB(t, path).QueryRow(`SELECT created_at FROM users`).Scan(&text); err != nil || text != "2030-01-02T02:04:05.000000006Z" {
		t.Fatalf("stored created_at = %q, %v", text, err)
	}
}

func TestApplyBumpsVersionOnce(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore(t)
	cs := &portal.ChangeSet{}
	for i := range 5 {
		name := fmt.Sprintf("api%d", i)
		cs.APIs = append(cs.APIs, &portal.API{Name: name, Path: name, Backend: portal.Backend{URL: portal.BuiltinEcho}})
		cs.Users = append(cs.Users, &portal.User{Email: name + "@example.com", Name: name, Role: portal.RoleDeveloper, State: portal.UserActive})
	}
	before, _ := s.Version(ctx)
	if err := s.Apply(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.Version(ctx); after != before+1 {
		t.Fatalf("version %d -> %d, want one step for one Apply", before, after)
	}
}

func TestConflictMessages(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore(t)
	echo := &portal.API{Name: "echo", Path: "echo", Backend: portal.Backend{URL: portal.BuiltinEcho}}
	if err := s.CreateAPI(ctx, echo); err != nil {
		t.Fatal(err)
	}
	err := s.CreateAPI(ctx, &portal.API{Name: "echo2", Path: "echo", Backend: portal.Backend{URL: portal.BuiltinEcho}})
	if got, want := portal.ErrorMessage(err), `API echo2: path "echo" is already used by API echo.`; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
	err = s.CreateAPI(ctx, &portal.API{Name: "echo", Path: "other", Backend: portal.Backend{URL: portal.BuiltinEcho}})
	if got, want := portal.ErrorMessage(err), `An API named echo already exists.`; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}
