package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"github.com/porticoapi/portico/portal"
	"golang.org/x/oauth2"
)

// IdentityStore is what sign-in with an identity provider reads and
// writes. portal.Store implements it.
type IdentityStore interface {
	FindIdentityProviderByName(ctx context.Context, name string) (*portal.IdentityProvider, error)
	FindIdentity(ctx context.Context, issuer, subject string) (*portal.Identity, error)
	CreateIdentity(ctx context.Context, i *portal.Identity) error
	TouchIdentity(ctx context.Context, id int64, email string, at time.Time) error
	FindUserByID(ctx context.Context, id int64) (*portal.User, error)
	FindUserByEmail(ctx context.Context, email string) (*portal.User, error)
	CreateUser(ctx context.Context, u *portal.User) error
	// DeleteUser undoes a sign-up whose identity could not be linked.
	DeleteUser(ctx context.Context, id int64) error
	// ConfirmIdentity confirms an unconfirmed identity that its account's
	// signed-in owner links again.
	ConfirmIdentity(ctx context.Context, userID, id int64) error
	FindSettings(ctx context.Context) (*portal.Settings, error)
}

// Lifetimes of the OpenID Connect flow.
const (
	// FlowTTL bounds the time between starting a sign-in and its callback:
	// the state, nonce and PKCE verifier expire after it.
	FlowTTL = 10 * time.Minute
	// maxFlows bounds the sign-ins pending in one session (a few tabs).
	maxFlows = 4
	// maxClockSkew is how far in the future an ID token's iat may be.
	maxClockSkew = 5 * time.Minute
	// discoveryTTL is how long a provider's discovery document is used
	// before it is fetched again.
	discoveryTTL = time.Hour
	// discoveryFailureTTL is how long a failed discovery is answered from
	// memory: while a provider is down, anonymous visitors must not make
	// the portal call it (for up to DefaultProviderTimeout) on every
	// request.
	discoveryFailureTTL = 30 * time.Second
	// maxIdentityKey bounds an identity's issuer and subject, as
	// portal.Identity.Validate does; checked before anything is stored.
	maxIdentityKey = 500
)

// flowsKey holds the pending sign-ins in the session, as JSON.
const flowsKey = "oidc_flows"

// OIDCConfig is what OIDC needs.
type OIDCConfig struct {
	// Auth owns the sessions the flow's state lives in and starts the
	// signed-in session.
	Auth  *Auth
	Store IdentityStore
	// PublicURL is the portal's external URL; redirect URIs are
	// {PublicURL}/signin/{idp}/callback, never built from a request.
	PublicURL string
	// Client makes the calls to providers; nil: NewProviderClient(0).
	Client *http.Client
	// KeyRefetchInterval: DefaultKeyRefetchInterval when 0.
	KeyRefetchInterval time.Duration
	// Now is the clock of the flow and of token validation; nil: the
	// Auth's clock.
	Now    func() time.Time
	Logger *slog.Logger // nil: the Auth's logger
}

// OIDC signs users in with OpenID Connect providers (Entra ID, Entra
// External ID, any provider with discovery): authorization code flow with
// PKCE S256, state and nonce kept in the server-side session.
type OIDC struct {
	auth      *Auth
	store     IdentityStore
	publicURL string
	client    *http.Client
	refetch   time.Duration
	now       func() time.Time
	logger    *slog.Logger

	mu        sync.Mutex
	providers map[string]*oidcProvider
	failures  map[string]discoveryFailure
	// discovering holds one token per provider being discovered, so that
	// concurrent requests share one fetch.
	discovering map[string]chan struct{}
}

// NewOIDC checks c and returns an OIDC.
func NewOIDC(c OIDCConfig) (*OIDC, error) {
	switch {
	case c.Auth == nil:
		return nil, errors.New("auth: OIDC needs Auth")
	case c.Store == nil:
		return nil, errors.New("auth: OIDC needs Store")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("auth: OIDC public URL %q must be an absolute http or https URL", c.PublicURL)
	}
	o := &OIDC{
		auth:        c.Auth,
		store:       c.Store,
		publicURL:   strings.TrimRight(c.PublicURL, "/"),
		client:      c.Client,
		refetch:     c.KeyRefetchInterval,
		now:         c.Now,
		logger:      c.Logger,
		providers:   map[string]*oidcProvider{},
		failures:    map[string]discoveryFailure{},
		discovering: map[string]chan struct{}{},
	}
	if o.client == nil {
		o.client = NewProviderClient(0)
	}
	if o.now == nil {
		o.now = c.Auth.now
	}
	if o.logger == nil {
		o.logger = c.Auth.logger
	}
	return o, nil
}

