package portaltest

import (
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

var userTests = []storeTestCase{
	{"CreateAndFind", func(st *storeTest) {
		t := st.t
		u := &portal.User{Email: "  Ada@Example.COM ", Name: " Ada ", Role: portal.RoleAdmin, State: portal.UserActive, PasswordHash: "$argon2id$x"}
		if err := st.s.CreateUser(st.ctx, u); err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 {
			t.Fatal("CreateUser did not set ID")
		}
		wantStamped(t, "created user", u.CreatedAt, u.UpdatedAt)
		byID, err := st.s.FindUserByID(st.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if byID.Email != "ada@example.com" || byID.Name != "Ada" || byID.Role != portal.RoleAdmin ||
			byID.State != portal.UserActive || byID.PasswordHash != "$argon2id$x" {
			t.Fatalf("FindUserByID = %+v", byID)
		}
		if !byID.CreatedAt.Equal(u.CreatedAt) || !byID.UpdatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("stored times %v/%v, want %v/%v", byID.CreatedAt, byID.UpdatedAt, u.CreatedAt, u.UpdatedAt)
		}
		for _, email := range []string{"ada@example.com", "ADA@example.com", " ada@EXAMPLE.com"} {
			got, err := st.s.FindUserByEmail(st.ctx, email)
			if err != nil {
				t.Fatalf("FindUserByEmail(%q): %v", email, err)
			}
			if got.ID != u.ID {
				t.Fatalf("FindUserByEmail(%q).ID = %d, want %d", email, got.ID, u.ID)
			}
		}
		_, err = st.s.FindUserByID(st.ctx, u.ID+1000)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindUserByEmail(st.ctx, "nobody@example.com")
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"CreateInvalid", func(st *storeTest) {
		for _, u := range []*portal.User{
			{Email: "", Name: "N", Role: portal.RoleDeveloper, State: portal.UserActive},
			{Email: "Not An Address", Name: "N", Role: portal.RoleDeveloper, State: portal.UserActive},
			{Email: "n@example.com", Name: " ", Role: portal.RoleDeveloper, State: portal.UserActive},
			{Email: "n@example.com", Name: "N", Role: "root", State: portal.UserActive},
			{Email: "n@example.com", Name: "N", Role: portal.RoleDeveloper, State: "gone"},
		} {
			wantCode(st.t, st.s.CreateUser(st.ctx, u), portal.EINVALID)
		}
		_, total, err := st.s.FindUsers(st.ctx, portal.UserFilter{})
		if err != nil || total != 0 {
			st.t.Fatalf("FindUsers total = %d, %v; want 0 after refused creates", total, err)
		}
	}},

	{"DuplicateEmail", func(st *storeTest) {
		st.user("dup@example.com", portal.RoleDeveloper)
		err := st.s.CreateUser(st.ctx, &portal.User{Email: "DUP@Example.com", Name: "Again", Role: portal.RoleDeveloper, State: portal.UserActive})
		wantCode(st.t, err, portal.ECONFLICT)
		wantMessage(st.t, err, "dup@example.com")
	}},

	{"Update", func(st *storeTest) {
		t := st.t
		u := st.user("grace@example.com", portal.RoleDeveloper)
		st.user("taken@example.com", portal.RoleDeveloper)

		got, err := st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{
			Email: ptr("Grace.H@Example.com"), Name: ptr("Grace H"), Role: ptr(portal.RoleAdmin),
			State: ptr(portal.UserBlocked), PasswordHash: ptr("$argon2id$new"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Email != "grace.h@example.com" || got.Name != "Grace H" || got.Role != portal.RoleAdmin ||
			got.State != portal.UserBlocked || got.PasswordHash != "$argon2id$new" {
			t.Fatalf("UpdateUser = %+v", got)
		}
		if !got.CreatedAt.Equal(u.CreatedAt) || got.UpdatedAt.Before(u.UpdatedAt) {
			t.Fatalf("times after update %v/%v, created %v/%v", got.CreatedAt, got.UpdatedAt, u.CreatedAt, u.UpdatedAt)
		}
		stored, err := st.s.FindUserByEmail(st.ctx, "grace.h@example.com")
		if err != nil || stored.Name != "Grace H" {
			t.Fatalf("after update FindUserByEmail = %+v, %v", stored, err)
		}

		// Nil fields are kept.
		got, err = st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{Name: ptr("Grace")})
		if err != nil || got.Name != "Grace" || got.PasswordHash != "$argon2id$new" || got.Email != "grace.h@example.com" {
			t.Fatalf("partial UpdateUser = %+v, %v", got, err)
		}

		_, err = st.s.UpdateUser(st.ctx, u.ID+1000, portal.UserUpdate{Name: ptr("X")})
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{Role: ptr(portal.Role("root"))})
		wantCode(t, err, portal.EINVALID)
		_, err = st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{Email: ptr("TAKEN@example.com")})
		wantCode(t, err, portal.ECONFLICT)
		stored, _ = st.s.FindUserByID(st.ctx, u.ID)
		if stored.Role != portal.RoleAdmin || stored.Email != "grace.h@example.com" {
			t.Fatalf("a refused update changed the user: %+v", stored)
		}
	}},

	{"FindUsers", func(st *storeTest) {
		t := st.t
		st.user("carol@example.com", portal.RoleDeveloper)
		st.user("alice@example.com", portal.RoleAdmin)
		st.user("bob@example.org", portal.RoleDeveloper)
		dave := st.user("dave@example.com", portal.RoleDeveloper)
		if _, err := st.s.UpdateUser(st.ctx, dave.ID, portal.UserUpdate{Name: ptr("Dave McBlocked"), State: ptr(portal.UserBlocked)}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			filter portal.UserFilter
			want   string
			total  int
		}{
			{"all by email", portal.UserFilter{}, "alice@example.com,bob@example.org,carol@example.com,dave@example.com", 4},
			{"role", portal.UserFilter{Role: portal.RoleAdmin}, "alice@example.com", 1},
			{"state", portal.UserFilter{State: portal.UserBlocked}, "dave@example.com", 1},
			{"query email", portal.UserFilter{Query: "EXAMPLE.ORG"}, "bob@example.org", 1},
			{"query name", portal.UserFilter{Query: "mcblock"}, "dave@example.com", 1},
			{"combined", portal.UserFilter{Role: portal.RoleDeveloper, Query: ".com"}, "carol@example.com,dave@example.com", 2},
			{"first page", portal.UserFilter{Limit: 2}, "alice@example.com,bob@example.org", 4},
			{"second page", portal.UserFilter{Offset: 2, Limit: 2}, "carol@example.com,dave@example.com", 4},
			{"offset only", portal.UserFilter{Offset: 3}, "dave@example.com", 4},
			{"past the end", portal.UserFilter{Offset: 10, Limit: 2}, "", 4},
			{"no match", portal.UserFilter{Query: "zzz"}, "", 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				users, total, err := st.s.FindUsers(st.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := userEmails(users); got != tt.want || total != tt.total {
					t.Fatalf("FindUsers(%+v) = %q, total %d; want %q, total %d", tt.filter, got, total, tt.want, tt.total)
				}
			})
		}
	}},

	{"DeleteCascades", func(st *storeTest) {
		t := st.t
		u := st.user("leaver@example.com", portal.RoleDeveloper)
		other := st.user("stayer@example.com", portal.RoleDeveloper)
		st.api("echo")
		sub := st.subscription(newSubscription("leaver-sub", u.ID, apiScope("echo")))
		kept := st.subscription(newSubscription("stayer-sub", other.ID, apiScope("echo")))
		now := time.Now()
		for _, s := range []*portal.Session{
			{ID: "s-leaver", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			{ID: "s-stayer", UserID: other.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		} {
			if err := st.s.SaveSession(st.ctx, s); err != nil {
				t.Fatal(err)
			}
		}

		if err := st.s.DeleteUser(st.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindUserByID(st.ctx, u.ID)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSubscriptionByID(st.ctx, sub.ID)
		wantCode(t, err, portal.ENOTFOUND)
		_, _, err = st.s.FindSubscriptionByKey(st.ctx, sub.PrimaryKey)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSession(st.ctx, "s-leaver", now)
		wantCode(t, err, portal.ENOTFOUND)

		if _, err := st.s.FindSubscriptionByID(st.ctx, kept.ID); err != nil {
			t.Fatalf("another user's subscription: %v", err)
		}
		if _, err := st.s.FindSession(st.ctx, "s-stayer", now); err != nil {
			t.Fatalf("another user's session: %v", err)
		}
		wantCode(t, st.s.DeleteUser(st.ctx, u.ID), portal.ENOTFOUND)
	}},
}
