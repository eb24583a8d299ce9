package portal

import (
	"context"
	"strings"
	"time"
)

// SubscriptionState is the life cycle of a subscription, as in APIM.
type SubscriptionState string

const (
	SubscriptionSubmitted SubscriptionState = "submitted" // waiting for an administrator's approval
	SubscriptionActive    SubscriptionState = "active"    // keys pass the gateway
	SubscriptionSuspended SubscriptionState = "suspended" // keys refused until reactivated
	SubscriptionRejected  SubscriptionState = "rejected"
	SubscriptionCancelled SubscriptionState = "cancelled"
	SubscriptionExpired   SubscriptionState = "expired"
)

// ValidSubscriptionState reports whether s is a known state.
func ValidSubscriptionState(s SubscriptionState) bool {
	switch s {
	case SubscriptionSubmitted, SubscriptionActive, SubscriptionSuspended, SubscriptionRejected, SubscriptionCancelled, SubscriptionExpired:
		return true
	}
	return false
}

// SubscriptionAction is a state change an administrator or owner asks for.
type SubscriptionAction string

const (
	ActionApprove    SubscriptionAction = "approve"
	ActionReject     SubscriptionAction = "reject"
	ActionSuspend    SubscriptionAction = "suspend"
	ActionReactivate SubscriptionAction = "reactivate"
	ActionCancel     SubscriptionAction = "cancel"
)

// Next returns the state that action leads to from s, or EINVALID when the
// action does not apply (approving an active subscription, say).
func (s SubscriptionState) Next(action SubscriptionAction) (SubscriptionState, error) {
	switch {
	case action == ActionApprove && s == SubscriptionSubmitted:
		return SubscriptionActive, nil
	case action == ActionReject && s == SubscriptionSubmitted:
		return SubscriptionRejected, nil
	case action == ActionSuspend && s == SubscriptionActive:
		return SubscriptionSuspended, nil
	case action == ActionReactivate && s == SubscriptionSuspended:
		return SubscriptionActive, nil
	case action == ActionCancel && (s == SubscriptionSubmitted || s == SubscriptionActive || s == SubscriptionSuspended):
		return SubscriptionCancelled, nil
	}
	return s, Errorf(EINVALID, "A %s subscription cannot be given the action %q.", s, action)
}