// RedirectURI is the callback URL registered at the provider named idp.
func (o *OIDC) RedirectURI(idp string) string {
	return o.publicURL + "/signin/" + url.PathEscape(idp) + "/callback"
}

// flow is one pending sign-in, kept in the session until its callback.
type flow struct {
	IdP      string `json:"idp"`
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	LinkUser int64  `json:"link_user,omitempty"`
	Invite   string `json:"invite,omitempty"`
	Expires  int64  `json:"expires"` // unix seconds
}

// StartOptions vary a sign-in.
type StartOptions struct {
	// Next is the same-origin path to return to; the caller has checked it.
	Next string
	// LinkUserID, when set, links the identity to this signed-in user
	// instead of signing in: the callback requires the same user still
	// signed in to the same browser.
	LinkUserID int64
	// LoginHint is passed to the provider (login_hint) when set.
	LoginHint string
	// Invitation, when set, is kept with the flow and handed back in
	// Result.Invitation: Finish then verifies the identity but neither
	// finds nor creates an account, and the caller accepts the invitation
	// and calls CompleteInvitation.
	Invitation string
}

// Errors the flow shows. The reason of each refusal goes to the log only.
var (
	errProviderUnknown   = portal.Errorf(portal.ENOTFOUND, "There is no such identity provider on this portal.")
	errProviderDown      = portal.Errorf(portal.EUNAVAILABLE, "The identity provider could not be reached. Please try again in a few minutes, or sign in another way.")
	errFlowInvalid       = portal.Errorf(portal.EINVALID, "This sign-in could not be completed: it expired, was already used, or was started in another browser. Please start again.")
	errProviderRefused   = portal.Errorf(portal.EFORBIDDEN, "The identity provider did not sign you in. Please try again.")
	errTokenInvalid      = portal.Errorf(portal.EFORBIDDEN, "The identity provider's answer could not be verified, so you were not signed in. Please try again; if it keeps happening, tell the portal's administrators.")
	errTenantNotAllowed  = portal.Errorf(portal.EFORBIDDEN, "Accounts of your organization cannot sign in to this portal.")
	errNoAccount         = portal.Errorf(portal.EFORBIDDEN, "There is no account for this identity on this portal. Ask the portal's administrators for an invitation.")
	errEmailTaken        = portal.Errorf(portal.ECONFLICT, "An account with this identity's email address already exists. Sign in with your password, then link this identity from your profile.")
	errNoEmail           = portal.Errorf(portal.EFORBIDDEN, "The identity provider did not share your email address, which this portal needs to create your account.")
	errLinkedElsewhere   = portal.Errorf(portal.ECONFLICT, "This identity is already linked to another account.")
	errAccountBlocked    = portal.Errorf(portal.EFORBIDDEN, "This account is blocked. Contact the portal's administrators.")
	errAccountPending    = portal.Errorf(portal.EFORBIDDEN, "This account is not active yet: confirm your email address with the link in the message we sent you, then sign in again.")
	errIdentityTooLong   = portal.Errorf(portal.EFORBIDDEN, "The identity provider names your account with an identifier longer than this portal can store, so you were not signed in. Tell the portal's administrators.")
	errLinkSessionChange = portal.Errorf(portal.EFORBIDDEN, "You are no longer signed in as the account this identity was to be linked to. Sign in and try again.")
)

// errIdentityUnconfirmed refuses an identity a provider sign-up linked to
// an address nobody has confirmed yet, whatever state the account is in.
var errIdentityUnconfirmed = portal.Errorf(portal.EFORBIDDEN, "This identity is not confirmed yet: confirm your email address with the link in the message we sent you, then sign in again.")

// refusal is a failed flow: the error the visitor sees and the reason that
// goes to the log.
type refusal struct {
	show   error
	reason string
	detail error
}

func (r *refusal) Error() string {
	if r.detail != nil {
		return r.reason + ": " + r.detail.Error()
	}
	return r.reason
}

