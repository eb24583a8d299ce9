// Package observe holds what both listeners (portal and gateway) serve and
// do alike: GET /healthz, /readyz and /metrics, and request ids.
//
// It imports the Prometheus client and the standard library, nothing of
// Portico's, so that gateway and web can both use it without importing
// each other.
package observe
