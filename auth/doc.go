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
//   - oidc.go, oidc_provider.go, oidc_http.go: OIDC, sign-in with OpenID
//     Connect providers (Entra ID, Entra External ID, any provider with
//     discovery): authorization code flow with PKCE S256; state, nonce and
//     verifier of 256 bits each kept in the server-side session, single-use,
//     compared in constant time, expiring after FlowTTL; the ID token
//     validated per OpenID Connect Core 3.1.3.7 with go-oidc plus the
//     checks it leaves out (sub, iat, untrusted audiences, azp, nonce,
//     Entra's {tenantid} issuer and allowed tenants); the userinfo sub
//     checked against the token's; accounts found by (issuer, subject), for
//     Entra by (tid, oid), never by email; an identity a sign-up linked to
//     an address the provider did not vouch for is unconfirmed and never
//     signs in until the confirmation link mailed to the address is used,
//     whatever the account's state. Calls to providers go through
//     NewProviderClient (timeouts, 1 MiB bodies) and a key set that
//     refetches when its keys do not verify a token (unknown kid, or new
//     key material under a known one) at most once per interval.
//   - oidc_check.go: CheckProvider, the administration's "test" of a
//     provider: its discovery document and key set fetched as a sign-in
//     would, with a problem worded to be shown.
//   - ratelimit.go: the in-memory failure counters behind the sign-in
//     limits, and LimitError, which edges answer with 429 and Retry-After.
//   - captcha.go: CAPTCHA challenges (dchest/captcha draws them; the
//     digits come from captcha.RandomDigits and live in the store, so the
//     library's global store is never used and any instance can check an
//     answer): bound to the session that fetched them, single use (taken
//     before the answer is compared), expiring after CaptchaTTL.
//   - account.go: what password accounts need besides sign-in: one-time
//     links for mail (only their SHA-256 stored; PeekToken to show a
//     form; ResetPassword, ConfirmSignup and AcceptInvitation use one up
//     in the store transaction that acts on it), StartSession for a
//     confirmed address or a reset password, revoking a user's sessions,
//     ChangePassword, CheckPassword for forms
//     that ask for the current password, the CAPTCHA-after-failures rule
//     of sign-in, and AccountLimits, the per-address and per-email budgets
//     of sign-up, reset and CAPTCHA requests (429 with Retry-After).
//   - invitation.go: Invite, shared by the administration, `portico user
//     invite` and the config file: a pending account without a password
//     and a one-time link (TokenInvitation, only its SHA-256 stored,
//     valid for the settings' invitation_ttl); inviting the same address
//     again voids the older link; an address whose account is in use is
//     refused, so an invitation never hands over an existing account.
//   - passwordpolicy.go, common_passwords.txt: the rules of a new
//     password (length in characters, 6 to 128 as the settings say, not
//     one of a few hundred common passwords, not the email), without
//     composition rules.
//
// Security choices, in one place: the session id rotates on sign-in
// (fixation); the cookie is HttpOnly, SameSite=Lax, and __Host-prefixed and
// Secure when the public URL is https; a session ends after the idle
// timeout without use and at the latest after the absolute timeout, both
// read from the settings on every request, so that a change applies to
// open sessions too; a blocked or deleted user's session is deleted on their next request; an
// unknown email, a wrong password and an account without one get the same
// answer for the same cost.
//
// It must not import web or gateway; web imports it. It reads the store
// through small interfaces declared here and in portal.
package auth