func (r *refusal) Unwrap() error { return r.show }

func refuse(show error, reason string, detail error) error {
	return &refusal{show: show, reason: reason, detail: detail}
}

// RefusalReason returns the log reason of a failed Start or Finish ("" for
// errors that are not refusals).
func RefusalReason(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason
	}
	return ""
}

// Start begins a sign-in with the provider named idp: it keeps a new
// state, nonce and PKCE verifier in the caller's session and returns the
// provider's authorization URL to redirect the browser to. Errors:
// ENOTFOUND for an unknown provider, EUNAVAILABLE when its discovery fails.
func (o *OIDC) Start(w http.ResponseWriter, r *http.Request, idp string, opt StartOptions) (string, error) {
	ctx := r.Context()
	// The stored configuration first (a cheap read), then the limit, and
	// only then discovery: an anonymous visitor must not make the portal
	// call out before being counted.
	cfg, err := o.providerConfig(ctx, idp)
	if err != nil {
		return "", o.log(ctx, idp, err)
	}
	sess, err := o.auth.Session(r)
	if err != nil {
		return "", err
	}
	if sess.ID == "" {
		// The flow is kept in a new session row: bounded per address,
		// as CAPTCHA challenges are.
		if err := o.auth.LimitAddress(r, ActionProviderFlow); err != nil {
			return "", err
		}
	}
	p, err := o.ready(ctx, cfg)
	if err != nil {
		return "", o.log(ctx, idp, err)
	}
	f := flow{
		IdP: idp, State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Next: opt.Next, LinkUser: opt.LinkUserID, Invite: opt.Invitation, Expires: o.now().Add(FlowTTL).Unix(),
	}
	flows := o.liveFlows(sess)
	flows = append(flows, f)
	if len(flows) > maxFlows {
		flows = flows[len(flows)-maxFlows:]
	}
	if err := o.saveFlows(r, w, sess, flows); err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if h := strings.TrimSpace(opt.LoginHint); h != "" && len(h) <= 254 {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", h))
	}
	mode := "sign-in"
	if opt.LinkUserID != 0 {
		mode = "link"
	}
	o.logger.InfoContext(ctx, "oidc flow started", "idp", idp, "mode", mode)
	return p.oauth.AuthCodeURL(f.State, opts...), nil
}

// Result is a completed flow.
type Result struct {
	User *portal.User
	// Next is the path to go on to, as given to Start.
	Next string
	// Created is true when the sign-in created the account; Linked when
	// the flow linked the identity to a signed-in user.
	Created, Linked bool
	// Pending is true when the account is pending because the provider
	// did not vouch for the address: created by this sign-in (Created),
	// or by an earlier one whose confirmation was never used. No session
	// was started; the caller mails a confirmation link to User.Email.
	Pending bool
	// Provider is the name of the identity provider the flow signed in
	// with.
	Provider string
	// Invitation is StartOptions.Invitation of an invitation flow; User is
	// nil then, and Identity (not yet stored, UserID 0) and Name describe
	// who signed in at the provider.
	Invitation string
	Identity   *portal.Identity
	Name       string
}

// Finish completes the flow at the callback of the provider named idp:
// it checks the state against the session (once only), exchanges the code
// with the PKCE verifier, validates the ID token (OpenID Connect Core
// 3.1.3.7) and the userinfo subject, finds or creates the account, and
// starts a new session for it (or links the identity in link mode).
// Errors carry a message for the visitor; RefusalReason tells why.
func (o *OIDC) Finish(w http.ResponseWriter, r *http.Request, idp string) (*Result, error) {
	ctx := r.Context()
	res, err := o.finish(w, r, idp)
	if err != nil {
		return nil, o.log(ctx, idp, err)
	}
	return res, nil
}

func (o *OIDC) log(ctx context.Context, idp string, err error) error {
	var r *refusal
	if errors.As(err, &r) {
		level := slog.LevelWarn
		if portal.ErrorCode(r.show) == portal.EINTERNAL {
			level = slog.LevelError
		}
		attrs := []any{"idp", idp, "reason", r.reason}
		if r.detail != nil {
			attrs = append(attrs, "error", r.detail.Error())
		}
		o.logger.Log(ctx, level, "oidc sign-in refused", attrs...)
	}
	return err
}

