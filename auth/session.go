package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/porticoapi/portico/portal"
)

// Cookie names. The __Host- prefix makes the browser refuse the cookie
// unless it is Secure, has Path=/ and no Domain, so that neither a
// sibling subdomain nor a plain-http page can plant or overwrite it.
const (
	CookieName       = "portico"
	SecureCookieName = "__Host-portico"
)

// tokenBytes is the size of a session token: 256 bits from crypto/rand.
const tokenBytes = 32

// maxSessionData bounds the encoded values of one session row.
const maxSessionData = 64 << 10

// userIDKey holds the signed-in user's id in a session's values.
const userIDKey = "user_id"

// savedAtKey holds, in the encoded values, when the session was last
// saved (Unix milliseconds), so that the idle timeout in force now, not
// the one the row's deadline was computed with, decides whether the
// session is still alive.
const savedAtKey = "saved_at"

// metaKey holds a session's stored times in its values. Its type is
// unexported, so no other package can reach it, and Save never encodes it.
type metaKey struct{}

type sessionMeta struct {
	createdAt time.Time
	savedAt   time.Time              // zero for sessions saved before savedAtKey existed
	expiresAt time.Time              // as last saved
	timeouts  portal.SessionSettings // the settings when loaded or saved
}

// SessionStore is a gorilla/sessions Store that keeps sessions server-side
// in a portal.SessionService:
//
//   - the cookie holds only a random 256-bit token, base64url-encoded;
//   - the stored row's id (and the gorilla Session.ID) is the hex SHA-256
//     of the token, so a copy of the database yields no cookie;
//   - the values are gob-encoded, encrypted and authenticated with
//     securecookie under the row's id, so the data of one row read into
//     another, or a user id edited in the database, does not decode.
//
// Values must have string keys and values of gob's built-in types (string,
// int64, bool, []string, ...). A session expires after the idle timeout
// without a save, and at the latest after the absolute timeout counted
// from its creation (portal.Settings.Session). The settings are read on
// every load and save, so an administrator's change applies to sessions
// already open: a shortened timeout at their next request, a longer one
// from their next save (within a minute of use).
type SessionStore struct {
	sessions portal.SessionService
	settings SettingsFinder
	codec    *securecookie.SecureCookie
	secure   bool
	now      func() time.Time
}

var _ sessions.Store = (*SessionStore)(nil)

// newSessionStore builds the store; the caller has checked its arguments.
func newSessionStore(ss portal.SessionService, settings SettingsFinder, hashKey, blockKey []byte, secure bool, now func() time.Time) *SessionStore {
	codec := securecookie.New(hashKey, blockKey)
	// Expiry is the row's business (FindSession), not the codec's; the
	// length cap keeps a runaway value from bloating the table.
	codec.MaxAge(0)
	codec.MaxLength(maxSessionData)
	return &SessionStore{sessions: ss, settings: settings, codec: codec, secure: secure, now: now}
}

