// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests: plain, with STARTTLS, or with implicit TLS, with
// optional PLAIN authentication, keeping every message it receives
// decoded into its subject, text and HTML parts.
//
// It is for tests only; no product code imports it.
package smtptest
