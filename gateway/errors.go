package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/porticoapi/portico/observe"
	"github.com/prometheus/client_golang/prometheus"
)

// The gateway's answers when it does not forward (Contract section 5).
// They are the one place the data plane chooses status codes and messages.
const (
	msgNoAPI          = "Resource not found"
	msgNoOperation    = "Unable to match incoming request to an operation."
	msgMissingKey     = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	msgInvalidKey     = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
	msgKeyUnavailable = "Service unavailable"
	msgBadGateway     = "Bad gateway"
	msgGatewayTimeout = "Gateway timeout"
)

// A denial is a rendered error answer: status, JSON body and the reason it
// is counted and logged under. Denials are built once, with the gateway or
// with the route that uses them, so answering costs no encoding.
type denial struct {
	status        int
	reason        string
	body          []byte
	contentLength []string
	header        http.Header // extra headers, e.g. WWW-Authenticate; usually nil
	count         prometheus.Counter
}

// newDenial renders {"statusCode": N, "message": "..."}. A nil counter
// (backend errors) counts nothing under denials_total.
func newDenial(status int, message, reason string, count prometheus.Counter) denial {
	msg, _ := json.Marshal(message)
	body := make([]byte, 0, len(msg)+40)
	body = append(body, `{"statusCode": `...)
	body = strconv.AppendInt(body, int64(status), 10)
	body = append(body, `, "message": `...)
	body = append(body, msg...)
	body = append(body, '}')
	return denial{
		status:        status,
		reason:        reason,
		body:          body,
		contentLength: []string{strconv.Itoa(len(body))},
		count:         count,
	}
}

// denials are the gateway-wide answers.
type denials struct {
	noAPI, noOperation, missingKey, invalidKey, keyUnavailable denial
	badGateway, gatewayTimeout                                 denial
}

func newDenials(m *metrics) denials {
	reason := func(r string) (string, prometheus.Counter) { return r, m.denials.WithLabelValues(r) }
	d := func(status int, msg string, r string) denial {
		r, c := reason(r)
		return newDenial(status, msg, r, c)
	}
	return denials{
		noAPI:          d(http.StatusNotFound, msgNoAPI, "no_api"),
		noOperation:    d(http.StatusNotFound, msgNoOperation, "no_operation"),
		missingKey:     d(http.StatusUnauthorized, msgMissingKey, "missing_key"),
		invalidKey:     d(http.StatusUnauthorized, msgInvalidKey, "invalid_key"),
		keyUnavailable: d(http.StatusServiceUnavailable, msgKeyUnavailable, "key_lookup_failed"),
		badGateway:     newDenial(http.StatusBadGateway, msgBadGateway, "bad_gateway", nil),
		gatewayTimeout: newDenial(http.StatusGatewayTimeout, msgGatewayTimeout, "gateway_timeout", nil),
	}
}

var jsonContentType = []string{"application/json"}

// write sends d. The header slices are shared between responses; net/http
// only reads them.
func (d *denial) write(w http.ResponseWriter, id string) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = d.contentLength
	h[observe.RequestIDHeader] = []string{id}
	for k, v := range d.header {
		h[k] = v
	}
	w.WriteHeader(d.status)
	w.Write(d.body)
}

// deny answers r with d, counts it and logs it at debug level. rt is nil
// when no API matched; detail is the check's safe explanation, or "".
func (g *Gateway) deny(w http.ResponseWriter, r *http.Request, id string, rt *route, d *denial, detail string) {
	d.write(w, id)
	if d.count != nil {
		d.count.Inc()
	}
	api := ""
	if rt != nil {
		rt.codes.inc(d.status)
		api = rt.name
	} else {
		g.unmatched.inc(d.status)
	}
	g.denialLog.record(r, id, rt, d, detail)
	// Enabled first: building the attributes would allocate on every
	// refused request even with debug logging off.
	if ctx := r.Context(); g.log.Enabled(ctx, slog.LevelDebug) {
		// The path, never the query: a key or token may be in it.
		g.log.LogAttrs(ctx, slog.LevelDebug, "gateway request denied",
			slog.String("reason", d.reason), slog.String("detail", detail), slog.Int("status", d.status),
			slog.String("request_id", id), slog.String("api", api),
			slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
}
