package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"
	"github.com/porticoapi/portico/portal"
	"golang.org/x/crypto/argon2"
)

// UserFinder is what sign-in and the session middleware read of users.
// portal.UserService implements it.
type UserFinder interface {
	FindUserByID(ctx context.Context, id int64) (*portal.User, error)
	FindUserByEmail(ctx context.Context, email string) (*portal.User, error)
}

// SettingsFinder reads the portal settings (session timeouts, whether
// password sign-in is on). portal.SettingsService implements it.
type SettingsFinder interface {
	FindSettings(ctx context.Context) (*portal.Settings, error)
}

// CookieKeyer supplies the keys that encrypt and authenticate session
// values; *keyring.Keyring implements it.
type CookieKeyer interface {
	CookieKeys() (hashKey, blockKey []byte)
}

// DefaultCleanupInterval is how often Run deletes expired sessions.
const DefaultCleanupInterval = 5 * time.Minute

// Config is what Auth needs.
type Config struct {
	Sessions portal.SessionService
	Users    UserFinder
	Settings SettingsFinder
	Keys     CookieKeyer
	// PublicURL is the portal's external URL. When it is https the cookie
	// is __Host-portico and Secure; otherwise it is portico.
	PublicURL string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// ClientIP returns the caller's address for the sign-in limits. Nil:
	// the host of RemoteAddr; pass one that believes X-Forwarded-For from
	// trusted proxies only.
	ClientIP func(r *http.Request) string
	// Limits bound failed sign-ins; zero fields take DefaultSignInLimits.
	Limits SignInLimits
	// CleanupInterval is how often Run deletes expired sessions;
	// DefaultCleanupInterval when 0.
	CleanupInterval time.Duration
	// Captchas stores CAPTCHA challenges (captcha.go); nil: no CAPTCHA,
	// so sign-up and password reset are unavailable.
	Captchas portal.CaptchaService
	// Tokens stores the one-time links of account mail (account.go); nil:
	// no sign-up confirmation or password reset.
	Tokens portal.AccountTokenService
	// AccountLimits bound sign-up, reset and CAPTCHA requests; zero fields
	// take DefaultAccountLimits.
	AccountLimits AccountLimits
}

// Auth signs users in and out and recognizes them on every request.
type Auth struct {
	store      *SessionStore
	users      UserFinder
	settings   SettingsFinder
	sessions   portal.SessionService
	cookieName string
	now        func() time.Time
	logger     *slog.Logger
	clientIP   func(r *http.Request) string
	limiter    *SignInLimiter
	cleanup    time.Duration
	captchas   portal.CaptchaService
	tokens     portal.AccountTokenService
	attempts   *accountLimiter
	idKey      keyFunc // argon2.IDKey; tests count hashes with it
}

// New checks c and returns an Auth.
func New(c Config) (*Auth, error) {
	switch {
	case c.Sessions == nil:
		return nil, errors.New("auth: Sessions required")
	case c.Users == nil:
		return nil, errors.New("auth: Users required")
	case c.Settings == nil:
		return nil, errors.New("auth: Settings required")
	case c.Keys == nil:
		return nil, errors.New("auth: Keys required")
	}
	hashKey, blockKey := c.Keys.CookieKeys()
	if len(hashKey) < 32 || len(blockKey) != 32 {
		return nil, errors.New("auth: cookie keys must be a hash key of 32+ bytes and a 32-byte block key")
	}
	secure := false
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: public URL %q must be an absolute http or https URL", c.PublicURL)
		}
		secure = u.Scheme == "https"
	}
	a := &Auth{
		users:      c.Users,
		settings:   c.Settings,
		sessions:   c.Sessions,
		cookieName: CookieName,
		now:        c.Now,
		logger:     c.Logger,
		clientIP:   c.ClientIP,
		limiter:    NewSignInLimiter(c.Limits),
		cleanup:    c.CleanupInterval,
		captchas:   c.Captchas,
		tokens:     c.Tokens,
		attempts:   newAccountLimiter(c.AccountLimits),
		idKey:      argon2.IDKey,
	}
	if secure {
		a.cookieName = SecureCookieName
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.clientIP == nil {
		a.clientIP = remoteHost
	}
	if a.cleanup <= 0 {
		a.cleanup = DefaultCleanupInterval
	}
	a.store = newSessionStore(c.Sessions, c.Settings, hashKey, blockKey, secure, a.now)
	return a, nil
}

