package portaltest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// subscriptionSetup makes an owner, an API and a product containing it.
func (st *storeTest) subscriptionSetup() *portal.User {
	st.api("echo")
	st.product(newProduct("starter", "echo"))
	return st.user("owner@example.com", portal.RoleDeveloper)
}

// wantKeyless fails if a read carried plaintext keys.
func wantKeyless(t *testing.T, what string, s *portal.Subscription) {
	t.Helper()
	if s.PrimaryKey != "" || s.SecondaryKey != "" {
		t.Fatalf("%s returned keys; reads must leave them empty", what)
	}
}

var subscriptionTests = []storeTestCase{
	{"CreateAndFind", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		expires := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
		sub := &portal.Subscription{
			Name: "mine", DisplayName: "My keys", OwnerID: u.ID, Scope: productScope("starter"),
			State: portal.SubscriptionSubmitted, StateComment: "waiting", ExpiresAt: &expires,
		}
		if err := st.s.CreateSubscription(st.ctx, sub); err != nil {
			t.Fatal(err)
		}
		if sub.ID == 0 {
			t.Fatal("CreateSubscription did not set ID")
		}
		wantStamped(t, "created subscription", sub.CreatedAt, sub.UpdatedAt)
		for _, k := range []string{sub.PrimaryKey, sub.SecondaryKey} {
			if len(k) != portal.KeyLength || portal.ValidateKey(k) != nil {
				t.Fatalf("generated key %q is not a %d-character key", k, portal.KeyLength)
			}
		}
		if sub.PrimaryKey == sub.SecondaryKey {
			t.Fatal("generated keys are equal")
		}

		byID, err := st.s.FindSubscriptionByID(st.ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantKeyless(t, "FindSubscriptionByID", byID)
		if byID.Name != "mine" || byID.DisplayName != "My keys" || byID.OwnerID != u.ID || byID.OwnerEmail != u.Email ||
			byID.OwnerName != u.Name || byID.OwnerState != portal.UserActive || byID.Scope != productScope("starter") ||
			byID.State != portal.SubscriptionSubmitted || byID.StateComment != "waiting" ||
			byID.ExpiresAt == nil || !byID.ExpiresAt.Equal(expires) || !byID.CreatedAt.Equal(sub.CreatedAt) {
			t.Fatalf("FindSubscriptionByID = %+v", byID)
		}
		byName, err := st.s.FindSubscriptionByName(st.ctx, "mine")
		if err != nil || byName.ID != sub.ID {
			t.Fatalf("FindSubscriptionByName = %+v, %v", byName, err)
		}
		wantKeyless(t, "FindSubscriptionByName", byName)

		// Owned by nobody (automation), by email, scoped to an API and to all.
		bot := st.subscription(&portal.Subscription{Name: "bot", Scope: portal.Scope{Kind: portal.ScopeAll}, State: portal.SubscriptionActive})
		if got, _ := st.s.FindSubscriptionByID(st.ctx, bot.ID); got == nil || got.OwnerID != 0 || got.OwnerEmail != "" || got.ExpiresAt != nil || got.Scope.Kind != portal.ScopeAll {
			t.Fatalf("ownerless subscription = %+v", got)
		}
		byEmail := st.subscription(&portal.Subscription{Name: "by-email", OwnerEmail: "OWNER@example.com", Scope: apiScope("echo"), State: portal.SubscriptionActive})
		if got, _ := st.s.FindSubscriptionByID(st.ctx, byEmail.ID); got == nil || got.OwnerID != u.ID || got.Scope != apiScope("echo") {
			t.Fatalf("subscription owned by email = %+v", got)
		}

		_, err = st.s.FindSubscriptionByID(st.ctx, sub.ID+1000)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSubscriptionByName(st.ctx, "nope")
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"CreateInvalid", func(st *storeTest) {
		u := st.subscriptionSetup()
		tests := []struct {
			name    string
			sub     *portal.Subscription
			mention string
		}{
			{"unknown owner id", newSubscription("s", u.ID+1000, apiScope("echo")), ""},
			{"unknown owner email", &portal.Subscription{Name: "s", OwnerEmail: "ghost@example.com", Scope: apiScope("echo"), State: portal.SubscriptionActive}, "ghost@example.com"},
			{"unknown product", newSubscription("s", u.ID, productScope("ghost")), "ghost"},
			{"unknown API", newSubscription("s", u.ID, apiScope("ghost")), "ghost"},
			{"name", newSubscription("bad name", u.ID, apiScope("echo")), ""},
			{"state", &portal.Subscription{Name: "s", OwnerID: u.ID, Scope: apiScope("echo"), State: "paused"}, ""},
			{"short key", &portal.Subscription{Name: "s", OwnerID: u.ID, Scope: apiScope("echo"), State: portal.SubscriptionActive, PrimaryKey: "short"}, ""},
			{"same keys", &portal.Subscription{Name: "s", OwnerID: u.ID, Scope: apiScope("echo"), State: portal.SubscriptionActive, PrimaryKey: key("a"), SecondaryKey: key("a")}, ""},
		}
		for _, tt := range tests {
			st.t.Run(tt.name, func(t *testing.T) {
				err := st.s.CreateSubscription(st.ctx, tt.sub)
				wantCode(t, err, portal.EINVALID)
				if tt.mention != "" {
					wantMessage(t, err, tt.mention)
				}
			})
		}
		_, total, _ := st.s.FindSubscriptions(st.ctx, portal.SubscriptionFilter{})
		if total != 0 {
			st.t.Fatalf("%d subscriptions stored by refused creates", total)
		}
	}},

	{"Conflicts", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		first := newSubscription("first-holder", u.ID, apiScope("echo"))
		first.PrimaryKey, first.SecondaryKey = key("p"), key("s")
		st.subscription(first)

		err := st.s.CreateSubscription(st.ctx, newSubscription("first-holder", u.ID, apiScope("echo")))
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "first-holder")

		for _, k := range []string{key("p"), key("s")} {
			for _, primary := range []bool{true, false} {
				sub := newSubscription("second", u.ID, apiScope("echo"))
				if primary {
					sub.PrimaryKey = k
				} else {
					sub.SecondaryKey = k
				}
				err := st.s.CreateSubscription(st.ctx, sub)
				wantCode(t, err, portal.ECONFLICT)
				if strings.Contains(portal.ErrorMessage(err), "first-holder") {
					t.Fatalf("key conflict %q names the subscription holding the key", portal.ErrorMessage(err))
				}
			}
		}
		if _, err := st.s.FindSubscriptionByName(st.ctx, "second"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("a refused subscription was stored: %v", err)
		}
	}},

	{"Limit", func(st *storeTest) {
		t := st.t
		st.api("echo")
		limited := newProduct("limited", "echo")
		limited.SubscriptionsLimit = 2
		st.product(limited)
		u := st.user("dev@example.com", portal.RoleDeveloper)
		other := st.user("other@example.com", portal.RoleDeveloper)

		a := st.subscription(newSubscription("a", u.ID, productScope("limited")))
		b := newSubscription("b", u.ID, productScope("limited"))
		b.State = portal.SubscriptionSubmitted
		st.subscription(b)
		err := st.s.CreateSubscription(st.ctx, newSubscription("c", u.ID, productScope("limited")))
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "limit", "2")

		// Another owner, another product and ownerless automation are not counted.
		st.subscription(newSubscription("other-a", other.ID, productScope("limited")))
		st.subscription(newSubscription("by-api", u.ID, apiScope("echo")))
		st.subscription(newSubscription("bot", 0, productScope("limited")))

		// Rejected, cancelled and expired subscriptions do not count.
		if _, err := st.s.UpdateSubscription(st.ctx, a.ID, portal.SubscriptionUpdate{State: ptr(portal.SubscriptionCancelled)}); err != nil {
			t.Fatal(err)
		}
		st.subscription(newSubscription("c", u.ID, productScope("limited")))
		err = st.s.CreateSubscription(st.ctx, newSubscription("d", u.ID, productScope("limited")))
		wantCode(t, err, portal.ECONFLICT)

		// Suspended ones do.
		c, err := st.s.FindSubscriptionByName(st.ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.s.UpdateSubscription(st.ctx, c.ID, portal.SubscriptionUpdate{State: ptr(portal.SubscriptionSuspended)}); err != nil {
			t.Fatal(err)
		}
		err = st.s.CreateSubscription(st.ctx, newSubscription("d", u.ID, productScope("limited")))
		wantCode(t, err, portal.ECONFLICT)
		_, total, _ := st.s.FindSubscriptions(st.ctx, portal.SubscriptionFilter{OwnerID: u.ID, Scope: ptr(productScope("limited"))})
		if total != 3 {
			t.Fatalf("owner has %d subscriptions to the product, want 3 (one cancelled)", total)
		}
	}},

	{"FindByKey", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		sub := newSubscription("mine", u.ID, apiScope("echo"))
		sub.PrimaryKey = key("primary")
		st.subscription(sub)
		other := st.subscription(newSubscription("other", u.ID, apiScope("echo")))

		tests := []struct {
			key      string
			wantID   int64
			wantKind portal.KeyKind
		}{
			{key("primary"), sub.ID, portal.PrimaryKey},
			{sub.SecondaryKey, sub.ID, portal.SecondaryKey},
			{other.PrimaryKey, other.ID, portal.PrimaryKey},
			{other.SecondaryKey, other.ID, portal.SecondaryKey},
		}
		for _, tt := range tests {
			got, kind, err := st.s.FindSubscriptionByKey(st.ctx, tt.key)
			if err != nil {
				t.Fatalf("FindSubscriptionByKey(%q): %v", tt.key, err)
			}
			if got.ID != tt.wantID || kind != tt.wantKind {
				t.Fatalf("FindSubscriptionByKey(%q) = %d, %s; want %d, %s", tt.key, got.ID, kind, tt.wantID, tt.wantKind)
			}
			wantKeyless(t, "FindSubscriptionByKey", got)
			if got.OwnerEmail != u.Email || got.OwnerState != portal.UserActive {
				t.Fatalf("FindSubscriptionByKey did not fill the owner: %+v", got)
			}
		}
		for _, k := range []string{"", key("unknown"), strings.ToUpper(key("primary")), key("primary") + "x"} {
			_, _, err := st.s.FindSubscriptionByKey(st.ctx, k)
			wantCode(t, err, portal.ENOTFOUND)
		}
	}},

	{"RegenerateAndReveal", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		sub := newSubscription("mine", u.ID, apiScope("echo"))
		sub.PrimaryKey, sub.SecondaryKey = key("p"), key("s")
		st.subscription(sub)

		p, s, err := st.s.RevealSubscriptionKeys(st.ctx, sub.ID)
		if err != nil || p != key("p") || s != key("s") {
			t.Fatalf("RevealSubscriptionKeys = %q, %q, %v", p, s, err)
		}

		for _, kind := range []portal.KeyKind{portal.PrimaryKey, portal.SecondaryKey} {
			oldP, oldS, _ := st.s.RevealSubscriptionKeys(st.ctx, sub.ID)
			newKey, err := st.s.RegenerateSubscriptionKey(st.ctx, sub.ID, kind)
			if err != nil {
				t.Fatal(err)
			}
			if portal.ValidateKey(newKey) != nil || newKey == oldP || newKey == oldS {
				t.Fatalf("regenerated %s key %q", kind, newKey)
			}
			old, kept := oldP, oldS
			if kind == portal.SecondaryKey {
				old, kept = oldS, oldP
			}
			_, _, err = st.s.FindSubscriptionByKey(st.ctx, old)
			wantCode(t, err, portal.ENOTFOUND)
			got, gotKind, err := st.s.FindSubscriptionByKey(st.ctx, newKey)
			if err != nil || got.ID != sub.ID || gotKind != kind {
				t.Fatalf("new %s key finds %+v, %s, %v", kind, got, gotKind, err)
			}
			if _, _, err := st.s.FindSubscriptionByKey(st.ctx, kept); err != nil {
				t.Fatalf("the other key stopped working: %v", err)
			}
			p, s, _ := st.s.RevealSubscriptionKeys(st.ctx, sub.ID)
			if revealed := map[portal.KeyKind]string{portal.PrimaryKey: p, portal.SecondaryKey: s}; revealed[kind] != newKey {
				t.Fatalf("Reveal after regenerating %s = %q, %q; want %q", kind, p, s, newKey)
			}
		}

		_, err = st.s.RegenerateSubscriptionKey(st.ctx, sub.ID+1000, portal.PrimaryKey)
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.RegenerateSubscriptionKey(st.ctx, sub.ID, "tertiary")
		wantCode(t, err, portal.EINVALID)
		_, _, err = st.s.RevealSubscriptionKeys(st.ctx, sub.ID+1000)
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"Update", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		sub := newSubscription("mine", u.ID, productScope("starter"))
		sub.PrimaryKey, sub.SecondaryKey = key("p"), key("s")
		st.subscription(sub)
		other := newSubscription("other", u.ID, apiScope("echo"))
		other.PrimaryKey = key("other")
		st.subscription(other)

		expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		got, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{
			DisplayName: ptr("Renamed"), State: ptr(portal.SubscriptionSuspended), StateComment: ptr("Too many calls."),
			ExpiresAt: ptr(&expires),
		})
		if err != nil {
			t.Fatal(err)
		}
		wantKeyless(t, "UpdateSubscription", got)
		if got.DisplayName != "Renamed" || got.State != portal.SubscriptionSuspended || got.StateComment != "Too many calls." ||
			got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) || got.Name != "mine" || got.OwnerEmail != u.Email ||
			got.Scope != productScope("starter") || !got.CreatedAt.Equal(sub.CreatedAt) {
			t.Fatalf("UpdateSubscription = %+v", got)
		}
		if got, err = st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{ExpiresAt: ptr[*time.Time](nil)}); err != nil || got.ExpiresAt != nil || got.DisplayName != "Renamed" {
			t.Fatalf("clearing ExpiresAt: %+v, %v", got, err)
		}

		// New keys replace the old ones.
		if _, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{PrimaryKey: ptr(key("p2"))}); err != nil {
			t.Fatal(err)
		}
		_, _, err = st.s.FindSubscriptionByKey(st.ctx, key("p"))
		wantCode(t, err, portal.ENOTFOUND)
		if p, s, _ := st.s.RevealSubscriptionKeys(st.ctx, sub.ID); p != key("p2") || s != key("s") {
			t.Fatalf("keys after update = %q, %q", p, s)
		}
		// Swapping the two keys is allowed.
		if _, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{PrimaryKey: ptr(key("s")), SecondaryKey: ptr(key("p2"))}); err != nil {
			t.Fatalf("swapping keys: %v", err)
		}
		if _, kind, err := st.s.FindSubscriptionByKey(st.ctx, key("s")); err != nil || kind != portal.PrimaryKey {
			t.Fatalf("after the swap the old secondary key is %s, %v", kind, err)
		}

		_, err = st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{SecondaryKey: ptr(key("other"))})
		wantCode(t, err, portal.ECONFLICT)
		_, err = st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{SecondaryKey: ptr(key("s"))})
		wantCode(t, err, portal.EINVALID) // equal to its own primary key
		_, err = st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{PrimaryKey: ptr("")})
		wantCode(t, err, portal.EINVALID)
		_, err = st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{State: ptr(portal.SubscriptionState("paused"))})
		wantCode(t, err, portal.EINVALID)
		_, err = st.s.UpdateSubscription(st.ctx, sub.ID+1000, portal.SubscriptionUpdate{DisplayName: ptr("x")})
		wantCode(t, err, portal.ENOTFOUND)
		if p, s, _ := st.s.RevealSubscriptionKeys(st.ctx, sub.ID); p != key("s") || s != key("p2") {
			t.Fatalf("refused updates changed the keys: %q, %q", p, s)
		}
	}},

	{"ConditionalStateChange", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		sub := newSubscription("mine", u.ID, productScope("starter"))
		sub.State = portal.SubscriptionSubmitted
		st.subscription(sub)

		// The owner cancels the request while an administrator, who read
		// it submitted, approves it: the approval must not revive it.
		submitted := portal.SubscriptionSubmitted
		if _, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{
			State: ptr(portal.SubscriptionCancelled), ExpectState: &submitted,
		}); err != nil {
			t.Fatalf("cancel while submitted: %v", err)
		}
		_, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{
			State: ptr(portal.SubscriptionActive), StateComment: ptr("ok"), ExpectState: &submitted,
		})
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "changed meanwhile", "cancelled")
		got, err := st.s.FindSubscriptionByID(st.ctx, sub.ID)
		if err != nil || got.State != portal.SubscriptionCancelled || got.StateComment != "" {
			t.Fatalf("after a refused approval: %+v, %v", got, err)
		}
		// Without ExpectState the update applies whatever the state.
		if got, err := st.s.UpdateSubscription(st.ctx, sub.ID, portal.SubscriptionUpdate{DisplayName: ptr("x")}); err != nil || got.DisplayName != "x" {
			t.Fatalf("unconditional update: %+v, %v", got, err)
		}
		_, err = st.s.UpdateSubscription(st.ctx, sub.ID+1000, portal.SubscriptionUpdate{State: ptr(portal.SubscriptionActive), ExpectState: &submitted})
		wantCode(t, err, portal.ENOTFOUND)

		// Racing: of an approval and a cancellation both read from
		// submitted, exactly one is stored.
		for i := range 20 {
			race := newSubscription(fmt.Sprintf("race-%d", i), u.ID, productScope("starter"))
			race.State = portal.SubscriptionSubmitted
			st.subscription(race)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, next := range []portal.SubscriptionState{portal.SubscriptionActive, portal.SubscriptionCancelled} {
				wg.Go(func() {
					_, errs[j] = st.s.UpdateSubscription(st.ctx, race.ID, portal.SubscriptionUpdate{State: &next, ExpectState: &submitted})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else if portal.ErrorCode(err) != portal.ECONFLICT {
					t.Fatalf("racing update: %v", err)
				}
			}
			if won != 1 {
				t.Fatalf("%d of two racing state changes applied, want 1", won)
			}
		}
	}},

	{"FindSubscriptions", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		v := st.user("v@example.com", portal.RoleDeveloper)
		create := func(name string, owner int64, scope portal.Scope, state portal.SubscriptionState) {
			sub := newSubscription(name, owner, scope)
			sub.State = state
			st.subscription(sub)
		}
		create("s1", u.ID, productScope("starter"), portal.SubscriptionActive)
		create("s2", v.ID, apiScope("echo"), portal.SubscriptionSubmitted)
		create("s3", u.ID, apiScope("echo"), portal.SubscriptionActive)
		create("s4", 0, portal.Scope{Kind: portal.ScopeAll}, portal.SubscriptionActive)
		create("s5", v.ID, productScope("starter"), portal.SubscriptionRejected)
		tests := []struct {
			name   string
			filter portal.SubscriptionFilter
			want   string
			total  int
		}{
			{"newest first", portal.SubscriptionFilter{}, "s5,s4,s3,s2,s1", 5},
			{"owner", portal.SubscriptionFilter{OwnerID: u.ID}, "s3,s1", 2},
			{"state", portal.SubscriptionFilter{State: portal.SubscriptionActive}, "s4,s3,s1", 3},
			{"product scope", portal.SubscriptionFilter{Scope: ptr(productScope("starter"))}, "s5,s1", 2},
			{"API scope", portal.SubscriptionFilter{Scope: ptr(apiScope("echo"))}, "s3,s2", 2},
			{"all scope", portal.SubscriptionFilter{Scope: &portal.Scope{Kind: portal.ScopeAll}}, "s4", 1},
			{"owner and state", portal.SubscriptionFilter{OwnerID: v.ID, State: portal.SubscriptionRejected}, "s5", 1},
			{"page", portal.SubscriptionFilter{Offset: 1, Limit: 2}, "s4,s3", 5},
			{"past the end", portal.SubscriptionFilter{Offset: 7, Limit: 2}, "", 5},
			{"past the end, filtered", portal.SubscriptionFilter{Offset: 7, Scope: ptr(apiScope("echo"))}, "", 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				subs, total, err := st.s.FindSubscriptions(st.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := subscriptionNames(subs); got != tt.want || total != tt.total {
					t.Fatalf("FindSubscriptions(%+v) = %q, total %d; want %q, total %d", tt.filter, got, total, tt.want, tt.total)
				}
				for _, s := range subs {
					wantKeyless(t, "FindSubscriptions", s)
					if s.OwnerID != 0 && s.OwnerEmail == "" {
						t.Fatalf("FindSubscriptions did not fill the owner of %s", s.Name)
					}
				}
			})
		}
	}},

	{"Delete", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		sub := st.subscription(newSubscription("mine", u.ID, apiScope("echo")))
		if err := st.s.DeleteSubscription(st.ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindSubscriptionByID(st.ctx, sub.ID)
		wantCode(t, err, portal.ENOTFOUND)
		for _, k := range []string{sub.PrimaryKey, sub.SecondaryKey} {
			_, _, err = st.s.FindSubscriptionByKey(st.ctx, k)
			wantCode(t, err, portal.ENOTFOUND)
		}
		wantCode(t, st.s.DeleteSubscription(st.ctx, sub.ID), portal.ENOTFOUND)
		// The deleted subscription's keys may be used again.
		again := newSubscription("again", u.ID, apiScope("echo"))
		again.PrimaryKey = sub.PrimaryKey
		st.subscription(again)
	}},

	{"ConcurrentCreates", func(st *storeTest) {
		t := st.t
		u := st.subscriptionSetup()
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					sub := newSubscription(fmt.Sprintf("w%d-%d", w, i), u.ID, apiScope("echo"))
					if err := st.s.CreateSubscription(st.ctx, sub); err != nil {
						errs <- err
						return
					}
					// Reads interleave with the other workers' writes.
					if _, _, err := st.s.FindSubscriptionByKey(st.ctx, sub.PrimaryKey); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent create: %v", err)
		}
		_, total, err := st.s.FindSubscriptions(st.ctx, portal.SubscriptionFilter{})
		if err != nil || total != workers*each {
			t.Fatalf("FindSubscriptions total = %d, %v; want %d", total, err, workers*each)
		}
	}},
}
