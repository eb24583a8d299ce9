package sqlite_test

import (
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// TestUserStoredNameCleaned: a name stored before portal's name rule
// refused control characters (written here straight into the file) does
// not stop changes that leave the name alone, such as blocking the user
// or resetting their password; the name is cleaned as they write the row.
func TestUserStoredNameCleaned(t *testing.T) {
	s, path := newStore(t)
	ctx := t.Context()
	admin := &portal.User{Email: "admin@example.com", Name: "Admin", Role: portal.RoleAdmin, State: portal.UserActive}
	old := &portal.User{Email: "old@example.com", Name: "Old", Role: portal.RoleDeveloper, State: portal.UserActive}
	for _, u := range []*portal.User{admin, old} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, "Old\tName\r\nSecond line", old.ID); err != nil {
		t.Fatal(err)
	}

	blocked := portal.UserBlocked
	got, err := s.UpdateUser(ctx, old.ID, portal.UserUpdate{State: &blocked})
	if err != nil {
		t.Fatalf("block a user whose stored name has control characters: %v", err)
	}
	if got.State != portal.UserBlocked || got.Name != "Old Name Second line" {
		t.Fatalf("blocked user = %q %s, want %q blocked", got.Name, got.State, "Old Name Second line")
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, "Old\x00Name", old.ID); err != nil {
		t.Fatal(err)
	}
	if got, err = s.SetPassword(ctx, old.ID, portal.PasswordChange{PasswordHash: "hash", Now: time.Now()}); err != nil {
		t.Fatalf("set the password of a user whose stored name has control characters: %v", err)
	}
	if got.Name != "Old Name" {
		t.Fatalf("name after SetPassword = %q, want %q", got.Name, "Old Name")
	}
	// A change that sets the name is checked as given.
	bad := "New\nName"
	_, err = s.UpdateUser(ctx, old.ID, portal.UserUpdate{Name: &bad})
	if portal.ErrorCode(err) != portal.EINVALID {
		t.Fatalf("a new name with a line break: %v, want EINVALID", err)
	}
}
