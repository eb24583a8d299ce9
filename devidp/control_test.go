package devidp_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/porticoapi/portico/devidp"
)

// serveControl serves p with its control API, as cmd/devidp --control
// does, and returns the control API's base URL.
func serveControl(t *testing.T) (*devidp.Provider, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := devidp.New(devidp.Config{Issuer: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(devidp.ControlPath, p.ControlHandler())
	mux.Handle("/", p)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p, p.Issuer() + strings.TrimSuffix(devidp.ControlPath, "/")
}

// control sends body to the control endpoint u and returns the status
// and the decoded answer.
func control(t *testing.T, method, u, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer map[string]any
	json.NewDecoder(res.Body).Decode(&answer)
	return res.StatusCode, answer
}

func TestControlAPI(t *testing.T) {
	p, ctl := serveControl(t)

	// Clients and users added through the API sign in.
	if status, a := control(t, "POST", ctl+"/clients", `{"client_id":"app","client_secret":"s3cret","redirect_uris":["`+testRedirectURI+`"]}`); status != 200 {
		t.Fatalf("add client = %d %v", status, a)
	}
	if status, a := control(t, "POST", ctl+"/users", `{"subject":"u-1","email":"one@example.org","name":"One","tenant_id":"t-1","object_id":"o-1","domain_verified":true}`); status != 200 {
		t.Fatalf("add user = %d %v", status, a)
	}
	signIn := func() map[string]any {
		t.Helper()
		code := login(t, p, authParams(), "u-1").Query().Get("code")
		status, tok := exchange(t, p, code, testVerifier)
		if status != 200 {
			t.Fatalf("exchange = %d %v", status, tok)
		}
		return verify(t, p, tok["id_token"].(string), devidp.RS256)
	}
	if c := signIn(); c["sub"] != "u-1" || c["name"] != "One" || c["iss"] != p.Issuer() || c["xms_edov"] != true {
		t.Fatalf("claims %v", c)
	}

	// Misbehaviours by name, and "" resets.
	for _, tc := range []struct {
		mode  string
		claim string
		want  any
	}{
		{"wrong-issuer", "iss", "https://evil.example.com"},
		{"wrong-audience", "aud", "another-client"},
		{"missing-sub", "sub", nil},
		{"", "iss", p.Issuer()},
	} {
		if status, a := control(t, "POST", ctl+"/misbehaviour", `{"mode":"`+tc.mode+`"}`); status != 200 || a["mode"] != tc.mode {
			t.Fatalf("misbehaviour %q = %d %v", tc.mode, status, a)
		}
		if got := signIn()[tc.claim]; got != tc.want {
			t.Fatalf("with mode %q claim %s = %v, want %v", tc.mode, tc.claim, got, tc.want)
		}
	}

	// Rotation answers the new kid, and tokens use it.
	old := p.KeyID(devidp.RS256)
	status, a := control(t, "POST", ctl+"/rotate-keys", "")
	if status != 200 || a["kid"] != p.KeyID(devidp.RS256) || a["kid"] == old {
		t.Fatalf("rotate-keys = %d %v (old kid %s)", status, a, old)
	}

	// Down: the provider answers 503, the control API still serves.
	if status, _ := control(t, "POST", ctl+"/down", `{"down":true}`); status != 200 {
		t.Fatalf("down = %d", status)
	}
	if status, _ := get(t, p.DiscoveryURL()); status != http.StatusServiceUnavailable {
		t.Fatalf("discovery while down = %d", status)
	}
	if status, _ := control(t, "POST", ctl+"/down", `{"down":false}`); status != 200 {
		t.Fatalf("up = %d", status)
	}
	if status, _ := get(t, p.DiscoveryURL()); status != 200 {
		t.Fatalf("discovery after up = %d", status)
	}

	// Counters.
	status, a = control(t, "GET", ctl+"/counters", "")
	if status != 200 || a["discovery_fetches"] != float64(1) || a["jwks_fetches"] != float64(p.JWKSFetches()) || a["tokens_issued"] != float64(5) {
		t.Fatalf("counters = %d %v", status, a)
	}
}

func TestControlAPIRefuses(t *testing.T) {
	_, ctl := serveControl(t)
	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"unknown mode", "/misbehaviour", `{"mode":"sulk"}`, "mode"},
		{"no mode", "/misbehaviour", `{}`, "mode"},
		{"mode not a string", "/misbehaviour", `{"mode":1}`, "mode"},
		{"unknown field", "/misbehaviour", `{"mode":"","colour":"red"}`, "colour"},
		{"no subject", "/users", `{"email":"a@example.org"}`, "subject"},
		{"no down", "/down", `{}`, "down"},
		{"down not a boolean", "/down", `{"down":"yes"}`, "down"},
		{"no client id", "/clients", `{"client_secret":"s"}`, "client_id"},
		{"no client secret", "/clients", `{"client_id":"c"}`, "client_secret"},
		{"bad redirect URI", "/clients", `{"client_id":"c","client_secret":"s","redirect_uris":["/relative"]}`, "redirect_uris"},
		{"empty body", "/users", ``, ""},
		{"not JSON", "/users", `subject=u`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want any // no field for a body that is not a JSON object
			if tc.field != "" {
				want = tc.field
			}
			status, a := control(t, "POST", ctl+tc.path, tc.body)
			if status != http.StatusBadRequest || a["error"] == nil || a["field"] != want {
				t.Fatalf("= %d %v, want 400 naming %q", status, a, tc.field)
			}
		})
	}
	// A page of another origin cannot drive it.
	if status, _ := control(t, "POST", ctl+"/rotate-keys", "", "Sec-Fetch-Site", "cross-site"); status != http.StatusForbidden {
		t.Fatalf("cross-origin rotate-keys = %d", status)
	}
	if status, _ := control(t, "GET", ctl+"/nothing", ""); status != http.StatusNotFound {
		t.Fatalf("unknown control path = %d", status)
	}
}