func (o *OIDC) finish(w http.ResponseWriter, r *http.Request, idp string) (*Result, error) {
	ctx := r.Context()
	q := r.URL.Query()
	sess, err := o.auth.Session(r)
	if err != nil {
		return nil, err
	}
	f, err := o.takeFlow(w, r, sess, q.Get("state"))
	if err != nil {
		return nil, err
	}
	if f.IdP != idp {
		return nil, refuse(errFlowInvalid, "idp_mismatch", fmt.Errorf("flow started for %q", f.IdP))
	}
	if e := q.Get("error"); e != "" {
		// The provider's own words stay in the log, cut short.
		return nil, refuse(errProviderRefused, "provider_error", fmt.Errorf("%.100s: %.300s", e, q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return nil, refuse(errProviderRefused, "no_code", nil)
	}
	p, err := o.provider(ctx, idp)
	if err != nil {
		return nil, err
	}
	cctx := o.clientContext(ctx)
	tok, err := p.oauth.Exchange(cctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, refuse(errProviderRefused, "code_exchange_failed", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, refuse(errTokenInvalid, "no_id_token", nil)
	}
	c, err := o.verify(cctx, p, raw, f.Nonce)
	if err != nil {
		return nil, err
	}
	if p.userInfoURL != "" {
		info, err := p.oidc.UserInfo(cctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, refuse(errProviderRefused, "userinfo_failed", err)
		}
		if info.Subject != c.Subject {
			return nil, refuse(errTokenInvalid, "userinfo_sub_mismatch", fmt.Errorf("userinfo sub %q, ID token sub %q", info.Subject, c.Subject))
		}
		var extra idClaims
		if err := info.Claims(&extra); err == nil {
			if c.Email == "" {
				c.Email, c.EmailVerified, c.DomainOwnerVerified = extra.Email, extra.EmailVerified, extra.DomainOwnerVerified
			}
			if c.Name == "" {
				c.Name = extra.Name
			}
		}
	}
	return o.account(w, r, sess, p, f, c)
}

// idClaims are the claims the portal reads beyond go-oidc's IDToken.
type idClaims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified *boolish `json:"email_verified"`
	// DomainOwnerVerified is Entra's optional claim xms_edov: the email's
	// domain is verified by the tenant that owns it. Entra never sends
	// email_verified, and its email claim may be edited by the user or a
	// tenant's administrator.
	DomainOwnerVerified *boolish  `json:"xms_edov"`
	Name                string    `json:"name"`
	PreferredName       string    `json:"preferred_username"`
	AZP                 string    `json:"azp"`
	TID                 string    `json:"tid"`
	OID                 string    `json:"oid"`
	IssuedAt            *float64  `json:"iat"`
	Expiry              *float64  `json:"exp"`
	Audience            audiences `json:"aud"`
	Issuer              string    `json:"iss"`
}

// boolish reads email_verified, which some providers send as a string.
type boolish bool

func (b *boolish) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true":
		*b = true
	case "false":
		*b = false
	default:
		return fmt.Errorf("%s is not a boolean", data)
	}
	return nil
}

// audiences reads aud, a string or an array of strings.
type audiences []string

