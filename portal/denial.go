package portal

import (
	"context"
	"time"
)

// Denial records why the gateway refused one request, so that the owner of
// the subscription (and administrators) can see it by request id. Detail is
// safe to show: it never holds a key, token or secret.
type Denial struct {
	RequestID      string
	At             time.Time
	API            string // "" when no API matched
	SubscriptionID int64  // 0 when the caller's key did not identify one
	Status         int
	Reason         string // a stable code: "invalid_key", "jwt_audience", "ip_forbidden", ...
	Detail         string // "aud api://orders not in [api://echo]"
}

// DenialFilter selects denials, newest first. Limit 0 means a default
// of 100.
type DenialFilter struct {
	RequestID      string
	SubscriptionID int64
	Limit          int
}

// DenialService keeps the gateway's recent denials.
type DenialService interface {
	// RecordDenials inserts a batch of denials. Denials do not change the
	// store's Version: they are a log, not configuration.
	RecordDenials(ctx context.Context, ds []Denial) error
	// FindDenials returns the denials matching f, newest first.
	FindDenials(ctx context.Context, f DenialFilter) ([]Denial, error)
	// DeleteDenialsBefore removes denials older than t and returns how
	// many went.
	DeleteDenialsBefore(ctx context.Context, t time.Time) (int, error)
}