// CookieName is the name of the session cookie.
func (a *Auth) CookieName() string { return a.cookieName }

// Store returns the gorilla/sessions store behind the session cookie, for
// code that keeps its own values in the session (sign-in flows with an
// identity provider keep their state and nonce there).
func (a *Auth) Store() *SessionStore { return a.store }

// Session returns the caller's session, loaded once per request; an empty
// new one (IsNew) for an anonymous caller.
func (a *Auth) Session(r *http.Request) (*sessions.Session, error) {
	return a.store.Get(r, a.cookieName)
}

type loadErrorKey struct{}

// Authenticate loads the caller's session and, when it belongs to an
// active user, puts that user into the request's context with
// portal.NewContextWithUser. A missing, unknown or expired cookie leaves
// the caller anonymous (and a stale cookie is deleted). A session whose
// user was deleted, blocked or is pending is deleted: that user is
// anonymous from their next request on. A store failure also leaves the
// caller anonymous but is remembered, so that RequireUser and
// RequireAdmin answer with it rather than with a sign-in page.
func (a *Auth) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(a.cookieName); err != nil {
			next.ServeHTTP(w, r) // no cookie, nothing to look up
			return
		}
		u, err := a.load(w, r)
		ctx := r.Context()
		if err != nil {
			a.logger.ErrorContext(ctx, "load session", "error", err)
			ctx = context.WithValue(ctx, loadErrorKey{}, err)
		} else if u != nil {
			ctx = portal.NewContextWithUser(ctx, u)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (a *Auth) load(w http.ResponseWriter, r *http.Request) (*portal.User, error) {
	sess, err := a.Session(r)
	if err != nil {
		return nil, err
	}
	if sess.IsNew {
		if _, err := r.Cookie(a.cookieName); err == nil {
			// A cookie that names no live session (expired, revoked,
			// forged) is removed; a request without one gets no
			// Set-Cookie, so that anonymous pages stay plain.
			http.SetCookie(w, a.store.cookie(a.cookieName, "", -1))
		}
		return nil, nil
	}
	ctx := r.Context()
	var u *portal.User
	if id := userIDOf(sess); id != 0 {
		u, err = a.users.FindUserByID(ctx, id)
		switch {
		case portal.ErrorCode(err) == portal.ENOTFOUND || (err == nil && u.State != portal.UserActive):
			if err := a.store.destroy(ctx, w, sess); err != nil {
				return nil, err
			}
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("find session user: %w", err)
		}
	}
	if a.store.slideDue(sess) {
		err := a.store.Save(r, w, sess)
		if errors.Is(err, ErrSessionEnded) {
			// Revoked after it was loaded: anonymous from here on.
			return nil, nil
		}
		if err != nil {
			// The session still holds until its current deadline.
			a.logger.WarnContext(ctx, "extend session", "error", err)
		}
	}
	return u, nil
}

// ErrorFunc answers a request with err, as the portal's error mapper does:
// RequireUser and RequireAdmin call it so that the status codes and pages
// stay the web layer's.
type ErrorFunc func(w http.ResponseWriter, r *http.Request, err error)

// Errors of RequireUser and RequireAdmin.
var (
	errSignInRequired = portal.Errorf(portal.EUNAUTHORIZED, "Please sign in to see this page.")
	errAdminRequired  = portal.Errorf(portal.EFORBIDDEN, "This page is for the portal's administrators only.")
)

// RequireUser passes only requests of a signed-in user; others are
// answered through fail with EUNAUTHORIZED (which the web layer turns into
// a redirect to the sign-in page), or with the error that kept
// Authenticate from loading the session.
func RequireUser(fail ErrorFunc) func(http.Handler) http.Handler {
	return require(fail, func(*portal.User) error { return nil })
}

// RequireAdmin passes only requests of an active administrator: an
// anonymous caller gets EUNAUTHORIZED as in RequireUser, anyone else
// EFORBIDDEN.
func RequireAdmin(fail ErrorFunc) func(http.Handler) http.Handler {
	return require(fail, func(u *portal.User) error {
		if !u.IsAdmin() {
			return errAdminRequired
		}
		return nil
	})
}

func require(fail ErrorFunc, allow func(*portal.User) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if err, _ := ctx.Value(loadErrorKey{}).(error); err != nil {
				fail(w, r, err)
				return
			}
			u := portal.UserFromContext(ctx)
			if u == nil {
				fail(w, r, errSignInRequired)
				return
			}
			if err := allow(u); err != nil {
				fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// errIncorrect is the one answer to an unknown email, a wrong password and
// an account without a password, so that sign-in does not tell which
// addresses have accounts.
var errIncorrect = portal.Errorf(portal.EUNAUTHORIZED, "Email or password is incorrect.")

// SignIn checks email and password and, when they match an active user,
// starts a new session for them: the caller's previous session, if any, is
// deleted and the cookie gets a new token. Errors:
//   - EINVALID when email or password is empty;
//   - *LimitError after too many failures for the email or the address;
//   - EFORBIDDEN when password sign-in is turned off, or, only once the
//     password matched, when the account is blocked or not yet confirmed;
//   - EUNAUTHORIZED "Email or password is incorrect." for an unknown email,
//     a wrong password or an account without a password alike, each
//     costing one password hash.
func (a *Auth) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string) (*portal.User, error) {
	return a.signIn(ctx, w, r, email, password, false)
}

// SignInWithCaptcha is SignIn for an attempt that also answers the
// CAPTCHA challenge captchaID (see VerifyCaptcha; a wrong answer is
// EINVALID). A solved CAPTCHA gets past the email's limit, though not the
// address's: otherwise anyone could keep an account locked by failing on
// purpose every few minutes, solving a CAPTCHA now and then. It does not
// get past the email's higher CAPTCHA ceiling
// (SignInLimits.PerEmailWithCaptcha) either, since machines read digit
// CAPTCHAs cheaply and many addresses would otherwise guess one account
// without bound. A wrong password still counts against all of them.
func (a *Auth) SignInWithCaptcha(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password, captchaID, answer string) (*portal.User, error) {
	if err := a.VerifyCaptcha(r, captchaID, answer); err != nil {
		return nil, err
	}
	return a.signIn(ctx, w, r, email, password, true)
}

func (a *Auth) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string, solvedCaptcha bool) (*portal.User, error) {
	email = portal.NormalizeEmail(email)
	if email == "" || password == "" {
		return nil, portal.Errorf(portal.EINVALID, "Enter your email and your password.")
	}
	ip := a.clientIP(r)
	check := a.limiter.Check(email, ip, a.now())
	if solvedCaptcha {
		check = a.limiter.CheckWithCaptcha(email, ip, a.now())
	}
	if err := check; err != nil {
		a.logger.WarnContext(ctx, "sign-in refused: too many failures", "client_ip", ip)
		return nil, err
	}
	settings, err := a.settings.FindSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("find settings: %w", err)
	}
	if !settings.BasicAuth.SignIn {
		return nil, portal.Errorf(portal.EFORBIDDEN, "Signing in with a password is turned off on this portal.")
	}
	u, err := a.users.FindUserByEmail(ctx, email)
	hash := ""
	switch portal.ErrorCode(err) {
	case "":
		hash = u.PasswordHash
	case portal.ENOTFOUND:
		u = nil
	default:
		return nil, fmt.Errorf("find user: %w", err)
	}
	// VerifyPassword spends one hash even for an empty hash.
	if ok := verifyPassword(hash, password, a.idKey); !ok || u == nil {
		a.limiter.Failed(email, ip, a.now())
		a.logger.InfoContext(ctx, "sign-in failed", "client_ip", ip)
		return nil, errIncorrect
	}
	switch u.State {
	case portal.UserActive:
	case portal.UserPending:
		return nil, portal.Errorf(portal.EFORBIDDEN, "This account is not active yet. Use the link in the email you received, then sign in.")
	default:
		return nil, portal.Errorf(portal.EFORBIDDEN, "This account is blocked. Contact the portal's administrators.")
	}
	a.limiter.Succeeded(email)
	if err := a.startSession(ctx, w, r, u.ID); err != nil {
		return nil, err
	}
	a.logger.InfoContext(ctx, "signed in", "user_id", u.ID)
	return u, nil
}

