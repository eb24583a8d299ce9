package views

import "github.com/porticoapi/portico/web/components"

// SubscribeForm is the subscribe form of a product's page, for a signed-in
// user; it keeps what they typed when it comes back with a message.
type SubscribeForm struct {
	Product     string // the product's name, sent back as "product"
	DisplayName string
	Terms       bool // the product has terms: a required checkbox
	Accepted    bool
	Error       string
	Approval    bool   // new subscriptions wait for an administrator
	Summary     string // how many live subscriptions to the product the user has, if any
	LimitText   string // set when the limit is reached: why there is no form
	ProfileURL  string
	// Subscriptions are the user's own subscriptions to the product,
	// newest first, with their state: a request waiting for approval
	// shows as such. Only a signed-in user's page has them, and the page
	// cache never keeps those (pagecache.go).
	Subscriptions []ProductSubscription
}

// ProductSubscription is one of the user's subscriptions on the product's
// page.
type ProductSubscription struct {
	Title string
	State components.Badge
}

// ProfileView is the signed-in user's account page: who they are and
// their subscriptions with keys and actions.
type ProfileView struct {
	Shell         components.Shell
	Email         string
	Role          string
	Notice        string // the previous action's outcome
	Error         string // why the previous action was refused
	Links         []components.Link
	NameForm      ProfileNameForm
	Subscriptions []ProfileSubscription
	ProductsURL   string
	// Identities are the provider accounts linked to the user;
	// LinkProviders the providers they may link (another) one of.
	Identities    []ProfileIdentity
	LinkProviders []IdentityProviderButton // URL: the POST that starts linking
}

// ProfileNameForm changes the user's display name; it keeps what they
// typed when it comes back with a message.
type ProfileNameForm struct {
	Action string
	Value  string
	Error  string
}

// ProfileIdentity is one identity linked to the user's account.
type ProfileIdentity struct {
	ID        string
	Provider  string // the provider's display name
	Email     string // as the provider last claimed it
	Linked    string
	LastUsed  string
	UnlinkURL string // empty when it is the last way to sign in
	KeepNote  string // why it cannot be unlinked
	// Unconfirmed: a provider sign-up linked it to the address without
	// the address being confirmed; it does not sign in.
	Unconfirmed bool
}

// ProfileSubscription is one of the user's subscriptions.
type ProfileSubscription struct {
	ID       string // the id, for element ids on the page
	Title    string
	Name     string
	Scope    string // "Product Starter", "All APIs"
	ScopeURL string
	State    components.Badge
	Comment  string // an administrator's reason for a rejection or suspension
	Created  string
	Expires  string
	// Keys are shown for live subscriptions (submitted, active,
	// suspended) only; KeysNote says what they are good for now.
	Keys      []ProfileKey
	KeysNote  string
	Open      bool   // just created: its keys are shown unfolded
	CancelURL string // empty when the state cannot be cancelled
}

// ProfileKey is one key of a subscription: hidden behind a disclosure,
// with a copy button and a regenerate form.
type ProfileKey struct {
	ElementID     string // unique on the page; the copy button targets it
	Label         string // "Primary key"
	Kind          string // "primary" or "secondary": the data-testid is Kind+"-key"
	Key           string
	Ending        string
	RegenerateURL string
}
