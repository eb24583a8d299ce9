package views

import "github.com/porticoapi/portico/web/components"

// SignInView is the sign-in page.
type SignInView struct {
	Shell          components.Shell
	Email          string // as typed, kept after a failed attempt
	Next           string // where to go after signing in; a same-origin path
	Error          string
	PasswordSignIn bool   // false: password sign-in is turned off
	SignUpURL      string // empty when self-registration is off
}

// AdminFrame is what every administration page has around its content:
// the layout, the section navigation, breadcrumbs, the heading and the
// notice left by the previous action.
type AdminFrame struct {
	Shell  components.Shell
	Nav    []components.NavItem
	Trail  []components.Link // empty on the dashboard
	Title  string
	Notice string
}

// AdminHomeView is the administration dashboard.
type AdminHomeView struct {
	Frame   AdminFrame
	Counts  []AdminCount
	Pending []SubscriptionRow // subscriptions waiting for approval
	// PendingTotal counts them all; Pending holds the first few.
	PendingTotal int
	PendingURL   string
}

// AdminCount is one tile of the dashboard.
type AdminCount struct {
	Label string
	Count int
	URL   string
}

// AdminAPIsView lists every API.
type AdminAPIsView struct {
	Frame AdminFrame
	APIs  []AdminAPIRow
}

// AdminAPIRow is one API in the administration list.
type AdminAPIRow struct {
	Name        string
	Title       string
	EditURL     string
	PoliciesURL string
	PortalURL   string
	Path        string
	Backend     string
	Operations  int
	Badges      []components.Badge
}

// APIForm holds the values of the API form as typed.
type APIForm struct {
	Name                 string
	DisplayName          string
	Path                 string
	BackendURL           string
	BackendTimeout       string // a Go duration: "30s"
	SubscriptionRequired bool
	KeyHeader            string
	KeyQuery             string
}

// APIFormView is the form that creates (Create) or edits an API.
type APIFormView struct {
	Frame       AdminFrame
	Create      bool
	Action      string
	CancelURL   string
	DeleteURL   string // edit only
	PoliciesURL string // edit only: the API's policy editor
	Error       string
	Form        APIForm
	Spec        []components.Fact // edit only: the stored document
}

// ConfirmView asks before deleting something.
type ConfirmView struct {
	Frame        AdminFrame
	Question     string
	Consequences []string
	Action       string
	Button       string
	CancelURL    string
}

// AdminProductsView lists every product.
type AdminProductsView struct {
	Frame    AdminFrame
	Products []AdminProductRow
}

// AdminProductRow is one product in the administration list.
type AdminProductRow struct {
	Name      string
	Title     string
	EditURL   string
	PortalURL string
	APIs      []string
	Badges    []components.Badge
}

// ProductForm holds the values of the product form as typed.
type ProductForm struct {
	Name                 string
	DisplayName          string
	Description          string
	Terms                string
	State                string
	SubscriptionRequired bool
	ApprovalRequired     bool
	SubscriptionsLimit   string
	RateLimitCalls       string
	RateLimitPeriod      string
}

// ProductFormView is the form that creates (Create) or edits a product.
type ProductFormView struct {
	Frame     AdminFrame
	Create    bool
	Action    string
	CancelURL string
	DeleteURL string
	Error     string
	Form      ProductForm
	States    []components.Choice
	APIs      []components.Checkbox
}

// SubscriptionRow is one subscription in a list.
type SubscriptionRow struct {
	Title   string
	Name    string
	URL     string
	Owner   string
	Scope   string
	State   components.Badge
	Created string
	Expires string
	Actions []components.PostButton
}

// AdminSubscriptionsView lists subscriptions with a filter form.
type AdminSubscriptionsView struct {
	Frame      AdminFrame
	State      components.Select
	Owner      string
	Scope      components.Select
	ClearURL   string // empty when no filter is in force
	Rows       []SubscriptionRow
	Total      int
	Pagination components.Pagination
}

// SubscriptionForm holds the values of the new-subscription form as typed.
type SubscriptionForm struct {
	Name        string
	DisplayName string
	Owner       string
	Scope       string
	State       string
	ExpiresAt   string
}

// SubscriptionFormView is the form that creates a subscription.
type SubscriptionFormView struct {
	Frame     AdminFrame
	Action    string
	CancelURL string
	Error     string
	Form      SubscriptionForm
	Scopes    components.Select
	States    []components.Choice
}

// SubscriptionKey is one of a subscription's keys.
type SubscriptionKey struct {
	Label         string // "Primary key"
	Kind          string // "primary" or "secondary": the data-testid is Kind+"-key"
	Key           string
	Ending        string // the last characters, shown while the key is hidden
	RegenerateURL string
}

// AdminSubscriptionView is one subscription: its facts, keys and actions.
type AdminSubscriptionView struct {
	Frame   AdminFrame
	Error   string
	State   components.Badge
	Comment string
	Facts   []components.Fact
	// Revealed shows the keys in full rather than behind a disclosure,
	// right after they were made.
	Revealed bool
	Keys     []SubscriptionKey
	Actions  []components.PostButton
}

// PolicyForm holds the values of an API's policy form as typed, or as
// formatted from the stored policies. Secrets (signing keys, passwords,
// client secrets, private keys) are never part of it, so no page can show
// them: the *Set fields and StoredKeys only say what is stored.
type PolicyForm struct {
	IPFilterEnabled   bool
	IPFilterAction    string // allow | forbid
	IPFilterAddresses string // one address or CIDR a line
	IPFilterRanges    string // one "from-to" a line

	JWTEnabled       bool
	JWTHeader        string
	JWTQuery         string
	JWTRequireScheme string
	JWTOpenIDConfig  string // one URL a line
	// JWTStoredKeys describes each stored signing key (its kind, never its
	// value); JWTClearKeys asks to drop them.
	JWTStoredKeys            []string
	JWTClearKeys             bool
	JWTIssuers               string // one a line
	JWTAudiences             string // one a line
	JWTRequiredClaims        string // one "name: all|any: v1, v2 [separator X]" a line
	JWTClockSkew             string // a Go duration
	JWTRequireExpirationTime bool
	JWTRequireSignedTokens   bool
	JWTFailedStatus          string
	JWTFailedMessage         string

	CertEnabled           bool
	CertValidateTrust     bool
	CertValidateNotBefore bool
	CertValidateNotAfter  bool
	CertCACertificates    string // PEM, one or more certificates
	CertIdentities        string // one "key=value; key=value" identity a line

	RateLimitEnabled bool
	RateLimitCalls   string
	RateLimitPeriod  string

	BackendAuth       string // none | basic | oauth | certificate
	BasicUsername     string
	BasicPasswordSet  bool
	OAuthTokenURL     string
	OAuthClientID     string
	OAuthSecretSet    bool
	OAuthScope        string
	OAuthResource     string
	CertificatePEM    string
	CertificateKeySet bool
}

// PoliciesView is an API's policy editor: the form, and the form that
// replaces the policies from pasted APIM policy XML.
type PoliciesView struct {
	Frame     AdminFrame
	Action    string // POST target of the policy form
	CancelURL string
	Error     string // why the policy form was not saved
	// SecretsDropped says that the refused form had secrets typed in it,
	// which are not shown again.
	SecretsDropped bool
	Form           PolicyForm
	IPActions      components.RadioGroup
	BackendAuth    components.RadioGroup

	XMLAction   string
	XML         string   // the pasted document, kept after problems
	XMLProblems []string // "line N: element: message"
}
