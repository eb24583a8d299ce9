package portaltest

import (
	"time"

	"github.com/porticoapi/portico/portal"
)

var versionTests = []storeTestCase{
	{"GrowsWithEveryChange", func(st *storeTest) {
		t := st.t
		u := st.user("dev@example.com", portal.RoleDeveloper)
		st.api("echo")
		st.product(newProduct("starter", "echo"))
		sub := st.subscription(newSubscription("mine", u.ID, productScope("starter")))
		settings := portal.DefaultSettings()
		settings.Title = "Changed"

		changes := []struct {
			name string
			do   func() error
		}{
			{"CreateUser", func() error {
				return st.s.CreateUser(st.ctx, &portal.User{Email: "x@example.com", Name: "X", Role: portal.RoleDeveloper, State: portal.UserActive})
			}},
			{"UpdateUser", func() error {
				_, err := st.s.UpdateUser(st.ctx, u.ID, portal.UserUpdate{State: ptr(portal.UserBlocked)})
				return err
			}},
			{"CreateAPI", func() error { return st.s.CreateAPI(st.ctx, newAPI("other")) }},
			{"UpdateAPI", func() error { _, err := st.s.UpdateAPI(st.ctx, "other", newAPI("other")); return err }},
			{"CreateProduct", func() error { return st.s.CreateProduct(st.ctx, newProduct("extra", "other")) }},
			{"UpdateProduct", func() error { _, err := st.s.UpdateProduct(st.ctx, "extra", newProduct("extra")); return err }},
			{"CreateSubscription", func() error {
				return st.s.CreateSubscription(st.ctx, newSubscription("second", u.ID, apiScope("other")))
			}},
			{"UpdateSubscription", func() error {
				_, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{State: ptr(portal.SubscriptionSuspended)})
				return err
			}},
			{"RegenerateSubscriptionKey", func() error {
				_, err := st.s.RegenerateSubscriptionKey(st.ctx, sub.ID, portal.PrimaryKey)
				return err
			}},
			{"UpdateSettings", func() error { return st.s.UpdateSettings(st.ctx, &settings) }},
			{"Apply", func() error {
				return st.s.Apply(st.ctx, &portal.ChangeSet{APIs: []*portal.API{newAPI("applied")}})
			}},
			{"DeleteSubscription", func() error { return st.s.DeleteSubscription(st.ctx, sub.ID) }},
			{"DeleteProduct", func() error { return st.s.DeleteProduct(st.ctx, "extra") }},
			{"DeleteAPI", func() error { return st.s.DeleteAPI(st.ctx, "other") }},
			{"DeleteUser", func() error { return st.s.DeleteUser(st.ctx, u.ID) }},
		}
		for _, c := range changes {
			before := st.version()
			if err := c.do(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if after := st.version(); after <= before {
				t.Fatalf("%s: version %d -> %d, want it to grow", c.name, before, after)
			}
		}
	}},

	{"StillOnReadsSessionsAndFailures", func(st *storeTest) {
		t := st.t
		u := st.user("dev@example.com", portal.RoleDeveloper)
		st.api("echo")
		st.product(newProduct("starter", "echo"))
		sub := st.subscription(newSubscription("mine", u.ID, productScope("starter")))
		now := time.Now()

		unchanged := []struct {
			name string
			do   func() error
		}{
			{"FindUserByID", func() error { _, err := st.s.FindUserByID(st.ctx, u.ID); return err }},
			{"FindUserByEmail", func() error { _, err := st.s.FindUserByEmail(st.ctx, u.Email); return err }},
			{"FindUsers", func() error { _, _, err := st.s.FindUsers(st.ctx, portal.UserFilter{}); return err }},
			{"FindAPIByName", func() error { _, err := st.s.FindAPIByName(st.ctx, "echo"); return err }},
			{"FindAPIs", func() error {
				_, _, err := st.s.FindAPIs(st.ctx, portal.APIFilter{WithOperations: true})
				return err
			}},
			{"FindProductByName", func() error { _, err := st.s.FindProductByName(st.ctx, "starter"); return err }},
			{"FindProducts", func() error { _, _, err := st.s.FindProducts(st.ctx, portal.ProductFilter{}); return err }},
			{"FindSubscriptionByID", func() error { _, err := st.s.FindSubscriptionByID(st.ctx, sub.ID); return err }},
			{"FindSubscriptionByName", func() error { _, err := st.s.FindSubscriptionByName(st.ctx, "mine"); return err }},
			{"FindSubscriptionByKey", func() error { _, _, err := st.s.FindSubscriptionByKey(st.ctx, sub.PrimaryKey); return err }},
			{"FindSubscriptions", func() error {
				_, _, err := st.s.FindSubscriptions(st.ctx, portal.SubscriptionFilter{})
				return err
			}},
			{"RevealSubscriptionKeys", func() error { _, _, err := st.s.RevealSubscriptionKeys(st.ctx, sub.ID); return err }},
			{"FindSettings", func() error { _, err := st.s.FindSettings(st.ctx); return err }},
			{"SaveSession", func() error {
				return st.s.SaveSession(st.ctx, &portal.Session{ID: "s", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
			}},
			{"FindSession", func() error { _, err := st.s.FindSession(st.ctx, "s", now); return err }},
			{"DeleteUserSessions", func() error { return st.s.DeleteUserSessions(st.ctx, u.ID, "") }},
			{"DeleteSession", func() error { return st.s.DeleteSession(st.ctx, "s") }},
			{"DeleteExpiredSessions", func() error { _, err := st.s.DeleteExpiredSessions(st.ctx, now); return err }},
			{"Apply of nothing", func() error { return st.s.Apply(st.ctx, &portal.ChangeSet{}) }},
		}
		for _, c := range unchanged {
			before := st.version()
			if err := c.do(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if after := st.version(); after != before {
				t.Fatalf("%s: version %d -> %d, want it unchanged", c.name, before, after)
			}
		}

		failures := []struct {
			name string
			do   func() error
		}{
			{"CreateUser taken", func() error {
				return st.s.CreateUser(st.ctx, &portal.User{Email: u.Email, Name: "X", Role: portal.RoleDeveloper, State: portal.UserActive})
			}},
			{"CreateAPI taken", func() error { return st.s.CreateAPI(st.ctx, newAPI("echo")) }},
			{"UpdateAPI missing", func() error { _, err := st.s.UpdateAPI(st.ctx, "nope", newAPI("nope")); return err }},
			{"CreateProduct unknown API", func() error { return st.s.CreateProduct(st.ctx, newProduct("p", "ghost")) }},
			{"CreateSubscription unknown scope", func() error {
				return st.s.CreateSubscription(st.ctx, newSubscription("x", u.ID, apiScope("ghost")))
			}},
			{"DeleteUser missing", func() error { return st.s.DeleteUser(st.ctx, u.ID+1000) }},
			{"UpdateSettings invalid", func() error { return st.s.UpdateSettings(st.ctx, &portal.Settings{}) }},
			{"Apply invalid", func() error {
				return st.s.Apply(st.ctx, &portal.ChangeSet{APIs: []*portal.API{newAPI("fine")}, DeleteAPIs: []string{"ghost"}})
			}},
		}
		for _, c := range failures {
			before := st.version()
			if err := c.do(); err == nil {
				t.Fatalf("%s succeeded", c.name)
			}
			if after := st.version(); after != before {
				t.Fatalf("%s failed but moved the version %d -> %d", c.name, before, after)
			}
		}
	}},
}
