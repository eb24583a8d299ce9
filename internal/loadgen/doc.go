// Package loadgen is the closed-loop HTTP/1.1 load generator behind
// `make bench`. Each connection sends a request, reads the whole response and
// sends the next, so throughput and latency measure the server, not a queue.
// It writes pre-built request bytes and parses responses by hand so that the
// generator costs little CPU next to the servers it measures on the same
// two cores; net/http's client would take a large share of them.
package loadgen