// Actions lists the actions that apply to a subscription in state s.
func (s SubscriptionState) Actions() []SubscriptionAction {
	var out []SubscriptionAction
	for _, a := range []SubscriptionAction{ActionApprove, ActionReject, ActionSuspend, ActionReactivate, ActionCancel} {
		if _, err := s.Next(a); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// ScopeKind is what a subscription's keys give access to.
type ScopeKind string

const (
	ScopeProduct ScopeKind = "product"
	ScopeAPI     ScopeKind = "api"
	ScopeAll     ScopeKind = "all"
)

// Scope is a subscription's reach: one product, one API, or all APIs.
type Scope struct {
	Kind ScopeKind
	Name string // product or API name; empty for ScopeAll
}

// String formats the scope as in the config file: product:NAME, api:NAME, all.
func (s Scope) String() string {
	if s.Kind == ScopeAll {
		return "all"
	}
	return string(s.Kind) + ":" + s.Name
}

// ParseScope reads product:NAME, api:NAME or all.
func ParseScope(s string) (Scope, error) {
	if s == "all" {
		return Scope{Kind: ScopeAll}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if ok && (kind == string(ScopeProduct) || kind == string(ScopeAPI)) && ValidName(name) {
		return Scope{Kind: ScopeKind(kind), Name: name}, nil
	}
	return Scope{}, Errorf(EINVALID, "Scope %q must be product:NAME, api:NAME or all.", s)
}

// KeyKind names one of a subscription's two keys.
type KeyKind string

const (
	PrimaryKey   KeyKind = "primary"
	SecondaryKey KeyKind = "secondary"
)

// Subscription gives its owner a pair of keys for the APIs in its scope.
type Subscription struct {
	ID           int64
	Name         string // URL-safe, unique
	DisplayName  string
	OwnerID      int64  // 0: no owner (automation)
	OwnerEmail   string // on create and in change sets, names the owner when OwnerID is 0; filled on reads
	OwnerName    string // filled on reads
	OwnerState   UserState
	Scope        Scope
	State        SubscriptionState
	StateComment string // why it was rejected or suspended, shown to the owner

	// PrimaryKey and SecondaryKey are plaintext and transient: on create
	// they choose the keys (generated when empty) and are filled with the
	// result; reads leave them empty (RevealSubscriptionKeys decrypts them).
	PrimaryKey   string
	SecondaryKey string

	ExpiresAt *time.Time // after it the keys stop passing
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Title returns the display name, or the name when there is none.
func (s *Subscription) Title() string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.Name
}

// EffectiveState is the state, or expired once ExpiresAt has passed.
func (s *Subscription) EffectiveState(now time.Time) SubscriptionState {
	if s.State == SubscriptionActive && s.ExpiresAt != nil && !now.Before(*s.ExpiresAt) {
		return SubscriptionExpired
	}
	return s.State
}

// KeysPass reports whether the subscription's keys are accepted at now:
// active, not expired, and not owned by a blocked or pending user.
func (s *Subscription) KeysPass(now time.Time) bool {
	if s.EffectiveState(now) != SubscriptionActive {
		return false
	}
	return s.OwnerID == 0 || s.OwnerState == UserActive
}

// Validate checks a subscription's own fields.
func (s *Subscription) Validate() error {
	if err := validateName("Subscription", s.Name); err != nil {
		return err
	}
	if len(s.DisplayName) > 300 {
		return Errorf(EINVALID, "Subscription %s: display name must be at most 300 characters.", s.Name)
	}
	switch s.Scope.Kind {
	case ScopeAll:
		if s.Scope.Name != "" {
			return Errorf(EINVALID, "Subscription %s: scope all takes no name.", s.Name)
		}
	case ScopeProduct, ScopeAPI:
		if !ValidName(s.Scope.Name) {
			return Errorf(EINVALID, "Subscription %s: scope %q names no valid %s.", s.Name, s.Scope, s.Scope.Kind)
		}
	default:
		return Errorf(EINVALID, "Subscription %s: scope must be product:NAME, api:NAME or all.", s.Name)
	}
	if !ValidSubscriptionState(s.State) {
		return Errorf(EINVALID, "Subscription %s: state %q must be submitted, active, suspended, rejected, cancelled or expired.", s.Name, s.State)
	}
	for _, k := range []string{s.PrimaryKey, s.SecondaryKey} {
		if k == "" {
			continue
		}
		if err := ValidateKey(k); err != nil {
			return Errorf(EINVALID, "Subscription %s: %s", s.Name, ErrorMessage(err))
		}
	}
	if s.PrimaryKey != "" && s.PrimaryKey == s.SecondaryKey {
		return Errorf(EINVALID, "Subscription %s: primary and secondary keys must differ.", s.Name)
	}
	return nil
}

// SubscriptionService manages subscriptions and their keys.
type SubscriptionService interface {
	// FindSubscriptionByID returns ENOTFOUND.
	FindSubscriptionByID(ctx context.Context, id int64) (*Subscription, error)
	// FindSubscriptionByName returns ENOTFOUND.
	FindSubscriptionByName(ctx context.Context, name string) (*Subscription, error)
	// FindSubscriptionByKey returns the subscription holding key as its
	// primary or secondary key, and which one. Returns ENOTFOUND.
	FindSubscriptionByKey(ctx context.Context, key string) (*Subscription, KeyKind, error)
	// FindSubscriptions returns subscriptions, newest first, and the total.
	FindSubscriptions(ctx context.Context, filter SubscriptionFilter) ([]*Subscription, int, error)
	// CreateSubscription validates s, generates the keys left empty and
	// fills PrimaryKey, SecondaryKey, ID and the times. Returns EINVALID
	// (unknown owner or scope), or ECONFLICT if the name or a key is taken or
	// the owner reached the product's subscriptions limit.
	CreateSubscription(ctx context.Context, s *Subscription) error
	// UpdateSubscription changes the fields set in upd. Returns ENOTFOUND,
	// EINVALID, or ECONFLICT (a key taken, or upd.ExpectState set and the
	// stored state another).
	UpdateSubscription(ctx context.Context, id int64, upd SubscriptionUpdate) (*Subscription, error)
	// RegenerateSubscriptionKey replaces one key with a new random key and
	// returns it. Returns ENOTFOUND.
	RegenerateSubscriptionKey(ctx context.Context, id int64, kind KeyKind) (string, error)
	// RevealSubscriptionKeys decrypts both keys. Returns ENOTFOUND.
	RevealSubscriptionKeys(ctx context.Context, id int64) (primary, secondary string, err error)
	// DeleteSubscription returns ENOTFOUND.
	DeleteSubscription(ctx context.Context, id int64) error
}

// SubscriptionFilter selects subscriptions; zero fields do not filter.
type SubscriptionFilter struct {
	OwnerID int64
	State   SubscriptionState
	Scope   *Scope

	Offset int
	Limit  int // 0: no limit
}

// SubscriptionUpdate lists the fields to change; nil fields are kept.
type SubscriptionUpdate struct {
	DisplayName  *string
	State        *SubscriptionState
	StateComment *string
	ExpiresAt    **time.Time // set to a nil *time.Time to clear
	PrimaryKey   *string
	SecondaryKey *string

	// ExpectState, when set, makes the update conditional: it applies only
	// while the stored state is still this one, checked in the same
	// transaction as the write, and otherwise fails with ECONFLICT. A state change worked out from an earlier
	// read (State.Next) passes the state it started from, so that of two
	// people acting at once only the first wins: an administrator's
	// approval must not revive a subscription its owner cancelled
	// meanwhile, with working keys and past the product's limit.
	ExpectState *SubscriptionState
}

// KeyProtector keeps subscription keys out of storage in plain text: stores
// keep a keyed hash for lookup and a sealed (encrypted and authenticated)
// copy so that the owner can be shown the key again.
type KeyProtector interface {
	// KeyHash returns a keyed hash of key, the same for the same key.
	KeyHash(key string) []byte
	// Seal encrypts and authenticates plaintext.
	Seal(plaintext []byte) []byte
	// Open reverses Seal; it fails if sealed was altered or sealed under
	// another secret.
	Open(sealed []byte) ([]byte, error)
}

// Live reports whether a subscription in state s holds, or may come to
// hold, working keys: submitted, active or suspended. These are the states
// that count towards a product's subscriptions limit and whose keys the
// owner may still see and regenerate.
func (s SubscriptionState) Live() bool {
	return s == SubscriptionSubmitted || s == SubscriptionActive || s == SubscriptionSuspended
}

// SubscriptionRequest is a developer asking, from the portal, to subscribe
// to a product.
type SubscriptionRequest struct {
	Product       *Product
	Owner         *User
	DisplayName   string
	TermsAccepted bool
}

// Subscription checks the request against the product's rules and returns
// the subscription to create: scoped to the product, owned by the
// requester, submitted when the product requires approval and active
// otherwise, under a generated name. The subscriptions limit is the
// store's to enforce (CreateSubscription), in the same transaction as the
// insert. Returns EINVALID when the product is not published or needs no
// subscription, when its terms are not accepted, or when the display name
// is too long.
func (req SubscriptionRequest) Subscription() (*Subscription, error) {
	p := req.Product
	switch {
	case p.State != ProductPublished:
		return nil, Errorf(EINVALID, "Product %s is not published; only published products can be subscribed to.", p.Title())
	case p.IsOpen():
		return nil, Errorf(EINVALID, "Product %s is open: its APIs need no subscription.", p.Title())
	case p.Terms != "" && !req.TermsAccepted:
		return nil, Errorf(EINVALID, "Accept the terms of use of %s to subscribe.", p.Title())
	}
	display := strings.TrimSpace(req.DisplayName)
	if len(display) > 300 {
		return nil, Errorf(EINVALID, "The subscription's name must be at most 300 characters.")
	}
	state := SubscriptionActive
	if p.ApprovalRequired {
		state = SubscriptionSubmitted
	}
	return &Subscription{
		Name:        subscriptionName(p.Name),
		DisplayName: display,
		OwnerID:     req.Owner.ID,
		Scope:       Scope{Kind: ScopeProduct, Name: p.Name},
		State:       state,
	}, nil
}

// subscriptionName is product's name and 64 random bits, cut to fit a
// name: unique without asking the store, and telling what it is for.
func subscriptionName(product string) string {
	suffix := "-" + GenerateKey()[:16]
	if len(product)+len(suffix) > MaxNameLength {
		product = strings.TrimRight(product[:MaxNameLength-len(suffix)], "-_.")
	}
	return product + suffix
}
