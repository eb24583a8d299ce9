// Package jwtcheck validates JSON Web Tokens as APIM's validate-jwt policy
// does: signature (RS/PS/ES 256-512, EdDSA, and HMAC only with a
// configured symmetric key), issuer, audience, lifetime and required
// claims, with keys from OpenID Connect discovery documents and static
// signing keys. It owns fetching and caching of those documents (with
// size limits, background refresh and a rate-limited refetch on an unknown
// kid) and a bounded cache of tokens that already passed.
//
// Every refusal is a *Failure with a stable reason code (for metrics and
// logs), APIM's message and a safe detail that never holds a token or a
// key.
//
// It imports portal (for the policy's settings) and go-jose (to read JSON
// Web Keys). It must not import the gateway, any store or web package, and
// it serves no HTTP: the gateway reads the token from the request and
// answers the caller.
package jwtcheck
