package configfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
)

// PlanOptions change what a plan does.
type PlanOptions struct {
	// Prune deletes the objects of the store that the file does not
	// declare, but only in the sections the file has: a file with only an
	// apis section never deletes users, and `apis: []` deletes every API.
	// Deleting an API, product or user also deletes the subscriptions
	// scoped to or owned by it; the diff shows them.
	Prune bool
}

// Plan is what applying a file would change in a store: the change set
// for one Store.Apply, and its description for people.
type Plan struct {
	path    string
	cs      portal.ChangeSet
	changes []change
	invites []Invitation
}

// change is one line of the diff.
type change struct {
	op   byte   // '+', '~' or '-'
	kind string // portal, api, product, user, subscription
	name string
	text string // for '~': what changed; for '-': why, when a cascade
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return p.cs.Empty() }

// WriteDiff writes the plan for people, one line per change, such as
// "+ api echo", "~ api echo: backend.url http://a -> http://b",
// "~ user admin@example.com: password (changed)" or "- product old",
// followed by a count; or "No changes.". Secrets are never shown, only
// that they change.
func (p *Plan) WriteDiff(w io.Writer) error {
	var b strings.Builder
	if len(p.changes) == 0 {
		b.WriteString("No changes.\n")
	}
	type object struct{ kind, name string }
	counted := map[byte]map[object]bool{'+': {}, '~': {}, '-': {}}
	for _, c := range p.changes {
		b.WriteByte(c.op)
		b.WriteByte(' ')
		b.WriteString(c.kind)
		if c.name != "" {
			b.WriteString(" " + c.name)
		}
		switch {
		case c.op == '~':
			b.WriteString(": " + c.text)
		case c.text != "":
			b.WriteString(" (" + c.text + ")")
		}
		b.WriteByte('\n')
		counted[c.op][object{c.kind, c.name}] = true
	}
	if len(p.changes) > 0 {
		fmt.Fprintf(&b, "Plan: %d to add, %d to change, %d to delete.\n", len(counted['+']), len(counted['~']), len(counted['-']))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (p *Plan) add(kind, name string) {
	p.changes = append(p.changes, change{op: '+', kind: kind, name: name})
}

func (p *Plan) remove(kind, name, why string) {
	p.changes = append(p.changes, change{op: '-', kind: kind, name: name, text: why})
}

// diff records the changed fields of one object, and reports whether any.
type diff struct {
	kind, name string
	lines      []string
}

func (d *diff) str(field, have, want string) {
	if have == want {
		return
	}
	if len(have) > 60 || len(want) > 60 || strings.ContainsAny(have+want, "\n\r") {
		d.lines = append(d.lines, field+" (changed)")
		return
	}
	d.lines = append(d.lines, field+" "+show(have)+" -> "+show(want))
}

func (d *diff) boolean(field string, have, want bool) {
	if have != want {
		d.lines = append(d.lines, fmt.Sprintf("%s %t -> %t", field, have, want))
	}
}

func (d *diff) integer(field string, have, want int) {
	if have != want {
		d.lines = append(d.lines, fmt.Sprintf("%s %d -> %d", field, have, want))
	}
}

func (d *diff) duration(field string, have, want time.Duration) {
	if have != want {
		d.lines = append(d.lines, field+" "+formatDuration(have)+" -> "+formatDuration(want))
	}
}

func (d *diff) list(field string, have, want []string) {
	if !slices.Equal(have, want) && !(len(have) == 0 && len(want) == 0) {
		d.lines = append(d.lines, field+" ["+strings.Join(have, ", ")+"] -> ["+strings.Join(want, ", ")+"]")
	}
}

func (d *diff) secret(field string, changed bool) {
	if changed {
		d.lines = append(d.lines, field+" (changed)")
	}
}

func (d *diff) text(s string) { d.lines = append(d.lines, s) }

func (p *Plan) changed(d *diff) bool {
	for _, l := range d.lines {
		p.changes = append(p.changes, change{op: '~', kind: d.kind, name: d.name, text: l})
	}
	return len(d.lines) > 0
}

// show formats a value for the diff: bare when that reads unambiguously,
// quoted otherwise.
func show(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, " \"'\t,[]{}#") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}

// formatDuration writes 48h rather than Go's 48h0m0s; both parse back.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// storeState is what the store holds, by name.
type storeState struct {
	settings *portal.Settings
	apis     map[string]*portal.API
	products map[string]*portal.Product
	users    map[string]*portal.User // by email
	subs     map[string]*portal.Subscription
	idps     map[string]*portal.IdentityProvider
	// sorted names, for deterministic deletions
	apiNames, productNames, userEmails, subNames, idpNames []string
}

func readStore(ctx context.Context, s portal.Store) (*storeState, error) {
	st := &storeState{
		apis: map[string]*portal.API{}, products: map[string]*portal.Product{},
		users: map[string]*portal.User{}, subs: map[string]*portal.Subscription{},
		idps: map[string]*portal.IdentityProvider{},
	}
	var err error
	if st.settings, err = s.FindSettings(ctx); err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	apis, _, err := s.FindAPIs(ctx, portal.APIFilter{WithOperations: true})
	if err != nil {
		return nil, fmt.Errorf("read APIs: %w", err)
	}
	for _, a := range apis {
		st.apis[a.Name] = a
		st.apiNames = append(st.apiNames, a.Name)
	}
	products, _, err := s.FindProducts(ctx, portal.ProductFilter{})
	if err != nil {
		return nil, fmt.Errorf("read products: %w", err)
	}
	for _, p := range products {
		st.products[p.Name] = p
		st.productNames = append(st.productNames, p.Name)
	}
	users, _, err := s.FindUsers(ctx, portal.UserFilter{})
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	for _, u := range users {
		st.users[u.Email] = u
		st.userEmails = append(st.userEmails, u.Email)
	}
	subs, _, err := s.FindSubscriptions(ctx, portal.SubscriptionFilter{})
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	for _, sub := range subs {
		st.subs[sub.Name] = sub
		st.subNames = append(st.subNames, sub.Name)
	}
	idps, err := s.FindIdentityProviders(ctx)
	if err != nil {
		return nil, fmt.Errorf("read identity providers: %w", err)
	}
	for _, p := range idps {
		st.idps[p.Name] = p
		st.idpNames = append(st.idpNames, p.Name)
	}
	for _, names := range [][]string{st.apiNames, st.productNames, st.userEmails, st.subNames, st.idpNames} {
		slices.Sort(names)
	}
	return st, nil
}

// Plan compares the file with the store of c and returns what applying it
// would change. It checks what Load could not: that the APIs of products,
// and the owners and scopes of subscriptions, exist in the file or the
// store (and are not being pruned), that API paths and subscription keys
// are not taken by objects outside the file, the one-open-product-per-API
// rule against the store's products, and the products' subscriptions limits
// for new subscriptions. It reads the store only; problems are reported
// together, each as an *Error with its line.
//
// Objects are compared by value, so a plan made right after applying the
// same file is empty. A password in the file that matches the stored hash
// is no change (this costs one password verification per user); a
// subscription key in the file is no change when the store finds it on the
// same subscription as the same key. New and changed passwords are hashed
// here.
func (f *File) Plan(ctx context.Context, c Config, opts PlanOptions) (*Plan, error) {
	c = c.withDefaults()
	if c.Store == nil {
		return nil, errors.New("configfile: Config.Store is nil")
	}
	st, err := readStore(ctx, c.Store)
	if err != nil {
		return nil, err
	}
	p := &Plan{path: f.path}
	del := f.deletions(st, opts.Prune)
	errs := &errorList{file: f.path}
	f.checkReferences(st, del, errs)
	f.checkSubscriptionsLimits(st, errs)
	f.checkSignInLeft(st, del, errs)
	if err := f.checkKeys(ctx, c.Store, errs); err != nil {
		return nil, err
	}
	wants := make([]portal.API, len(f.apis))
	for i, e := range f.apis {
		wants[i] = e.withStoredSecrets(st.apis[e.api.Name], errs)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	if f.settings != nil && !sameSettings(st.settings, &f.settings.settings) {
		s := f.settings.settings
		p.cs.Settings = &s
		p.changed(settingsDiff(st.settings, &s))
	}
	for _, e := range f.idps {
		have, ok := st.idps[e.idp.Name]
		want, secretChanged := e.want(have)
		if !ok {
			p.add("identity_provider", want.Name)
		} else {
			d := identityProviderDiff(have, &want)
			d.secret("client_secret", secretChanged)
			if !p.changed(d) {
				continue
			}
		}
		p.cs.IdentityProviders = append(p.cs.IdentityProviders, &want)
	}
	for i := range f.apis {
		want := wants[i]
		have, ok := st.apis[want.Name]
		if !ok {
			p.add("api", want.Name)
		} else if !p.changed(apiDiff(have, &want)) {
			continue
		}
		p.cs.APIs = append(p.cs.APIs, &want)
	}
	for _, e := range f.products {
		want := e.product
		want.APIs = slices.Clone(want.APIs)
		have, ok := st.products[want.Name]
		if !ok {
			p.add("product", want.Name)
		} else if !p.changed(productDiff(have, &want)) {
			continue
		}
		p.cs.Products = append(p.cs.Products, &want)
	}
	// A product that closes or lets go of an API must be written before
	// one that opens with it, or the store sees two open products at once.
	slices.SortStableFunc(p.cs.Products, func(a, b *portal.Product) int {
		rank := func(x *portal.Product) int {
			switch {
			case x.SubscriptionRequired:
				return 0
			case st.products[x.Name] != nil:
				return 1
			}
			return 2
		}
		return rank(a) - rank(b)
	})
	for _, e := range f.users {
		want := e.user
		have, ok := st.users[want.Email]
		d := &diff{kind: "user", name: want.Email}
		if ok && e.invite {
			// Invited once: pending until accepted, then theirs.
			want.State = have.State
		}
		if ok {
			d = userDiff(have, &want)
		}
		newPassword := e.hasPassword && (!ok || have.PasswordHash == "" || !c.VerifyPassword(have.PasswordHash, e.password))
		if newPassword {
			hash, err := c.HashPassword(e.password)
			if err != nil {
				return nil, fmt.Errorf("hash password of %s: %w", want.Email, err)
			}
			want.PasswordHash = hash
			d.secret("password", true)
		}
		if ok && (have.Role != want.Role || have.State != want.State || newPassword) {
			// The store ends them with the change (portal.ChangeSet.Users).
			d.text("sessions end (signed out everywhere)")
		}
		if !ok && e.invite {
			p.changes = append(p.changes, change{op: '+', kind: "user", name: want.Email, text: "invited"})
			p.invite(&want, f.invitationTTL(st))
		} else if !ok {
			p.add("user", want.Email)
		} else if !p.changed(d) {
			continue
		}
		p.cs.Users = append(p.cs.Users, &want)
	}
	for _, e := range f.subs {
		want := e.sub
		have, ok := st.subs[want.Name]
		if !ok {
			p.add("subscription", want.Name)
			p.cs.Subscriptions = append(p.cs.Subscriptions, &want)
			continue
		}
		d := subscriptionDiff(have, &want)
		for _, k := range []struct {
			field string
			kind  portal.KeyKind
			key   *string
		}{{"primary_key", portal.PrimaryKey, &want.PrimaryKey}, {"secondary_key", portal.SecondaryKey, &want.SecondaryKey}} {
			if *k.key == "" {
				continue
			}
			same, err := keyHeldBy(ctx, c.Store, *k.key, have.ID, k.kind)
			if err != nil {
				return nil, err
			}
			if same {
				*k.key = "" // keep the stored key
			}
			d.secret(k.field, !same)
		}
		if p.changed(d) {
			p.cs.Subscriptions = append(p.cs.Subscriptions, &want)
		}
	}
	p.planDeletions(st, del)
	return p, nil
}

// keyHeldBy reports whether the store holds key as the kind key of the
// subscription with id.
func keyHeldBy(ctx context.Context, s portal.Store, key string, id int64, kind portal.KeyKind) (bool, error) {
	sub, k, err := s.FindSubscriptionByKey(ctx, key)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("look up subscription key: %w", err)
	}
	return sub.ID == id && k == kind, nil
}

// deletions are the names that pruning removes, by section.
type deletions struct {
	apis, products, users, subs, idps map[string]bool
}

func (f *File) deletions(st *storeState, prune bool) deletions {
	del := deletions{apis: map[string]bool{}, products: map[string]bool{}, users: map[string]bool{}, subs: map[string]bool{}, idps: map[string]bool{}}
	if !prune {
		return del
	}
	if f.sections["apis"] {
		for _, n := range st.apiNames {
			del.apis[n] = !slices.ContainsFunc(f.apis, func(e *apiEntry) bool { return e.api.Name == n })
		}
	}
	if f.sections["products"] {
		for _, n := range st.productNames {
			del.products[n] = !slices.ContainsFunc(f.products, func(e *productEntry) bool { return e.product.Name == n })
		}
	}
	if f.sections["users"] {
		for _, n := range st.userEmails {
			del.users[n] = !slices.ContainsFunc(f.users, func(e *userEntry) bool { return e.user.Email == n })
		}
	}
	if f.sections["subscriptions"] {
		for _, n := range st.subNames {
			del.subs[n] = !slices.ContainsFunc(f.subs, func(e *subEntry) bool { return e.sub.Name == n })
		}
	}
	if f.sections["identity_providers"] {
		for _, n := range st.idpNames {
			del.idps[n] = !slices.ContainsFunc(f.idps, func(e *idpEntry) bool { return e.idp.Name == n })
		}
	}
	return del
}

// checkReferences checks that what the file refers to exists once the
// plan is applied, and the rules between the file's objects and the
// store's others.
func (f *File) checkReferences(st *storeState, del deletions, errs *errorList) {
	inFile := struct{ apis, products, users map[string]bool }{map[string]bool{}, map[string]bool{}, map[string]bool{}}
	for _, e := range f.apis {
		inFile.apis[e.api.Name] = true
	}
	for _, e := range f.products {
		inFile.products[e.product.Name] = true
	}
	for _, e := range f.users {
		inFile.users[e.user.Email] = true
	}
	apiExists := func(n string) bool { return inFile.apis[n] || st.apis[n] != nil && !del.apis[n] }
	productExists := func(n string) bool { return inFile.products[n] || st.products[n] != nil && !del.products[n] }
	userExists := func(n string) bool { return inFile.users[n] || st.users[n] != nil && !del.users[n] }
	pruned := func(deleted bool) string {
		if deleted {
			return " (--prune deletes it: it is not in the file)"
		}
		return ""
	}

	for _, e := range f.apis {
		for _, n := range st.apiNames {
			other := st.apis[n]
			if !inFile.apis[n] && other.Path == e.api.Path {
				line, key := e.at("path")
				msg := "path %s is taken by API %s in the store"
				if del.apis[n] {
					msg += "; --prune deletes that API only after the other changes, so apply once without this path first"
				}
				errs.conflictf(line, key, msg, e.api.Path, n)
			}
		}
	}
	for _, e := range f.products {
		for _, a := range e.product.APIs {
			if !apiExists(a) {
				line, key := e.apiAt(a)
				errs.addf(line, key, "API %s is neither in the file nor in the store%s", a, pruned(del.apis[a]))
			}
		}
		if e.product.SubscriptionRequired {
			continue
		}
		for _, n := range st.productNames {
			other := st.products[n]
			if inFile.products[n] || other.SubscriptionRequired {
				continue
			}
			for _, a := range e.product.APIs {
				if slices.Contains(other.APIs, a) {
					line, key := e.apiAt(a)
					errs.conflictf(line, key, "API %s is already in open product %s in the store; an API may be in at most one open product", a, n)
				}
			}
		}
	}
	for _, e := range f.subs {
		s := &e.sub
		if s.OwnerEmail != "" && !userExists(s.OwnerEmail) {
			line, key := e.at("owner")
			errs.addf(line, key, "user %s is neither in the file nor in the store%s", s.OwnerEmail, pruned(del.users[s.OwnerEmail]))
		}
		line, key := e.at("scope")
		switch s.Scope.Kind {
		case portal.ScopeAPI:
			if !apiExists(s.Scope.Name) {
				errs.addf(line, key, "API %s is neither in the file nor in the store%s", s.Scope.Name, pruned(del.apis[s.Scope.Name]))
			}
		case portal.ScopeProduct:
			if !productExists(s.Scope.Name) {
				errs.addf(line, key, "product %s is neither in the file nor in the store%s", s.Scope.Name, pruned(del.products[s.Scope.Name]))
			}
		}
	}
}

// countedState reports whether a subscription in state s counts against a
// product's subscriptions limit, as the store counts them.
func countedState(s portal.SubscriptionState) bool {
	return s == portal.SubscriptionSubmitted || s == portal.SubscriptionActive || s == portal.SubscriptionSuspended
}

// checkSubscriptionsLimits refuses a new subscription that would take its
// owner past its product's subscriptions limit when the store creates it,
// as the store would midway. Subscriptions without an owner are not
// limited. Pruned subscriptions still count: deletions come last.
// checkSignInLeft refuses a file after which nobody could sign in:
// password sign-in off and no identity provider left, as the settings
// page and the provider delete refuse it. Recovering would take the
// command line.
func (f *File) checkSignInLeft(st *storeState, del deletions, errs *errorList) {
	signIn := st.settings.BasicAuth.SignIn
	if f.settings != nil {
		signIn = f.settings.settings.BasicAuth.SignIn
	}
	if signIn || len(f.idps) > 0 {
		return
	}
	for n := range st.idps {
		if !del.idps[n] {
			return
		}
	}
	line, key := 0, "identity_providers"
	if f.settings != nil {
		line, key = f.settings.at("basic_auth.signin")
	}
	errs.addf(line, key, "nobody could sign in: password sign-in is off and no identity provider would be left. Keep basic_auth.signin true, or configure an identity provider")
}

func (f *File) checkSubscriptionsLimits(st *storeState, errs *errorList) {
	limits := map[string]int{}
	for _, n := range st.productNames {
		limits[n] = st.products[n].SubscriptionsLimit
	}
	for _, e := range f.products {
		limits[e.product.Name] = e.product.SubscriptionsLimit
	}
	type group struct{ owner, product string }
	groupOf := func(s *portal.Subscription) (group, bool) {
		ok := s.OwnerEmail != "" && s.Scope.Kind == portal.ScopeProduct && countedState(s.State)
		return group{s.OwnerEmail, s.Scope.Name}, ok
	}
	counts := map[group]int{}
	inFile := map[string]bool{}
	for _, e := range f.subs {
		inFile[e.sub.Name] = true
	}
	for _, n := range st.subNames {
		if g, ok := groupOf(st.subs[n]); ok && !inFile[n] {
			counts[g]++
		}
	}
	// Existing subscriptions of the file are updated in place, never
	// refused for the limit; count them first, then the new ones in order.
	for _, e := range f.subs {
		if g, ok := groupOf(&e.sub); ok && st.subs[e.sub.Name] != nil {
			counts[g]++
		}
	}
	for _, e := range f.subs {
		g, ok := groupOf(&e.sub)
		if !ok || st.subs[e.sub.Name] != nil {
			continue
		}
		if limit := limits[g.product]; limit > 0 && counts[g] >= limit {
			errs.conflictf(e.line, e.key, "%s would have %d subscriptions to product %s, past its subscriptions_limit of %d", g.owner, counts[g]+1, g.product, limit)
		}
		counts[g]++
	}
}

// checkKeys refuses subscription keys that the store holds for another
// subscription: keys are unique, and the store would refuse them midway.
func (f *File) checkKeys(ctx context.Context, s portal.Store, errs *errorList) error {
	for _, e := range f.subs {
		for _, k := range []struct{ field, key string }{{"primary_key", e.sub.PrimaryKey}, {"secondary_key", e.sub.SecondaryKey}} {
			if k.key == "" {
				continue
			}
			holder, _, err := s.FindSubscriptionByKey(ctx, k.key)
			if portal.ErrorCode(err) == portal.ENOTFOUND {
				continue
			} else if err != nil {
				return fmt.Errorf("look up subscription key: %w", err)
			}
			if holder.Name != e.sub.Name {
				line, key := e.at(k.field)
				errs.conflictf(line, key, "this key belongs to subscription %s in the store; keys must be unique", holder.Name)
			}
		}
	}
	return nil
}

// planDeletions adds the pruned objects, and shows the subscriptions and
// product memberships that go with them.
func (p *Plan) planDeletions(st *storeState, del deletions) {
	gone := map[string]bool{} // subscriptions deleted, directly or not
	for _, n := range st.apiNames {
		if del.apis[n] {
			p.cs.DeleteAPIs = append(p.cs.DeleteAPIs, n)
			p.remove("api", n, "")
		}
	}
	for _, n := range st.productNames {
		if del.products[n] {
			p.cs.DeleteProducts = append(p.cs.DeleteProducts, n)
			p.remove("product", n, "")
		}
	}
	for _, n := range st.userEmails {
		if del.users[n] {
			p.cs.DeleteUsers = append(p.cs.DeleteUsers, n)
			p.remove("user", n, "")
		}
	}
	for _, n := range st.subNames {
		if del.subs[n] {
			p.cs.DeleteSubscriptions = append(p.cs.DeleteSubscriptions, n)
			p.remove("subscription", n, "")
			gone[n] = true
		}
	}
	for _, n := range st.idpNames {
		if del.idps[n] {
			p.cs.DeleteIdentityProviders = append(p.cs.DeleteIdentityProviders, n)
			p.remove("identity_provider", n, "")
		}
	}
	// The store deletes these along with their API, product or owner; they
	// are shown, not listed in the change set, so that the store does not
	// find them already gone.
	for _, n := range st.productNames {
		prod := st.products[n]
		if del.products[n] || slices.ContainsFunc(p.cs.Products, func(x *portal.Product) bool { return x.Name == n }) {
			continue
		}
		var lost []string
		for _, a := range prod.APIs {
			if del.apis[a] {
				lost = append(lost, a)
			}
		}
		if len(lost) > 0 {
			kept := slices.DeleteFunc(slices.Clone(prod.APIs), func(a string) bool { return del.apis[a] })
			p.changes = append(p.changes, change{op: '~', kind: "product", name: n,
				text: "apis [" + strings.Join(prod.APIs, ", ") + "] -> [" + strings.Join(kept, ", ") + "] (API " + strings.Join(lost, ", ") + " is deleted)"})
		}
	}
	for _, n := range st.subNames {
		s := st.subs[n]
		if gone[n] {
			continue
		}
		var why string
		switch {
		case s.Scope.Kind == portal.ScopeAPI && del.apis[s.Scope.Name]:
			why = "its API " + s.Scope.Name + " is deleted"
		case s.Scope.Kind == portal.ScopeProduct && del.products[s.Scope.Name]:
			why = "its product " + s.Scope.Name + " is deleted"
		case s.OwnerEmail != "" && del.users[s.OwnerEmail]:
			why = "its owner " + s.OwnerEmail + " is deleted"
		default:
			continue
		}
		gone[n] = true
		p.remove("subscription", n, why)
	}
}

func sameSettings(a, b *portal.Settings) bool { return len(settingsDiff(a, b).lines) == 0 }

func settingsDiff(have, want *portal.Settings) *diff {
	d := &diff{kind: "portal"}
	d.str("title", have.Title, want.Title)
	d.str("anonymous_access", string(have.AnonymousAccess), string(want.AnonymousAccess))
	d.boolean("basic_auth.signin", have.BasicAuth.SignIn, want.BasicAuth.SignIn)
	d.boolean("basic_auth.signup", have.BasicAuth.SignUp, want.BasicAuth.SignUp)
	d.boolean("basic_auth.email_confirmation", have.BasicAuth.EmailConfirmation, want.BasicAuth.EmailConfirmation)
	d.list("basic_auth.allowed_email_domains", have.BasicAuth.AllowedEmailDomains, want.BasicAuth.AllowedEmailDomains)
	d.integer("basic_auth.min_password_length", have.BasicAuth.MinPasswordLength, want.BasicAuth.MinPasswordLength)
	d.str("terms_of_use", have.TermsOfUse, want.TermsOfUse)
	d.duration("invitation_ttl", have.InvitationTTL, want.InvitationTTL)
	d.duration("session.idle_timeout", have.Session.IdleTimeout, want.Session.IdleTimeout)
	d.duration("session.absolute_timeout", have.Session.AbsoluteTimeout, want.Session.AbsoluteTimeout)
	return d
}

func apiDiff(have, want *portal.API) *diff {
	d := &diff{kind: "api", name: want.Name}
	d.str("display_name", have.DisplayName, want.DisplayName)
	d.str("description", have.Description, want.Description)
	d.str("path", have.Path, want.Path)
	switch {
	case have.Spec.Digest != want.Spec.Digest && want.Spec.Location == "":
		d.text(fmt.Sprintf("openapi %s -> none (%d -> 0 operations: any path is accepted)", show(have.Spec.Location), len(have.Operations)))
	case have.Spec.Digest != want.Spec.Digest && have.Spec.Digest == "":
		d.text(fmt.Sprintf("openapi none -> %s (%d -> %d operations)", show(want.Spec.Location), len(have.Operations), len(want.Operations)))
	case have.Spec.Digest != want.Spec.Digest:
		d.text(fmt.Sprintf("openapi %s: document changed (%d -> %d operations)", show(want.Spec.Location), len(have.Operations), len(want.Operations)))
	case want.Spec.Digest == "" && len(have.Operations) > 0:
		d.text(fmt.Sprintf("operations removed (%d -> 0: any path is accepted)", len(have.Operations)))
	case have.Spec.Format != want.Spec.Format || !sameValue(reflect.ValueOf(have.Operations), reflect.ValueOf(want.Operations)):
		// The same document read differently: a newer importer.
		d.text(fmt.Sprintf("operations re-read from the same document (%d -> %d operations)", len(have.Operations), len(want.Operations)))
	}
	// A moved document with the same content is no change by itself (so
	// that an export with its own spec files applies as no change); the new
	// location is stored with the next change of the API.
	d.str("version", have.Version, want.Version)
	d.str("backend.url", have.Backend.URL, want.Backend.URL)
	d.duration("backend.timeout", have.Backend.Timeout, want.Backend.Timeout)
	d.boolean("subscription_required", have.SubscriptionRequired, want.SubscriptionRequired)
	d.str("subscription_key.header", have.KeyHeader, want.KeyHeader)
	d.str("subscription_key.query", have.KeyQuery, want.KeyQuery)
	backendAuthDiff(d, have.Backend.Auth, want.Backend.Auth)
	policiesDiff(d, &have.Policies, &want.Policies)
	return d
}

func productDiff(have, want *portal.Product) *diff {
	d := &diff{kind: "product", name: want.Name}
	d.str("display_name", have.DisplayName, want.DisplayName)
	d.str("description", have.Description, want.Description)
	d.str("terms", have.Terms, want.Terms)
	haveAPIs := slices.Sorted(slices.Values(have.APIs))
	d.list("apis", haveAPIs, want.APIs)
	d.str("state", string(have.State), string(want.State))
	d.boolean("subscription_required", have.SubscriptionRequired, want.SubscriptionRequired)
	d.boolean("approval_required", have.ApprovalRequired, want.ApprovalRequired)
	d.integer("subscriptions_limit", have.SubscriptionsLimit, want.SubscriptionsLimit)
	d.str("rate_limit", showRateLimit(have.RateLimit), showRateLimit(want.RateLimit))
	return d
}

func showRateLimit(rl *portal.RateLimit) string {
	if rl == nil {
		return "none"
	}
	return fmt.Sprintf("%d/%s", rl.Calls, formatDuration(rl.Period))
}

func userDiff(have, want *portal.User) *diff {
	d := &diff{kind: "user", name: want.Email}
	d.str("name", have.Name, want.Name)
	d.str("role", string(have.Role), string(want.Role))
	d.str("state", string(have.State), string(want.State))
	return d
}

func subscriptionDiff(have, want *portal.Subscription) *diff {
	d := &diff{kind: "subscription", name: want.Name}
	d.str("display_name", have.DisplayName, want.DisplayName)
	d.str("owner", have.OwnerEmail, want.OwnerEmail)
	d.str("scope", have.Scope.String(), want.Scope.String())
	d.str("state", string(have.State), string(want.State))
	d.str("state_comment", have.StateComment, want.StateComment)
	d.str("expires_at", showTime(have.ExpiresAt), showTime(want.ExpiresAt))
	return d
}

func showTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// sameValue is reflect.DeepEqual except that a nil and an empty slice are
// equal, since stores need not keep the difference.
func sameValue(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// Apply writes the plan in one Store.Apply: all of it or nothing. An empty
// plan writes nothing, so the store's Version does not move. A refusal by
// the store (a rule only it can check, such as a product's subscriptions
// limit, or a change made by someone else since the plan) is an *Error
// naming the file; portal.ErrorCode gives the store's code.
func Apply(ctx context.Context, p *Plan, c Config) error {
	if p.Empty() {
		return nil
	}
	if c.Store == nil {
		return errors.New("configfile: Config.Store is nil")
	}
	if err := c.Store.Apply(ctx, &p.cs); err != nil {
		return &Error{File: p.path, Err: applyError{err}}
	}
	return nil
}
