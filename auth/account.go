package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/porticoapi/portico/portal"
)

// Lifetimes of the links in account mail.
const (
	ConfirmSignupTTL = 24 * time.Hour
	ResetPasswordTTL = time.Hour
)

// errTokensUnavailable answers account-token calls of an Auth without
// Config.Tokens.
var errTokensUnavailable = errors.New("auth: no account token store configured")

// errInvalidLink is the one answer to an unknown, used, expired or
// malformed link, so that the answer does not tell which.
var errInvalidLink = portal.Errorf(portal.ENOTFOUND, "This link is not valid: it was already used, it expired, or it was copied incompletely.")

// IssueToken makes a one-time link token for userID and purpose, valid for
// ttl, and returns it for the mail. Only its SHA-256 is stored.
func (a *Auth) IssueToken(ctx context.Context, purpose portal.TokenPurpose, userID int64, ttl time.Duration) (string, error) {
	if a.tokens == nil {
		return "", errTokensUnavailable
	}
	now := a.now()
	token := newToken()
	if err := a.tokens.CreateAccountToken(ctx, &portal.AccountToken{
		Hash: tokenID(token), Purpose: purpose, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}); err != nil {
		return "", fmt.Errorf("create %s token: %w", purpose, err)
	}
	return token, nil
}

// RevokeToken voids the link token for purpose, one IssueToken made and
// could not deliver, so that it neither works nor counts as sent. A link
// already gone is not an error.
func (a *Auth) RevokeToken(ctx context.Context, purpose portal.TokenPurpose, token string) error {
	if a.tokens == nil {
		return errTokensUnavailable
	}
	_, err := a.tokens.TakeAccountToken(ctx, tokenID(token), purpose, a.now())
	if err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
		return fmt.Errorf("revoke %s token: %w", purpose, err)
	}
	return nil
}

// PeekToken returns the live token for purpose without using it up (to
// show the form a link leads to; the store call that acts on the link
// uses it up). Returns ENOTFOUND for any link that would not work.
func (a *Auth) PeekToken(ctx context.Context, purpose portal.TokenPurpose, token string) (*portal.AccountToken, error) {
	if a.tokens == nil {
		return nil, errTokensUnavailable
	}
	if _, ok := parseToken(token); !ok {
		return nil, errInvalidLink
	}
	t, err := a.tokens.FindAccountToken(ctx, tokenID(token), purpose, a.now())
	switch portal.ErrorCode(err) {
	case "":
		return t, nil
	case portal.ENOTFOUND:
		return nil, errInvalidLink
	}
	return nil, fmt.Errorf("find %s token: %w", purpose, err)
}

// StartSession signs u in on a new session, as SignIn does after a
// password matched: the caller's session is rotated and the email's
// sign-in failures are forgotten. For an address just confirmed, a
// password just reset, or an account just created without confirmation.
// u must be active.
func (a *Auth) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *portal.User) error {
	if u.State != portal.UserActive {
		return portal.Errorf(portal.EFORBIDDEN, "This account is not active.")
	}
	a.limiter.Succeeded(portal.NormalizeEmail(u.Email))
	if err := a.startSession(ctx, w, r, u.ID); err != nil {
		return err
	}
	a.logger.InfoContext(ctx, "signed in", "user_id", u.ID)
	return nil
}

// PasswordSetter changes a password in one transaction with what goes
// with it; portal.UserService implements it.
type PasswordSetter interface {
	SetPassword(ctx context.Context, id int64, ch portal.PasswordChange) (*portal.User, error)
}