func (a *audiences) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*a = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// verify validates the ID token per OpenID Connect Core 3.1.3.7. go-oidc
// checks the signature with the provider's keys (asymmetric algorithms
// only), the issuer (except for Entra's multi-tenant template, checked
// here), that aud contains the client, and exp; the rest is checked here.
func (o *OIDC) verify(ctx context.Context, p *oidcProvider, raw, nonce string) (*idClaims, error) {
	t, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, refuse(errTokenInvalid, verifyReason(err), err)
	}
	var c idClaims
	if err := t.Claims(&c); err != nil {
		return nil, refuse(errTokenInvalid, "id_token_claims", err)
	}
	switch {
	case c.Subject == "":
		return nil, refuse(errTokenInvalid, "id_token_no_sub", nil)
	case c.IssuedAt == nil:
		return nil, refuse(errTokenInvalid, "id_token_no_iat", nil)
	case c.Expiry == nil:
		return nil, refuse(errTokenInvalid, "id_token_no_exp", nil)
	case time.Unix(int64(*c.IssuedAt), 0).After(o.now().Add(maxClockSkew)):
		// A token from the future means a wrong clock or a replayed
		// forgery; either way it is not this sign-in's.
		return nil, refuse(errTokenInvalid, "id_token_iat_future", fmt.Errorf("iat %v", *c.IssuedAt))
	}
	// Every audience must be this client: the portal trusts no other.
	for _, aud := range c.Audience {
		if aud != p.clientID {
			return nil, refuse(errTokenInvalid, "id_token_untrusted_audience", fmt.Errorf("aud %q", []string(c.Audience)))
		}
	}
	if c.AZP != "" && c.AZP != p.clientID {
		return nil, refuse(errTokenInvalid, "id_token_azp", fmt.Errorf("azp %q", c.AZP))
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return nil, refuse(errTokenInvalid, "id_token_nonce", nil)
	}
	if p.typ == portal.IdentityProviderEntra {
		if c.TID == "" || c.OID == "" {
			return nil, refuse(errTokenInvalid, "id_token_no_tid_oid", nil)
		}
		if p.multitenant {
			want := strings.Replace(p.issuer, "{tenantid}", c.TID, 1)
			if t.Issuer != want {
				return nil, refuse(errTokenInvalid, "id_token_issuer", fmt.Errorf("issuer %q, want %q for tid %q", t.Issuer, want, c.TID))
			}
		} else if !strings.Contains(t.Issuer, "/"+c.TID+"/") {
			return nil, refuse(errTokenInvalid, "id_token_issuer", fmt.Errorf("issuer %q does not name tid %q", t.Issuer, c.TID))
		}
		if len(p.allowedTenants) > 0 && !slices.Contains(p.allowedTenants, strings.ToLower(c.TID)) {
			return nil, refuse(errTenantNotAllowed, "tenant_not_allowed", fmt.Errorf("tid %q", c.TID))
		}
	}
	return &c, nil
}

// verifyReason names the rule a go-oidc verification error broke.
func verifyReason(err error) string {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		if expired.Expiry.IsZero() || expired.Expiry.Unix() <= 0 {
			return "id_token_no_exp"
		}
		return "id_token_expired"
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "issued by a different provider"):
		return "id_token_issuer"
	case strings.Contains(msg, "expected audience"):
		return "id_token_audience"
	case strings.Contains(msg, "unexpected signature algorithm"):
		return "id_token_alg_refused"
	case strings.Contains(msg, "malformed jwt"):
		return "id_token_malformed"
	case strings.Contains(msg, "verify signature"):
		return "id_token_signature"
	case strings.Contains(msg, "nbf"):
		return "id_token_not_yet_valid"
	}
	return "id_token_invalid"
}

