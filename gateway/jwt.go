package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/textproto"
	"time"

	"github.com/porticoapi/portico/gateway/jwtcheck"
	"github.com/porticoapi/portico/portal"
)

// DefaultJWTHTTPTimeout bounds one fetch of an OpenID configuration or key
// set when Config.JWTHTTPClient is nil.
const DefaultJWTHTTPTimeout = 10 * time.Second

// bearerChallenge is the WWW-Authenticate of a refused token (RFC 6750
// section 3.1). A request that carries no token gets the challenge without
// an error code, as the RFC asks.
var (
	bearerInvalidToken = []string{`Bearer error="invalid_token"`}
	bearerNoToken      = []string{"Bearer"}
)

// jwtValidators keeps one jwtcheck.Validator per distinct validate_jwt
// setting, across snapshots: routes are rebuilt on every catalog change,
// and fetched keys and validated tokens must survive that. Entries no
// route used in the last build are dropped by sweep. Used while the routes
// are built, under the gateway's reloadMu.
type jwtValidators struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	m      map[[32]byte]*jwtEntry
	gen    uint64 // the build in progress
}

type jwtEntry struct {
	v    *jwtcheck.Validator
	err  error
	used uint64
}

func newJWTValidators(client *http.Client, now func() time.Time, log *slog.Logger) *jwtValidators {
	if client == nil {
		client = &http.Client{Timeout: DefaultJWTHTTPTimeout}
	}
	return &jwtValidators{client: client, now: now, log: log, m: map[[32]byte]*jwtEntry{}, gen: 1}
}

// validator returns the validator of p, building it (and starting to fetch
// its keys in the background) the first time p's validation settings are
// seen.
func (j *jwtValidators) validator(p *portal.ValidateJWT) (*jwtcheck.Validator, error) {
	k := jwtSettingsKey(p)
	if e := j.m[k]; e != nil {
		e.used = j.gen
		return e.v, e.err
	}
	v, err := jwtcheck.New(*p, jwtcheck.Config{
		HTTPClient: j.client,
		Now:        j.now,
		OnFetchError: func(url string, err error) {
			j.log.Warn("gateway cannot fetch an OpenID configuration for validate_jwt", "url", url, "error", err)
		},
	})
	j.m[k] = &jwtEntry{v: v, err: err, used: j.gen}
	if err == nil && len(p.OpenIDConfig) > 0 {
		go func() {
			// Failures are logged by OnFetchError; the first token retries.
			ctx, cancel := context.WithTimeout(context.Background(), 2*DefaultJWTHTTPTimeout)
			defer cancel()
			v.Prefetch(ctx)
		}()
	}
	return v, err
}

// sweep ends a snapshot build: validators no route used are dropped.
func (j *jwtValidators) sweep() {
	for k, e := range j.m {
		if e.used != j.gen {
			delete(j.m, k)
		}
	}
	j.gen++
}

// jwtSettingsKey hashes the settings that decide what a validator
// accepts; where the token is read from and how a refusal is worded are
// the route's business and do not need a validator of their own.
func jwtSettingsKey(p *portal.ValidateJWT) [32]byte {
	c := *p
	c.Header, c.Query, c.RequireScheme, c.FailedStatus, c.FailedMessage = "", "", "", 0, ""
	b, _ := json.Marshal(c)
	return sha256.Sum256(b)
}

// jwtCheck builds the API's validate_jwt: the token from the header
// (after require_scheme) or the query parameter, checked by the shared
// validator of the API's settings. Every refusal is prebuilt per reason.
func (g *Gateway) jwtCheck(rt *route, api *portal.API) check {
	p := api.Policies.ValidateJWT
	if p == nil {
		return nil
	}
	denials := g.jwtDenials(p)
	v, err := g.jwt.validator(p)
	if err != nil {
		// Stores validate policies but cannot try every key; a policy
		// that cannot be used refuses everyone rather than nobody.
		g.log.Warn("API refuses every request: its validate_jwt cannot be used", "api", rt.name, "error", err)
		d := denials[jwtcheck.ReasonConfig]
		return func(rq *request) *denial {
			rq.detail = "validate_jwt of the API cannot be used (see the gateway log)"
			return d
		}
	}
	header := ""
	if p.Header != "" {
		header = textproto.CanonicalMIMEHeaderKey(p.Header)
	}
	query, scheme := p.Query, p.RequireScheme
	return func(rq *request) *denial {
		var tok string
		var f *jwtcheck.Failure
		if header != "" {
			if vals := rq.r.Header[header]; len(vals) > 0 {
				tok, f = jwtcheck.FromHeader(vals[0], scheme)
			} else {
				rq.detail = "no " + header + " header"
				return denials[jwtcheck.ReasonMissing]
			}
		} else if t, ok := queryValue(rq.r.URL.RawQuery, query); ok && t != "" {
			tok = t
		} else {
			rq.detail = "no " + query + " query parameter"
			return denials[jwtcheck.ReasonMissing]
		}
		if f == nil {
			if _, f = v.Validate(rq.r.Context(), tok); f == nil {
				return nil
			}
		}
		rq.detail = f.Detail
		if d := denials[f.Reason]; d != nil {
			return d
		}
		return denials[jwtcheck.ReasonMalformed] // a reason added to jwtcheck later
	}
}

// jwtDenials renders the answers of one validate_jwt, one per reason:
// failed_status, and failed_message or the reason's own message.
func (g *Gateway) jwtDenials(p *portal.ValidateJWT) map[string]*denial {
	status := p.FailedStatus
	if status == 0 {
		status = portal.DefaultJWTFailedStatus
	}
	reasons := jwtcheck.Reasons()
	out := make(map[string]*denial, len(reasons))
	for reason, msg := range reasons {
		if p.FailedMessage != "" {
			msg = p.FailedMessage
		}
		d := newDenial(status, msg, reason, g.metrics.denials.WithLabelValues(reason))
		challenge := bearerInvalidToken
		if reason == jwtcheck.ReasonMissing || reason == jwtcheck.ReasonScheme {
			challenge = bearerNoToken
		}
		d.header = http.Header{"Www-Authenticate": challenge}
		out[reason] = &d
	}
	return out
}
