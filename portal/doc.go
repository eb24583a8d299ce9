// Package portal is Portico's domain: users, APIs and their operations,
// products, subscriptions, portal settings and sessions, the rules that hold
// between them, and the service interfaces that stores implement.
//
// It imports only the standard library. It must not import net/http,
// database/sql, templ or any other Portico package; everything else imports
// it. Errors returned by services carry one of the codes in error.go, and
// only the edges (web/errors.go, the gateway's JSON writer) turn them into
// status codes.
package portal