// account finds or creates the user of the verified identity c and signs
// them in, or links c to the signed-in user in link mode.
func (o *OIDC) account(w http.ResponseWriter, r *http.Request, sess *sessions.Session, p *oidcProvider, f flow, c *idClaims) (*Result, error) {
	ctx := r.Context()
	issuer, subject := p.issuer, c.Subject
	if p.typ == portal.IdentityProviderEntra {
		// Entra's sub is per application; (tid, oid) is the person.
		issuer, subject = portal.EntraIssuerKey(c.TID), c.OID
	}
	// Checked before anything is stored, so that no mode (sign-up, link,
	// invitation) gets half way and fails on the store's own rule.
	if len(issuer) > maxIdentityKey || len(subject) > maxIdentityKey {
		return nil, refuse(errIdentityTooLong, "identity_key_too_long", fmt.Errorf("issuer %d bytes, subject %d bytes", len(issuer), len(subject)))
	}
	email := portal.NormalizeEmail(c.Email)
	if portal.ValidateEmail(email) != nil {
		email = ""
	}
	now := o.now()
	if f.Invite != "" {
		return &Result{Next: f.Next, Invitation: f.Invite, Name: portal.CleanName(c.Name),
			Identity: &portal.Identity{Provider: p.name, Issuer: issuer, Subject: subject, Email: email}}, nil
	}
	id, err := o.store.FindIdentity(ctx, issuer, subject)
	switch portal.ErrorCode(err) {
	case "", portal.ENOTFOUND:
	default:
		return nil, fmt.Errorf("find identity: %w", err)
	}

	if f.LinkUser != 0 {
		if userIDOf(sess) != f.LinkUser {
			return nil, refuse(errLinkSessionChange, "link_session_changed", nil)
		}
		if id != nil && id.UserID != f.LinkUser {
			return nil, refuse(errLinkedElsewhere, "identity_linked_elsewhere", fmt.Errorf("identity %d of user %d", id.ID, id.UserID))
		}
		if id != nil && id.Unconfirmed {
			// The signed-in owner of the account has just signed in with
			// the identity at the provider: that confirms it, in one
			// statement (an unlink and a new link could lose it half
			// way). The user's other unconfirmed identities are not
			// theirs to vouch for.
			switch err := o.store.ConfirmIdentity(ctx, f.LinkUser, id.ID); portal.ErrorCode(err) {
			case "":
			case portal.ENOTFOUND:
				id = nil // unlinked meanwhile: linked anew below
			default:
				return nil, fmt.Errorf("confirm identity: %w", err)
			}
		}
		if id == nil {
			if err := o.store.CreateIdentity(ctx, &portal.Identity{UserID: f.LinkUser, Provider: p.name, Issuer: issuer, Subject: subject, Email: email}); err != nil {
				if portal.ErrorCode(err) == portal.ECONFLICT {
					return nil, refuse(errLinkedElsewhere, "identity_linked_elsewhere", err)
				}
				return nil, fmt.Errorf("link identity: %w", err)
			}
		}
		u, err := o.store.FindUserByID(ctx, f.LinkUser)
		if err != nil {
			return nil, fmt.Errorf("find user: %w", err)
		}
		o.logger.InfoContext(ctx, "identity linked", "idp", p.name, "user_id", u.ID)
		return &Result{User: u, Next: f.Next, Linked: true}, nil
	}

	var u *portal.User
	created := false
	if id != nil && id.Unconfirmed {
		return o.unconfirmedSignIn(ctx, f, id)
	}
	if id != nil {
		if u, err = o.store.FindUserByID(ctx, id.UserID); err != nil {
			return nil, fmt.Errorf("find identity user: %w", err)
		}
		if err := o.store.TouchIdentity(ctx, id.ID, email, now); err != nil {
			o.logger.WarnContext(ctx, "record identity use", "error", err)
		}
	} else {
		if u, err = o.signUp(ctx, p, c, email, issuer, subject); err != nil {
			return nil, err
		}
		created = true
	}
	switch u.State {
	case portal.UserActive:
	case portal.UserPending:
		if created {
			// The caller mails the confirmation link; the identity signs
			// in once the address is confirmed.
			return &Result{User: u, Next: f.Next, Created: true, Pending: true, Provider: p.name}, nil
		}
		return nil, refuse(errAccountPending, "account_pending", fmt.Errorf("user %d", u.ID))
	default:
		return nil, refuse(errAccountBlocked, "account_blocked", fmt.Errorf("user %d", u.ID))
	}
	if err := o.auth.startSession(ctx, w, r, u.ID); err != nil {
		return nil, err
	}
	o.logger.InfoContext(ctx, "signed in", "user_id", u.ID, "idp", p.name, "created", created)
	return &Result{User: u, Next: f.Next, Created: created}, nil
}

// unconfirmedSignIn answers a sign-in with an identity a provider sign-up
// linked to an address nobody has proven yet: it never signs in; only the
// confirmation link mailed to the address confirms it. While the account
// is pending, this is the sign-up's holder coming back, whose mail may
// have been lost or whose link expired, and who has no other way in (the
// identity exists, so signing up again fails, and a portal with provider
// sign-in only has no reset): the result asks the caller to mail a new
// link (Pending), at most one an hour (ConfirmationResendInterval), since
// each one is a mail to an address the caller may not own. Once the
// account is active or blocked, it is refused:
// activating it another way has dropped the identity, so one left there
// predates that rule and is not the account's to confirm.
func (o *OIDC) unconfirmedSignIn(ctx context.Context, f flow, id *portal.Identity) (*Result, error) {
	detail := fmt.Errorf("identity %d of user %d", id.ID, id.UserID)
	u, err := o.store.FindUserByID(ctx, id.UserID)
	if err != nil {
		return nil, fmt.Errorf("find identity user: %w", err)
	}
	if u.State != portal.UserPending {
		return nil, refuse(errIdentityUnconfirmed, "identity_unconfirmed", detail)
	}
	// Whoever holds the identity can ask, and the mail goes to an
	// address they may not own: one message an hour at most, counted in
	// the store (so restarts and other instances do not reset it), not
	// in the address owner's own sign-up budget.
	if wait, err := o.confirmationWait(ctx, u.ID); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, refuse(newResendLimitError(wait), "confirmation_resend_limited", detail)
	}
	return &Result{User: u, Next: f.Next, Pending: true, Provider: f.IdP}, nil
}