// startSession rotates the caller's session and saves it for userID.
func (a *Auth) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, userID int64) error {
	sess, err := a.Session(r)
	if err != nil {
		return err
	}
	if err := a.store.rotate(ctx, sess); err != nil {
		return err
	}
	sess.Values[userIDKey] = userID
	return a.store.Save(r, w, sess)
}

// SignOut deletes the caller's session and its cookie. An anonymous
// caller is not an error.
func (a *Auth) SignOut(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.Session(r)
	if err != nil {
		return err
	}
	if uid := userIDOf(sess); uid != 0 {
		a.logger.InfoContext(r.Context(), "signed out", "user_id", uid)
	}
	return a.store.destroy(r.Context(), w, sess)
}

// flashPrefix keeps flash values apart from the session's own keys.
const flashPrefix = "flash:"

// SetFlash keeps value under key in the caller's session until TakeFlash
// reads it: a message for the page that a redirect-after-POST leads to.
// It starts an anonymous session when there is none.
func (a *Auth) SetFlash(w http.ResponseWriter, r *http.Request, key, value string) error {
	sess, err := a.Session(r)
	if err != nil {
		return err
	}
	sess.Values[flashPrefix+key] = value
	return a.store.Save(r, w, sess)
}

// TakeFlash returns the value SetFlash kept under key and removes it; ""
// when there is none. Call it before writing the response.
func (a *Auth) TakeFlash(w http.ResponseWriter, r *http.Request, key string) (string, error) {
	sess, err := a.Session(r)
	if err != nil || sess.IsNew {
		return "", err
	}
	v, ok := sess.Values[flashPrefix+key].(string)
	if !ok {
		return "", nil
	}
	delete(sess.Values, flashPrefix+key)
	return v, a.store.Save(r, w, sess)
}

// Run deletes expired sessions every CleanupInterval and forgets expired
// sign-in failures, until ctx is done. It returns nil then.
func (a *Auth) Run(ctx context.Context) error {
	t := time.NewTicker(a.cleanup)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		a.Cleanup(ctx)
	}
}

// Cleanup deletes the sessions that have expired and forgets expired
// sign-in failures; Run calls it periodically.
func (a *Auth) Cleanup(ctx context.Context) {
	now := a.now()
	a.limiter.Prune(now)
	a.attempts.prune(now)
	a.cleanupAccounts(ctx, now)
	n, err := a.sessions.DeleteExpiredSessions(ctx, now)
	switch {
	case err != nil && ctx.Err() == nil:
		a.logger.WarnContext(ctx, "delete expired sessions", "error", err)
	case n > 0:
		a.logger.DebugContext(ctx, "deleted expired sessions", "count", n)
	}
}

// remoteHost is the default ClientIP: the peer's address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
