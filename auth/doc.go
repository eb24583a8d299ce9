// Package auth decides who is calling the portal: password hashing,
// server-side sessions, sign-in, and the middleware that requires a user or
// an administrator.
//
// It must not import web or gateway; web imports it.
package auth