// ResetPassword sets the password hash of the reset link token's user:
// in one store transaction the link is used up, a pending account made
// active (the link proved the address), every reset link voided and
// every session ended, so that a failure loses neither the link nor the
// revocation. Returns the "link is not valid" ENOTFOUND when the link no
// longer works. The caller signs the user in afterwards (StartSession).
func (a *Auth) ResetPassword(ctx context.Context, store PasswordSetter, token, hash string) (*portal.User, error) {
	t, err := a.PeekToken(ctx, portal.TokenResetPassword, token)
	if err != nil {
		return nil, err
	}
	u, err := store.SetPassword(ctx, t.UserID, portal.PasswordChange{
		PasswordHash: hash, ResetToken: tokenID(token), Now: a.now(), Activate: true,
	})
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return nil, errInvalidLink // used or expired since it was peeked at
	} else if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	return u, nil
}

// ChangePassword sets u's password hash and, in the same store
// transaction, ends every other session of u and voids u's reset links;
// the caller's own session stays.
func (a *Auth) ChangePassword(ctx context.Context, r *http.Request, store PasswordSetter, u *portal.User, hash string) (*portal.User, error) {
	keep, err := a.ownSession(r, u.ID)
	if err != nil {
		return nil, err
	}
	nu, err := store.SetPassword(ctx, u.ID, portal.PasswordChange{PasswordHash: hash, Now: a.now(), KeepSession: keep})
	if err != nil {
		return nil, fmt.Errorf("change password: %w", err)
	}
	return nu, nil
}