// Get returns the session of the request, loading it once per request
// through gorilla's registry.
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the request's cookie, or returns a new,
// empty session (IsNew) when there is no cookie or it names no live
// session. An error is returned only when the store cannot be read; the
// session returned with it is empty.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(st, name)
	opts := st.options()
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	token, ok := parseToken(c.Value)
	if !ok {
		return sess, nil
	}
	ctx := r.Context()
	now := st.now()
	row, err := st.sessions.FindSession(ctx, tokenID(token), now)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return sess, nil
	} else if err != nil {
		return sess, fmt.Errorf("find session: %w", err)
	}
	settings, err := st.settings.FindSettings(ctx)
	if err != nil {
		return sess, fmt.Errorf("find settings: %w", err)
	}
	// The row's ExpiresAt was computed with the settings of its last save;
	// a shortened absolute timeout applies at once.
	if !now.Before(row.CreatedAt.Add(settings.Session.AbsoluteTimeout)) {
		if err := st.sessions.DeleteSession(ctx, row.ID); err != nil {
			return sess, fmt.Errorf("delete expired session: %w", err)
		}
		return sess, nil
	}
	values := make(map[any]any)
	if err := st.codec.Decode(row.ID, string(row.Data), &values); err != nil {
		return sess, nil // not written by this store under this secret: no session
	}
	if uid, _ := values[userIDKey].(int64); uid != row.UserID {
		return sess, nil
	}
	// The row's deadline was computed with the idle timeout of its last
	// save; a shortened one applies at once as well.
	var savedAt time.Time
	if ms, ok := values[savedAtKey].(int64); ok {
		savedAt = time.UnixMilli(ms)
		if !now.Before(savedAt.Add(settings.Session.IdleTimeout)) {
			if err := st.sessions.DeleteSession(ctx, row.ID); err != nil {
				return sess, fmt.Errorf("delete expired session: %w", err)
			}
			return sess, nil
		}
	}
	delete(values, savedAtKey)
	values[metaKey{}] = sessionMeta{createdAt: row.CreatedAt, savedAt: savedAt, expiresAt: row.ExpiresAt, timeouts: settings.Session}
	sess.ID = row.ID
	sess.Values = values
	sess.IsNew = false
	return sess, nil
}

// Save writes the session and, for a session without a row yet, sets the
// cookie with a new token. A session whose Options.MaxAge is negative is
// deleted with its cookie, as gorilla's stores do. A session whose row was
// deleted since it was loaded is not written back: Save empties it,
// leaves the cookie alone and returns ErrSessionEnded.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		return st.destroy(ctx, w, sess)
	}
	settings, err := st.settings.FindSettings(ctx)
	if err != nil {
		return fmt.Errorf("find settings: %w", err)
	}
	now := st.now()
	meta, _ := sess.Values[metaKey{}].(sessionMeta)
	token := ""
	if sess.ID == "" {
		token = newToken()
		sess.ID = tokenID(token)
		meta.createdAt = now
	} else if meta.createdAt.IsZero() {
		meta.createdAt = now // a session not loaded through New
	}
	meta.savedAt = now
	meta.expiresAt = expiry(now, meta.createdAt, settings.Session)
	meta.timeouts = settings.Session

	plain := make(map[any]any, len(sess.Values)+1)
	for k, v := range sess.Values {
		if _, ok := k.(metaKey); !ok {
			plain[k] = v
		}
	}
	plain[savedAtKey] = now.UnixMilli()
	data, err := st.codec.Encode(sess.ID, plain)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	uid, _ := sess.Values[userIDKey].(int64)
	row := &portal.Session{ID: sess.ID, UserID: uid, Data: []byte(data), CreatedAt: meta.createdAt, ExpiresAt: meta.expiresAt}
	if token != "" {
		// A new token: no row can exist under 256 fresh random bits.
		if err := st.sessions.SaveSession(ctx, row); err != nil {
			return fmt.Errorf("save session: %w", err)
		}
	} else {
		// A session loaded earlier in this request may have been revoked
		// since (a password change, a block, a role change, a deletion, a
		// sign-out elsewhere): an update only, so that the save never
		// writes the deleted row back.
		switch err := st.sessions.UpdateSession(ctx, row); portal.ErrorCode(err) {
		case "":
		case portal.ENOTFOUND:
			// No cookie deletion: the row may be gone because another
			// request of the same browser rotated it at sign-in and set a
			// new cookie, which a deletion arriving later would drop,
			// signing the user out. The dead cookie names no session, so
			// the next request is anonymous anyway.
			st.clear(sess)
			return ErrSessionEnded
		default:
			return fmt.Errorf("update session: %w", err)
		}
	}
	sess.Values[metaKey{}] = meta
	sess.IsNew = false
	if token != "" {
		http.SetCookie(w, st.cookie(sess.Name(), token, 0))
	}
	return nil
}