// ConfirmationResendInterval is the least time between two confirmation
// messages mailed to a pending provider account.
const ConfirmationResendInterval = time.Hour

// confirmationWait is how long userID must wait for a new confirmation
// message: until an hour after the newest live one was issued, or 0.
func (o *OIDC) confirmationWait(ctx context.Context, userID int64) (time.Duration, error) {
	if o.auth.tokens == nil {
		return 0, errTokensUnavailable
	}
	now := o.now()
	live, err := o.auth.tokens.FindAccountTokens(ctx, portal.TokenConfirmSignup, now)
	if err != nil {
		return 0, fmt.Errorf("find confirmation links: %w", err)
	}
	var wait time.Duration
	for _, t := range live {
		if t.UserID == userID {
			wait = max(wait, t.CreatedAt.Add(ConfirmationResendInterval).Sub(now))
		}
	}
	return wait, nil
}

// newResendLimitError answers a request for a confirmation message too
// soon after the last one (429 with Retry-After at the web edge).
func newResendLimitError(wait time.Duration) *LimitError {
	wait = max(wait.Round(time.Second), time.Second)
	return &LimitError{RetryAfter: wait, err: portal.Errorf(portal.EFORBIDDEN,
		"We sent the message that confirms your email address less than an hour ago: look for it, also in your spam folder. You can ask for a new one in %s.", waitText(wait))}
}

// CompleteInvitation signs in the invited user userID once the caller has
// accepted the invitation with the flow's identity (Auth.AcceptInvitation):
// it starts a new session for them. Errors: EFORBIDDEN when the user is not
// active.
func (o *OIDC) CompleteInvitation(ctx context.Context, w http.ResponseWriter, r *http.Request, res *Result, userID int64) error {
	if res == nil || res.Identity == nil || res.Invitation == "" {
		return errors.New("auth: CompleteInvitation needs the result of an invitation flow")
	}
	u, err := o.store.FindUserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("find invited user: %w", err)
	}
	if u.State != portal.UserActive {
		return o.log(ctx, res.Identity.Provider, refuse(errAccountPending, "account_pending", fmt.Errorf("user %d", u.ID)))
	}
	if err := o.auth.startSession(ctx, w, r, userID); err != nil {
		return err
	}
	o.logger.InfoContext(ctx, "signed in", "user_id", userID, "idp", res.Identity.Provider, "invitation", true)
	return nil
}