// RevokeOtherSessions ends every session of userID but the caller's own
// (after a password change). With no session of the caller's, it ends
// them all.
func (a *Auth) RevokeOtherSessions(ctx context.Context, r *http.Request, userID int64) error {
	keep, err := a.ownSession(r, userID)
	if err != nil {
		return err
	}
	if err := a.sessions.DeleteUserSessions(ctx, userID, keep); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// ownSession returns the id of the caller's session when it is userID's,
// which ending the user's other sessions keeps; "" otherwise.
func (a *Auth) ownSession(r *http.Request, userID int64) (string, error) {
	sess, err := a.Session(r)
	if err != nil {
		return "", err
	}
	if userIDOf(sess) != userID {
		return "", nil
	}
	return sess.ID, nil
}

// RevokeSessions ends every session of userID, the caller's included.
func (a *Auth) RevokeSessions(ctx context.Context, userID int64) error {
	if err := a.sessions.DeleteUserSessions(ctx, userID, ""); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// CheckPassword reports whether pw is u's password, counting a wrong one
// against the sign-in limits of u's email and the caller's address, so
// that a form asking for the current password (change it, close the
// account) cannot be used to guess it faster than sign-in can. Errors:
// *LimitError when the limits are used up; EUNAUTHORIZED for a wrong
// password or an account without one.
func (a *Auth) CheckPassword(r *http.Request, u *portal.User, pw string) error {
	email, ip, now := portal.NormalizeEmail(u.Email), a.clientIP(r), a.now()
	if err := a.limiter.Check(email, ip, now); err != nil {
		return err
	}
	if !verifyPassword(u.PasswordHash, pw, a.idKey) {
		a.limiter.Failed(email, ip, now)
		return portal.Errorf(portal.EUNAUTHORIZED, "Your current password is not correct.")
	}
	return nil
}

// SignInLimited returns the *LimitError that SignIn would answer for
// email from the caller's address, or nil; the web edge asks it before the
// CAPTCHA so that a locked account answers 429 either way.
func (a *Auth) SignInLimited(r *http.Request, email string) error {
	return a.limiter.Check(portal.NormalizeEmail(email), a.clientIP(r), a.now())
}

// SignInChallenge tells the sign-in form what an attempt for email from
// the caller's address needs: captcha reports whether it must solve a
// CAPTCHA (SignInWithCaptcha), and limit is the *LimitError that SignIn
// answers without one, or nil. Both at once: only the email's limit is
// spent, and a solved CAPTCHA gets past it. A limit without captcha: the
// address's limit or the email's CAPTCHA ceiling is spent, and nothing
// gets past it.
func (a *Auth) SignInChallenge(r *http.Request, email string) (captcha bool, limit error) {
	email, ip, now := portal.NormalizeEmail(email), a.clientIP(r), a.now()
	if err := a.limiter.CheckWithCaptcha(email, ip, now); err != nil {
		return false, err
	}
	if err := a.limiter.Check(email, ip, now); err != nil {
		return true, err
	}
	return a.limiter.CaptchaRequired(email, ip, now), nil
}

// SignInNeedsCaptcha reports whether a password sign-in for email (may be
// empty, to ask about the caller's address alone) must also solve a
// CAPTCHA, after repeated failures for the email or the caller's address.
func (a *Auth) SignInNeedsCaptcha(r *http.Request, email string) bool {
	return a.limiter.CaptchaRequired(portal.NormalizeEmail(email), a.clientIP(r), a.now())
}

// cleanupAccounts deletes expired challenges and links; Cleanup calls it.
func (a *Auth) cleanupAccounts(ctx context.Context, now time.Time) {
	if a.captchas != nil {
		if _, err := a.captchas.DeleteExpiredCaptchas(ctx, now); err != nil && ctx.Err() == nil {
			a.logger.WarnContext(ctx, "delete expired captchas", "error", err)
		}
	}
	if a.tokens != nil {
		if _, err := a.tokens.DeleteExpiredAccountTokens(ctx, now); err != nil && ctx.Err() == nil {
			a.logger.WarnContext(ctx, "delete expired account tokens", "error", err)
		}
		// Whoever holds an unconfirmed identity can have a confirmation
		// mailed once an hour: a sign-up nobody confirms goes after a
		// week, which bounds that (its holder may sign up again).
		n, err := a.tokens.DeleteUnconfirmedSignUps(ctx, now.Add(-UnconfirmedSignUpLifetime))
		switch {
		case err != nil && ctx.Err() == nil:
			a.logger.WarnContext(ctx, "delete unconfirmed sign-ups", "error", err)
		case n > 0:
			a.logger.InfoContext(ctx, "deleted unconfirmed sign-ups", "count", n)
		}
	}
}

// UnconfirmedSignUpLifetime is how long a provider sign-up nobody
// confirmed is kept.
const UnconfirmedSignUpLifetime = 7 * 24 * time.Hour

// Action names a request that AccountLimits bound.
type Action string

const (
	ActionSignUp  Action = "sign-up"
	ActionReset   Action = "password reset"
	ActionCaptcha Action = "captcha"
	// ActionProviderFlow: a sign-in at an identity provider started
	// without a session, which stores a new (anonymous) session row.
	ActionProviderFlow Action = "identity provider sign-in"
	// ActionSubscribe: a subscription asked for by a signed-in user,
	// which may mail every administrator.
	ActionSubscribe Action = "subscribe"
)

// AccountLimits bound how often sign-up, password reset and CAPTCHA
// challenges may be asked for. Unlike SignInLimits they count every
// request, not only failures: each one may send a mail or draw a picture.
// Per-email budgets are counted only once the CAPTCHA is solved, so that
// nobody can spend someone else's budget cheaply.
type AccountLimits struct {
	SignUpPerIP    Limit
	SignUpPerEmail Limit
	ResetPerIP     Limit
	ResetPerEmail  Limit
	CaptchaPerIP   Limit // new challenges, pictures and sounds together
	// ProviderFlowPerIP bounds the sign-ins at identity providers started
	// by visitors without a session: each stores a session row.
	ProviderFlowPerIP Limit
	// SubscribePerUser bounds the subscriptions a user asks for: each
	// may mail the administrators.
	SubscribePerUser Limit
	MaxKeys          int
}

// DefaultAccountLimits: per hour, 20 sign-ups and 20 reset requests per
// address and 5 of each per email; 120 CAPTCHA requests per address in 10
// minutes; 300 provider sign-ins started without a session per address in
// 10 minutes (an office behind one address signing in at nine); 20
// subscription requests per user an hour.
func DefaultAccountLimits() AccountLimits {
	return AccountLimits{
		SignUpPerIP:       Limit{Failures: 20, Window: time.Hour},
		SignUpPerEmail:    Limit{Failures: 5, Window: time.Hour},
		ResetPerIP:        Limit{Failures: 20, Window: time.Hour},
		ResetPerEmail:     Limit{Failures: 5, Window: time.Hour},
		CaptchaPerIP:      Limit{Failures: 120, Window: 10 * time.Minute},
		ProviderFlowPerIP: Limit{Failures: 300, Window: 10 * time.Minute},
		SubscribePerUser:  Limit{Failures: 20, Window: time.Hour},
		MaxKeys:           100_000,
	}
}

// accountLimiter holds one counter per budget of AccountLimits.
type accountLimiter struct {
	byIP    map[Action]*FailureCounter
	byEmail map[Action]*FailureCounter
}

func newAccountLimiter(l AccountLimits) *accountLimiter {
	d := DefaultAccountLimits()
	pick := func(l, d Limit) Limit {
		if l.Failures <= 0 || l.Window <= 0 {
			return d
		}
		return l
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	return &accountLimiter{
		byIP: map[Action]*FailureCounter{
			ActionSignUp:       NewFailureCounter(pick(l.SignUpPerIP, d.SignUpPerIP), l.MaxKeys),
			ActionReset:        NewFailureCounter(pick(l.ResetPerIP, d.ResetPerIP), l.MaxKeys),
			ActionCaptcha:      NewFailureCounter(pick(l.CaptchaPerIP, d.CaptchaPerIP), l.MaxKeys),
			ActionProviderFlow: NewFailureCounter(pick(l.ProviderFlowPerIP, d.ProviderFlowPerIP), l.MaxKeys),
		},
		byEmail: map[Action]*FailureCounter{
			ActionSignUp:    NewFailureCounter(pick(l.SignUpPerEmail, d.SignUpPerEmail), l.MaxKeys),
			ActionReset:     NewFailureCounter(pick(l.ResetPerEmail, d.ResetPerEmail), l.MaxKeys),
			ActionSubscribe: NewFailureCounter(pick(l.SubscribePerUser, d.SubscribePerUser), l.MaxKeys),
		},
	}
}

// take counts one request against c's key, or refuses it when the budget
// is spent.
func take(c *FailureCounter, key string, now time.Time) error {
	if wait, blocked := c.Blocked(key, now); blocked {
		return newTooManyError(wait)
	}
	c.Fail(key, now)
	return nil
}

func (l *accountLimiter) prune(now time.Time) {
	for _, c := range l.byIP {
		c.Prune(now)
	}
	for _, c := range l.byEmail {
		c.Prune(now)
	}
}

// LimitAddress counts one request for action from the caller's address.
// Returns a *LimitError (429 with Retry-After at the web edge) when the
// address's budget is spent.
func (a *Auth) LimitAddress(r *http.Request, action Action) error {
	c, ok := a.attempts.byIP[action]
	if !ok {
		return fmt.Errorf("auth: no address limit for %q", action)
	}
	return take(c, addressKey(a.clientIP(r)), a.now())
}

// LimitAccount counts one request for action about email. Returns a
// *LimitError when the email's budget is spent.
func (a *Auth) LimitAccount(action Action, email string) error {
	c, ok := a.attempts.byEmail[action]
	if !ok {
		return fmt.Errorf("auth: no account limit for %q", action)
	}
	return take(c, portal.NormalizeEmail(email), a.now())
}

// newTooManyError is a LimitError for requests that are refused for their
// number rather than their failures.
func newTooManyError(retryAfter time.Duration) *LimitError {
	retryAfter = max(retryAfter.Round(time.Second), time.Second)
	return &LimitError{RetryAfter: retryAfter, err: portal.Errorf(portal.EFORBIDDEN,
		"Too many attempts. Try again in %s.", waitText(retryAfter))}
}

// equalStrings compares in constant time for equal lengths.
func equalStrings(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
