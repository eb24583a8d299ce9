package gateway

import (
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests          *prometheus.CounterVec   // api, code
	duration          *prometheus.HistogramVec // api
	unmatchedDuration prometheus.Observer
	keyHit            prometheus.Counter
	keyMiss           prometheus.Counter
	keyNegativeHit    prometheus.Counter
	keyEntries        prometheus.Gauge
	reloads           prometheus.Counter
	denials           *prometheus.CounterVec // reason
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portico_gateway_requests_total",
		Help: "Requests answered by the gateway, by API name (empty when no API matched) and status code.",
	}, []string{"api", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portico_gateway_request_duration_seconds",
		Help:    "Time from the request's arrival to the end of the response, by API name.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"api"})
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portico_gateway_key_cache_lookups_total",
		Help: "Subscription key lookups by cache result: hit, miss (asked the store) or negative_hit (known unknown key).",
	}, []string{"result"})
	entries := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "portico_gateway_key_cache_entries",
		Help: "Keys in the gateway's key cache, known and unknown.",
	})
	reloads := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portico_gateway_reloads_total",
		Help: "Route table builds from the catalog.",
	})
	denials := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portico_gateway_denials_total",
		Help: "Requests refused before reaching a backend, by reason.",
	}, []string{"reason"})

	var err error
	requests, err = register(reg, requests, err)
	duration, err = register(reg, duration, err)
	lookups, err = register(reg, lookups, err)
	entries, err = register(reg, entries, err)
	reloads, err = register(reg, reloads, err)
	denials, err = register(reg, denials, err)
	if err != nil {
		return nil, err
	}
	return &metrics{
		requests:          requests,
		duration:          duration,
		unmatchedDuration: duration.WithLabelValues(""),
		keyHit:            lookups.WithLabelValues("hit"),
		keyMiss:           lookups.WithLabelValues("miss"),
		keyNegativeHit:    lookups.WithLabelValues("negative_hit"),
		keyEntries:        entries,
		reloads:           reloads,
		denials:           denials,
	}, nil
}

// register registers c, or returns the collector already registered under
// the same description, so that a second gateway on one registry shares
// the series instead of failing.
func register[T prometheus.Collector](reg prometheus.Registerer, c T, prev error) (T, error) {
	if prev != nil {
		return c, prev
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, err
}

// codeCounters resolves requests_total{api,code} once per API and status
// code, so that counting a response is an array load and an atomic add.
type codeCounters struct {
	vec *prometheus.CounterVec
	api string
	c   [500]atomic.Pointer[counter] // codes 100 to 599
}

type counter struct{ prometheus.Counter }

func newCodeCounters(vec *prometheus.CounterVec, api string) *codeCounters {
	return &codeCounters{vec: vec, api: api}
}

func (cc *codeCounters) inc(code int) {
	if code < 100 || code > 599 {
		cc.vec.WithLabelValues(cc.api, strconv.Itoa(code)).Inc()
		return
	}
	p := cc.c[code-100].Load()
	if p == nil {
		// Two requests may race here; both get the same series.
		p = &counter{cc.vec.WithLabelValues(cc.api, strconv.Itoa(code))}
		cc.c[code-100].Store(p)
	}
	p.Inc()
}
