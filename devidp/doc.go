// Package devidp is a small OpenID Connect provider for development and
// tests: discovery, a JSON Web Key Set, and a token endpoint with the
// client credentials grant, served by one http.Handler. It signs with real
// keys (RSA, ECDSA P-256, Ed25519) through go-jose, the JOSE library that
// go-oidc uses, so that what it issues is what a real provider issues.
//
// Tests also use its Go API: Mint signs arbitrary claims with any supported
// algorithm (or none, or an unpublished key), RotateKeys replaces the
// signing keys, and a few knobs make it misbehave (SetDown,
// SetDiscoveryIssuer, SetOversizedJWKS) while counters tell how often it
// was asked for its documents.
//
// The interactive part (authorize.go): named test users (AddUser) chosen
// on a tiny login page without password (login_hint preselects one), the
// authorization code grant with PKCE S256 only (plain and a missing
// verifier are refused), nonce and state passed through, ID tokens with
// iss, aud, sub, nonce, iat, exp, email and name, /userinfo for the access
// token, an Entra mode (Config.EntraIssuerBase) with tid, oid and the
// multi-tenant issuer template, and SetMisbehaviour to make ID tokens
// wrong in one way at a time.
//
// It runs in-process (httptest in tests, mounted at /dev-idp by `portico
// serve --demo`) or as its own process, cmd/devidp, for tests that drive
// the real portico binary: --client, --user and --entra set it up, and
// --control serves ControlHandler, the control API (control.go) under
// /_control/ that does over HTTP what the Go API does: misbehaviour by
// name ("wrong-issuer", "bad-signature", ...; "" resets), rotate-keys,
// users, clients with their redirect URIs, down, and counters. The
// control API has no authentication and the login page no password: it is
// for development and tests, never for production.
//
// It imports only the standard library and go-jose. It must not import any
// other Portico package: the demo and tests of every package may use it.
package devidp