// signUp creates the account of an identity seen for the first time,
// when the provider allows sign-up (its own switch: the portal's
// BasicAuth.SignUp is about passwords) and the address is in the
// portal's allowed domains. An existing account with the same email is
// never taken over: its owner must sign in and link. An address the
// provider does not vouch for makes the account pending, until its owner
// confirms it by mail; until then the identity is unconfirmed
// (portal.Identity.Unconfirmed: it does not sign in), and only that
// confirmation link confirms it: every other way the account becomes
// active (a password reset, an invitation accepted) removes it.
func (o *OIDC) signUp(ctx context.Context, p *oidcProvider, c *idClaims, email, issuer, subject string) (*portal.User, error) {
	if !p.signUp {
		return nil, refuse(errNoAccount, "signup_disabled", nil)
	}
	if email == "" {
		return nil, refuse(errNoEmail, "no_email", nil)
	}
	settings, err := o.store.FindSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("find settings: %w", err)
	}
	if allowed := settings.BasicAuth.AllowedEmailDomains; !portal.EmailDomainAllowed(email, allowed) {
		return nil, refuse(portal.Errorf(portal.EFORBIDDEN, "Sign-up is open to addresses at %s only.", strings.Join(allowed, ", ")), "email_domain_not_allowed", fmt.Errorf("email %q", email))
	}
	switch _, err := o.store.FindUserByEmail(ctx, email); portal.ErrorCode(err) {
	case "":
		return nil, refuse(errEmailTaken, "email_taken_not_linked", nil)
	case portal.ENOTFOUND:
	default:
		return nil, fmt.Errorf("find user: %w", err)
	}
	name := portal.CleanName(c.Name)
	if name == "" {
		name = portal.CleanName(c.PreferredName)
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
		name = portal.CleanName(name)
	}
	state := portal.UserActive
	if !emailVerified(p, c) {
		state = portal.UserPending
	}
	u := &portal.User{Email: email, Name: name, Role: portal.RoleDeveloper, State: state}
	if err := o.store.CreateUser(ctx, u); err != nil {
		if portal.ErrorCode(err) == portal.ECONFLICT {
			return nil, refuse(errEmailTaken, "email_taken_not_linked", err)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	if err := o.store.CreateIdentity(ctx, &portal.Identity{UserID: u.ID, Provider: p.name, Issuer: issuer, Subject: subject, Email: email,
		Unconfirmed: state == portal.UserPending}); err != nil {
		// A user without the identity would hold the address with no way
		// in, and refuse every later sign-in as email_taken_not_linked.
		if derr := o.store.DeleteUser(ctx, u.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove the account again: %w", derr))
		}
		return nil, fmt.Errorf("link identity of new user: %w", err)
	}
	o.logger.InfoContext(ctx, "account created", "user_id", u.ID, "idp", p.name, "state", string(u.State))
	return u, nil
}

// emailVerified reports whether the provider vouches for c's address:
// email_verified true, or for Entra and External ID (which do not send
// email_verified) xms_edov true. An explicit email_verified false wins.
func emailVerified(p *oidcProvider, c *idClaims) bool {
	if c.EmailVerified != nil {
		return bool(*c.EmailVerified)
	}
	switch p.typ {
	case portal.IdentityProviderEntra, portal.IdentityProviderExternalID:
		return c.DomainOwnerVerified != nil && bool(*c.DomainOwnerVerified)
	}
	return false
}

// liveFlows returns the session's pending flows that have not expired.
func (o *OIDC) liveFlows(sess *sessions.Session) []flow {
	s, _ := sess.Values[flowsKey].(string)
	var flows []flow
	if s == "" || json.Unmarshal([]byte(s), &flows) != nil {
		return nil
	}
	now := o.now().Unix()
	return slices.DeleteFunc(flows, func(f flow) bool { return now >= f.Expires })
}

func (o *OIDC) saveFlows(r *http.Request, w http.ResponseWriter, sess *sessions.Session, flows []flow) error {
	if len(flows) == 0 {
		delete(sess.Values, flowsKey)
	} else {
		b, err := json.Marshal(flows)
		if err != nil {
			return err
		}
		sess.Values[flowsKey] = string(b)
	}
	return o.auth.store.Save(r, w, sess)
}

// takeFlow removes the flow with this state from the session and saves
// the session at once, so that a state is good for one callback only,
// whatever happens after. Every pending state is compared in constant
// time.
func (o *OIDC) takeFlow(w http.ResponseWriter, r *http.Request, sess *sessions.Session, state string) (flow, error) {
	s, _ := sess.Values[flowsKey].(string)
	var all []flow
	if s != "" {
		json.Unmarshal([]byte(s), &all)
	}
	found := -1
	for i, f := range all {
		if subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) == 1 && state != "" {
			found = i
		}
	}
	if found < 0 {
		return flow{}, refuse(errFlowInvalid, "state_mismatch", nil)
	}
	f := all[found]
	rest := slices.Delete(all, found, found+1)
	now := o.now().Unix()
	rest = slices.DeleteFunc(rest, func(f flow) bool { return now >= f.Expires })
	if err := o.saveFlows(r, w, sess, rest); err != nil {
		return flow{}, err
	}
	if now >= f.Expires {
		return flow{}, refuse(errFlowInvalid, "state_expired", nil)
	}
	return f, nil
}

// clientContext makes go-oidc and x/oauth2 use the limited client.
func (o *OIDC) clientContext(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, o.client)
	return context.WithValue(ctx, oauth2.HTTPClient, o.client)
}

// randomString returns 256 random bits, base64url-encoded.
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
