package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// policyStore opens a migrated SQLite store in a temporary directory.
func policyStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	keys, err := keyring.New(bytes.Repeat([]byte{9}, keyring.MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "portico.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// createPolicyAPI creates an open API (no key needed) on backend at
// path, with policies.
func createPolicyAPI(t *testing.T, s *sqlite.Store, path, backend string, p portal.Policies) {
	t.Helper()
	api := &portal.API{Name: path, Path: path, Backend: portal.Backend{URL: backend}, Policies: p}
	if err := s.CreateAPI(context.Background(), api); err != nil {
		t.Fatalf("create API %s: %v", path, err)
	}
}

// clientFrom returns a client whose connections leave from the local
// address ip; Linux routes all of 127.0.0.0/8 to the loopback interface.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func doWith(t *testing.T, c *http.Client, target string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

// denialCount reads portico_gateway_denials_total for reason.
func denialCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "portico_gateway_denials_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// findDenial waits up to a second for the denial of request id.
func findDenial(t *testing.T, s *sqlite.Store, id string) portal.Denial {
	t.Helper()
	var found []portal.Denial
	waitFor(t, "denial "+id+" recorded", func() bool {
		var err error
		found, err = s.FindDenials(context.Background(), portal.DenialFilter{RequestID: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(found) > 0
	})
	if len(found) != 1 {
		t.Fatalf("%d denials for request %s, want 1", len(found), id)
	}
	return found[0]
}

// wantDenial is a denial a test expects in the store, checked at the end
// of the test so that the test waits for one batch, not one per case.
type wantDenial struct {
	requestID, api, reason, detail string // detail: a part of it
	status                         int
}

// checkDenials finds every expected denial by request id.
func checkDenials(t *testing.T, s *sqlite.Store, want []wantDenial) {
	t.Helper()
	for _, w := range want {
		d := findDenial(t, s, w.requestID)
		if d.Reason != w.reason || d.API != w.api || d.Status != w.status || !strings.Contains(d.Detail, w.detail) {
			t.Errorf("denial of %s = %+v, want reason %s, API %s, status %d, detail with %q", w.requestID, d, w.reason, w.api, w.status, w.detail)
		}
	}
}

func ipFilter(action string, addrs []string, ranges ...portal.IPRange) portal.Policies {
	return portal.Policies{IPFilter: &portal.IPFilter{Action: action, Addresses: addrs, Ranges: ranges}}
}

// TestIPFilterFromLoopbackAddresses calls the real gateway from several
// 127.0.0.x source addresses (and ::1), with APIs in a real store.
func TestIPFilterFromLoopbackAddresses(t *testing.T) {
	rec := newRecorder(t)
	store := policyStore(t)
	allow, forbid := portal.IPFilterAllow, portal.IPFilterForbid
	createPolicyAPI(t, store, "single", rec.URL, ipFilter(allow, []string{"127.0.0.2"}))
	createPolicyAPI(t, store, "cidr", rec.URL, ipFilter(allow, []string{"10.0.0.0/8", "127.0.0.0/30"}))
	createPolicyAPI(t, store, "range", rec.URL, ipFilter(allow, nil, portal.IPRange{From: "127.0.0.3", To: "127.0.0.4"}))
	createPolicyAPI(t, store, "mixed", rec.URL, ipFilter(allow, []string{"127.0.0.2", "2001:db8::/32"}, portal.IPRange{From: "127.0.0.6", To: "127.0.0.9"}))
	createPolicyAPI(t, store, "forbid", rec.URL, ipFilter(forbid, []string{"127.0.0.3", "::ffff:127.0.0.5"}))
	createPolicyAPI(t, store, "forbidcidr", rec.URL, ipFilter(forbid, []string{"127.0.0.0/29"}))
	createPolicyAPI(t, store, "v6only", rec.URL, ipFilter(allow, []string{"::1"}))
	createPolicyAPI(t, store, "v6forbid", rec.URL, ipFilter(forbid, []string{"::/127"}))
	createPolicyAPI(t, store, "v6range", rec.URL, ipFilter(allow, nil, portal.IPRange{From: "::", To: "::ff"}))
	h := start(t, store, func(c *gateway.Config) { c.DenialLog = store })
	port := h.srv.Listener.Addr().(*net.TCPAddr).Port

	// The same gateway on [::1], when the machine has IPv6 loopback.
	var v6URL string
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h.gw}}
		srv.Start()
		t.Cleanup(srv.Close)
		v6URL = srv.URL
	}

	var want []wantDenial
	for _, tc := range []struct {
		api, from string
		want      int
	}{
		{"single", "127.0.0.2", 200},
		{"single", "127.0.0.3", 403},
		{"single", "127.0.0.1", 403},
		{"cidr", "127.0.0.1", 200},
		{"cidr", "127.0.0.3", 200},
		{"cidr", "127.0.0.4", 403},
		{"range", "127.0.0.2", 403},
		{"range", "127.0.0.3", 200},
		{"range", "127.0.0.4", 200},
		{"range", "127.0.0.5", 403},
		{"mixed", "127.0.0.2", 200},
		{"mixed", "127.0.0.5", 403},
		{"mixed", "127.0.0.9", 200},
		{"mixed", "127.0.0.10", 403},
		{"forbid", "127.0.0.2", 200},
		{"forbid", "127.0.0.3", 403},
		{"forbid", "127.0.0.5", 403},
		{"forbidcidr", "127.0.0.7", 403},
		{"forbidcidr", "127.0.0.8", 200},
		{"v6only", "127.0.0.1", 403},
		{"v6only", "::1", 200},
		{"v6forbid", "::1", 403},
		{"v6forbid", "127.0.0.1", 200},
		{"v6range", "::1", 200},
		{"v6range", "127.0.0.1", 403},
	} {
		t.Run(tc.api+" from "+tc.from, func(t *testing.T) {
			base := "http://127.0.0.1:" + strconv.Itoa(port)
			if strings.Contains(tc.from, ":") {
				if v6URL == "" {
					t.Skip("no IPv6 loopback on this machine")
				}
				base = v6URL
			}
			before, _, _ := rec.state()
			res := doWith(t, clientFrom(tc.from), base+"/"+tc.api+"/x", nil)
			if res.status != tc.want {
				t.Fatalf("status = %d, want %d (%s)", res.status, tc.want, res.body)
			}
			after, _, _ := rec.state()
			if tc.want != 200 {
				if res.body != errorBody(403, "Forbidden") {
					t.Fatalf("body = %s", res.body)
				}
				if after != before {
					t.Fatal("the backend was called for a refused caller")
				}
				want = append(want, wantDenial{res.header.Get("X-Request-Id"), tc.api, "ip_forbidden", "caller " + tc.from + " ", 403})
			} else if after != before+1 {
				t.Fatal("the backend was not called for an allowed caller")
			}
		})
	}
	checkDenials(t, store, want)
	if n := denialCount(t, h.reg, "ip_forbidden"); n == 0 {
		t.Fatal("ip_forbidden denials not counted")
	}
}

// TestIPFilterForwardedFor checks that X-Forwarded-For is believed from a
// trusted proxy only, read from the right, and that a malformed one
// fails closed.
func TestIPFilterForwardedFor(t *testing.T) {
	rec := newRecorder(t)
	store := policyStore(t)
	createPolicyAPI(t, store, "partners", rec.URL, ipFilter(portal.IPFilterAllow, []string{"198.51.100.0/24", "2001:db8::/32"}))
	createPolicyAPI(t, store, "blocklist", rec.URL, ipFilter(portal.IPFilterForbid, []string{"203.0.113.9"}))
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32"), netip.MustParsePrefix("127.0.0.64/26")}
	h := start(t, store, func(c *gateway.Config) {
		c.DenialLog = store
		c.TrustedProxies = proxies
	})
	base := h.srv.URL

	xff := func(v ...string) http.Header { return http.Header{"X-Forwarded-For": v} }
	var want []wantDenial
	for _, tc := range []struct {
		name   string
		api    string
		from   string
		header http.Header
		want   int
		reason string
	}{
		{"trusted proxy, allowed caller", "partners", "127.0.0.2", xff("198.51.100.7"), 200, ""},
		{"trusted proxy, IPv6 caller", "partners", "127.0.0.2", xff("[2001:db8::7]:443"), 200, ""},
		{"trusted proxy, mapped caller", "partners", "127.0.0.2", xff("::ffff:198.51.100.7"), 200, ""},
		{"trusted proxy, refused caller", "partners", "127.0.0.2", xff("192.0.2.1"), 403, "ip_forbidden"},
		{"trusted proxy, spoofed left entry", "partners", "127.0.0.2", xff("198.51.100.7, 192.0.2.1"), 403, "ip_forbidden"},
		{"two trusted hops", "partners", "127.0.0.2", xff("198.51.100.7, 127.0.0.70"), 200, ""},
		{"two header fields", "partners", "127.0.0.2", xff("192.0.2.1", "198.51.100.7"), 200, ""},
		{"untrusted peer, header ignored", "partners", "127.0.0.3", xff("198.51.100.7"), 403, "ip_forbidden"},
		{"untrusted peer on a blocklist, header ignored", "blocklist", "127.0.0.3", xff("203.0.113.9"), 200, ""},
		{"trusted proxy, blocked caller", "blocklist", "127.0.0.2", xff("203.0.113.9"), 403, "ip_forbidden"},
		{"trusted proxy, malformed entry", "partners", "127.0.0.2", xff("198.51.100.7, not-an-address"), 403, "ip_unknown"},
		{"trusted proxy, malformed entry on a blocklist", "blocklist", "127.0.0.2", xff("garbage"), 403, "ip_unknown"},
		{"trusted proxy, empty entry", "blocklist", "127.0.0.2", xff("203.0.113.8,"), 403, "ip_unknown"},
		{"trusted proxy, no header: the proxy itself", "blocklist", "127.0.0.2", nil, 200, ""},
		{"untrusted peer, malformed header ignored", "blocklist", "127.0.0.3", xff("garbage"), 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _, _ := rec.state()
			res := doWith(t, clientFrom(tc.from), base+"/"+tc.api+"/x", tc.header)
			if res.status != tc.want {
				t.Fatalf("status = %d, want %d (%s)", res.status, tc.want, res.body)
			}
			after, _, _ := rec.state()
			if tc.want == 200 {
				if after != before+1 {
					t.Fatal("the backend was not called")
				}
				return
			}
			if after != before {
				t.Fatal("the backend was called for a refused caller")
			}
			if res.body != errorBody(403, "Forbidden") {
				t.Fatalf("body = %s", res.body)
			}
			detail := "caller "
			if tc.reason == "ip_unknown" {
				detail = "Failed to establish IP address for the caller"
			}
			want = append(want, wantDenial{res.header.Get("X-Request-Id"), tc.api, tc.reason, detail, 403})
		})
	}
	checkDenials(t, store, want)
	if n := denialCount(t, h.reg, "ip_unknown"); n != 3 {
		t.Fatalf("ip_unknown counted %v times, want 3", n)
	}
}
