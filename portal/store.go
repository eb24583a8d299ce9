package portal

import "context"

// Store is everything a storage backend provides. Both the SQLite and the
// PostgreSQL stores implement it and pass portaltest.RunStoreTests.
type Store interface {
	UserService
	APIService
	ProductService
	SubscriptionService
	SettingsService
	SessionService
	DenialService
	OutboxService
	CaptchaService
	AccountTokenService
	IdentityProviderService

	// Apply writes a whole change set in one transaction: all of it or,
	// on any error, nothing. Errors are those of the individual services,
	// with messages naming the object.
	Apply(ctx context.Context, cs *ChangeSet) error

	// Version returns a number that grows with every committed change to
	// users, APIs, products, subscriptions or settings, on every instance
	// sharing the store. Caches poll it to know when to reload.
	Version(ctx context.Context) (int64, error)
}

// ChangeSet is a batch of upserts and deletions, as `portico apply` makes
// from a config file. Objects are matched by name (users by email).
type ChangeSet struct {
	Settings *Settings

	// Users are upserted by email. An empty PasswordHash keeps the stored
	// one (and leaves a new user without a password). A user whose role,
	// state or password changes loses their sessions, in the same
	// transaction.
	Users []*User
	// APIs are upserted by name. Nil Operations keep the stored ones.
	APIs []*API
	// Products are upserted by name; their subscriptions are kept.
	Products []*Product
	// Subscriptions are upserted by name, their owner named by OwnerEmail
	// (empty: no owner). Empty keys keep the stored keys of an existing
	// subscription and are generated for a new one; given keys are set.
	Subscriptions []*Subscription
	// Invitations are recorded after the users are upserted, each for
	// the user with its email, replacing that user's older invitations.
	Invitations []*NewInvitation
	// IdentityProviders are upserted by name. An empty ClientSecret keeps
	// the stored one.
	IdentityProviders []*IdentityProvider

	// Deletions, applied after the upserts.
	DeleteSubscriptions []string
	DeleteProducts      []string
	DeleteAPIs          []string
	DeleteUsers         []string // emails
	// DeleteIdentityProviders are names; linked identities stay.
	DeleteIdentityProviders []string
}

// Empty reports whether the change set changes nothing.
func (cs *ChangeSet) Empty() bool {
	return cs.Settings == nil && len(cs.Users) == 0 && len(cs.APIs) == 0 && len(cs.Products) == 0 &&
		len(cs.Subscriptions) == 0 && len(cs.Invitations) == 0 && len(cs.DeleteSubscriptions) == 0 && len(cs.DeleteProducts) == 0 &&
		len(cs.DeleteAPIs) == 0 && len(cs.DeleteUsers) == 0 &&
		len(cs.IdentityProviders) == 0 && len(cs.DeleteIdentityProviders) == 0
}
