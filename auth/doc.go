// Package auth decides who is calling the portal: password hashing,
// server-side sessions, sign-in with a password and its failure limits, and
// the middleware that requires a user or an administrator.
//
// Where things are:
//   - password.go: argon2id hashing and verification (with a dummy hash for
//     unknown users), password rules.
//   - session.go: SessionStore, a gorilla/sessions Store over
//     portal.SessionService. The cookie carries only a random 256-bit
//     token; the store keeps its SHA-256 as the row id and the values
//     encrypted and authenticated under that id.
//   - auth.go: Auth (Config, New): Authenticate puts the signed-in user into
//     the request's context; RequireUser and RequireAdmin guard routes and
//     report failures through the caller's error mapper; SignIn, SignOut,
//     one-time flash values, and Run, which deletes expired sessions.
//   - ratelimit.go: the in-memory failure counters behind the sign-in
//     limits, and LimitError, which edges answer with 429 and Retry-After.
//
// Security choices, in one place: the session id rotates on sign-in
// (fixation); the cookie is HttpOnly, SameSite=Lax, and __Host-prefixed and
// Secure when the public URL is https; a session ends after the idle
// timeout without use and at the latest after the absolute timeout; a
// blocked or deleted user's session is deleted on their next request; an
// unknown email, a wrong password and an account without one get the same
// answer for the same cost.
//
// It must not import web or gateway; web imports it. It reads the store
// through small interfaces declared here and in portal.
package auth
