// Package mail sends the portal's email: sign-up confirmations, password
// resets, invitations and subscription notices. Messages are rendered
// from embedded templates, each in plain text and HTML, with links the
// caller builds from the public URL (never from a request's Host header).
//
// Two senders exist: SMTP, for --smtp-url (STARTTLS when the server offers
// it, implicit TLS for smtps://, credentials only over TLS), and Outbox,
// which keeps each message in the store for the administrators' outbox
// page and logs it, for installations without a mail server.
//
// It imports portal (the outbox's store contract) and the standard library.
// It must not import web, auth, gateway or a concrete store.
package mail