// ErrSessionEnded is Save's answer for a session whose row was deleted
// after this request loaded it: the session was revoked (or rotated by a
// sign-in in another tab), so Save writes nothing and empties the
// session, but sends no cookie deletion that could overwrite the rotated
// session's cookie. We fail safe
// rather than carry on: the request that loaded the session already holds
// its user, so Authenticate treats this answer as anonymous for the rest
// of the request, and a flash that could not be kept is lost with the
// session (its callers log and go on); the next request is anonymous.
var ErrSessionEnded = portal.Errorf(portal.EUNAUTHORIZED, "Your session has ended. Please sign in again.")

// destroy deletes the session's row and cookie and leaves sess empty, so
// that a later Save in the same request starts a new session.
func (st *SessionStore) destroy(ctx context.Context, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := st.sessions.DeleteSession(ctx, sess.ID); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
	}
	st.forget(w, sess)
	return nil
}

// forget deletes the cookie and leaves sess empty and new, for a session
// whose row is gone.
func (st *SessionStore) forget(w http.ResponseWriter, sess *sessions.Session) {
	http.SetCookie(w, st.cookie(sess.Name(), "", -1))
	st.clear(sess)
}

// clear leaves sess empty and new, so that its next Save writes a new row
// under a new token.
func (st *SessionStore) clear(sess *sessions.Session) {
	sess.ID = ""
	sess.Values = make(map[any]any)
	sess.IsNew = true
	opts := st.options()
	sess.Options = &opts
}

// rotate gives sess a new identity: its row is deleted and its values
// dropped, and the next Save writes a new row under a new token. Sign-in
// calls it so that a token planted before sign-in (session fixation) is
// worth nothing after.
func (st *SessionStore) rotate(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := st.sessions.DeleteSession(ctx, sess.ID); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
	}
	st.clear(sess)
	return nil
}

// slideDue reports whether sess should be saved to push its idle deadline
// forward. Saving on every request would write on every page view; a
// deadline moved at most once per minute (or per tenth of a short idle
// timeout) costs a few seconds of idle time at most.
func (st *SessionStore) slideDue(sess *sessions.Session) bool {
	meta, ok := sess.Values[metaKey{}].(sessionMeta)
	if !ok {
		return false
	}
	step := min(time.Minute, meta.timeouts.IdleTimeout/10)
	deadline := meta.expiresAt
	if !meta.savedAt.IsZero() {
		// With a shortened idle timeout the effective deadline is earlier
		// than the stored one.
		if d := expiry(meta.savedAt, meta.createdAt, meta.timeouts); d.Before(deadline) {
			deadline = d
		}
	}
	return expiry(st.now(), meta.createdAt, meta.timeouts).Sub(deadline) >= step
}

func (st *SessionStore) options() sessions.Options {
	return sessions.Options{Path: "/", HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteLaxMode}
}

// cookie is the session cookie with the given value; maxAge as in
// http.Cookie (0: until the browser closes, negative: delete).
func (st *SessionStore) cookie(name, value string, maxAge int) *http.Cookie {
	o := st.options()
	o.MaxAge = maxAge
	return sessions.NewCookie(name, value, &o)
}

// expiry is the earlier of the idle deadline from now and the absolute
// deadline from created.
func expiry(now, created time.Time, s portal.SessionSettings) time.Time {
	idle := now.Add(s.IdleTimeout)
	if abs := created.Add(s.AbsoluteTimeout); abs.Before(idle) {
		return abs
	}
	return idle
}

func newToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseToken accepts only what newToken makes, so that arbitrary cookie
// values never reach the store.
func parseToken(s string) (string, bool) {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

// tokenID is the stored id of a session token: its hex SHA-256. A token
// has 256 random bits, so a plain hash (rather than a slow or keyed one)
// cannot be reversed.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// userIDOf returns the id of the user signed in to sess, or 0.
func userIDOf(sess *sessions.Session) int64 {
	id, _ := sess.Values[userIDKey].(int64)
	return id
}
