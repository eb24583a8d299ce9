package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devidpProcess is a running cmd/devidp with its control API.
type devidpProcess struct {
	t      *testing.T
	url    string // http://127.0.0.1:port, its issuer
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{}
}

// startDevIdP starts cmd/devidp --control with args and waits for the
// first line naming its URL. The test's cleanup stops it with SIGTERM and
// fails the test if it does not exit cleanly.
func startDevIdP(t *testing.T, args ...string) *devidpProcess {
	t.Helper()
	d := &devidpProcess{t: t, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(devidpBin, append([]string{"--control"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			t.Errorf("devidp did not stop within 10s of SIGTERM")
		}
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("devidp exited with %d on SIGTERM; stderr:\n%s", code, d.stderr)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if first, _, ok := strings.Cut(d.stdout.String(), "\n"); ok {
			d.url = strings.TrimPrefix(first, "devidp listening on ")
			if d.url == first {
				t.Fatalf("devidp's first line %q does not name its URL", first)
			}
			return d
		}
		select {
		case <-d.done:
			t.Fatalf("devidp exited before it listened:\n%s", d.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("devidp did not name its URL within 10s:\n%s", d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// control calls the control API and fails the test unless it answers 200.
func (d *devidpProcess) control(method, path, body string) map[string]any {
	d.t.Helper()
	req, err := http.NewRequest(method, d.url+"/_control/"+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || res.StatusCode != http.StatusOK {
		d.t.Fatalf("%s /_control/%s = %d %v (%v)", method, path, res.StatusCode, answer, err)
	}
	return answer
}

// jwksFetches is how often the provider served its key set.
func (d *devidpProcess) jwksFetches() int {
	d.t.Helper()
	return int(d.control("GET", "counters", "")["jwks_fetches"].(float64))
}

// misbehave sets the provider's misbehaviour by name; "" resets it.
func (d *devidpProcess) misbehave(mode string) {
	d.t.Helper()
	d.control("POST", "misbehaviour", `{"mode":"`+mode+`"}`)
}

// pinRedirect registers the client with exactly in's callback for idp, so
// that the provider refuses any other redirect URI.
func (d *devidpProcess) pinRedirect(in *instance, clientID, secret, idp string) {
	d.t.Helper()
	d.control("POST", "clients", `{"client_id":"`+clientID+`","client_secret":"`+secret+`","redirect_uris":["`+in.portal+"/signin/"+idp+`/callback"]}`)
}

// visitor is one browser: its own cookies, following redirects.
type visitor struct {
	t *testing.T
	c *http.Client
}

func newVisitor(t *testing.T) *visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (v *visitor) read(res *http.Response, err error) (*http.Response, string) {
	v.t.Helper()
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return res, string(b)
}

// signIn starts the sign-in with idp on the portal, chooses the test user
// sub on the provider's login page, and returns where the browser landed.
func (v *visitor) signIn(in *instance, idp, sub string) (*http.Response, string) {
	v.t.Helper()
	res, login := v.read(v.c.Get(in.portal + "/signin/" + idp))
	m := demoFormAction.FindStringSubmatch(login)
	if res.StatusCode != http.StatusOK || m == nil {
		v.t.Fatalf("GET /signin/%s ended at %s with %d, not the provider's login page:\n%s", idp, res.Request.URL, res.StatusCode, login)
	}
	form := url.Values{"user": {sub}}
	for _, h := range demoHiddenInput.FindAllStringSubmatch(login, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return v.read(v.c.PostForm(html.UnescapeString(m[1]), form))
}

// profile returns the status and page of /profile, without following the
// redirect to sign-in an anonymous visitor gets.
func (v *visitor) profile(in *instance) (int, string) {
	v.t.Helper()
	c := *v.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, body := v.read(c.Get(in.portal + "/profile"))
	return res.StatusCode, body
}

// signedInAs fails the test unless a sign-in through idp as sub lands
// signed in, with /profile showing name.
func signedInAs(t *testing.T, in *instance, idp, sub, name string) {
	t.Helper()
	v := newVisitor(t)
	res, body := v.signIn(in, idp, sub)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.String(), in.portal) {
		t.Fatalf("sign-in through %s as %s ended at %s with %d:\n%s", idp, sub, res.Request.URL, res.StatusCode, body)
	}
	status, profile := v.profile(in)
	if status != http.StatusOK || !strings.Contains(profile, `data-testid="account-name"`) || !strings.Contains(profile, name) {
		t.Fatalf("/profile after signing in as %s = %d, lacks %q:\n%s", sub, status, name, profile)
	}
}

// refused fails the test unless a sign-in through idp as sub ends on the
// portal's error page with a 4xx and leaves the browser anonymous.
func refused(t *testing.T, in *instance, idp, sub string) {
	t.Helper()
	v := newVisitor(t)
	res, body := v.signIn(in, idp, sub)
	if res.StatusCode < 400 || res.StatusCode > 499 || !strings.HasPrefix(res.Request.URL.String(), in.portal+"/signin/"+idp+"/callback") ||
		!strings.Contains(body, `data-testid="error-message"`) {
		t.Fatalf("sign-in ended at %s with %d, want the portal's error page:\n%s", res.Request.URL, res.StatusCode, body)
	}
	if status, _ := v.profile(in); status == http.StatusOK {
		t.Fatal("a refused sign-in left a session: /profile answered 200")
	}
}

// TestDevIdPProcess drives the real portico binary against cmd/devidp
// processes: a generic OpenID provider that signs a user in, rotates its
// keys (followed at once), then misbehaves in one way at a time through
// its control API and is refused each time; and an Entra-mode provider
// with the
// multi-tenant authority (tenant organizations) that signs in users of
// two tenants.
func TestDevIdPProcess(t *testing.T) {
	const (
		tidA = "11111111-1111-1111-1111-111111111111"
		tidB = "22222222-2222-2222-2222-222222222222"
	)
	idp := startDevIdP(t, "--client", "portico:devidp-secret", "--user", "olive:olive@example.org:Olive Oidc")
	entra := startDevIdP(t, "--entra", "--client", "portico-entra:entra-secret")
	entra.control("POST", "users", `{"subject":"pairwise-a","email":"ada@a.example","name":"Ada of Tenant A","tenant_id":"`+tidA+`","object_id":"oid-a","domain_verified":true}`)
	entra.control("POST", "users", `{"subject":"pairwise-b","email":"bea@b.example","name":"Bea of Tenant B","tenant_id":"`+tidB+`","object_id":"oid-b","domain_verified":true}`)

	dir := t.TempDir()
	config := `identity_providers:
  - name: devidp
    type: oidc
    display_name: DevIdP process
    client_id: portico
    client_secret: devidp-secret
    issuer: ` + idp.url + `
    signup: true
  - name: entra
    type: entra
    display_name: Entra (devidp)
    client_id: portico-entra
    client_secret: entra-secret
    tenant: organizations
    authority: ` + entra.url + `
    signup: true
`
	if err := os.WriteFile(filepath.Join(dir, "portico.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	in := startPortico(t, dir, nil, "--config", "portico.yaml")
	// The callback exactly: a redirect URI that is not <public-url>/signin/<name>/callback
	// would be refused by the provider.
	idp.pinRedirect(in, "portico", "devidp-secret", "devidp")
	entra.pinRedirect(in, "portico-entra", "entra-secret", "entra")

	signedInAs(t, in, "devidp", "olive", "Olive Oidc")
	if n := idp.jwksFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times by the first sign-in, want 1", n)
	}

	// Rotated keys: the first token under the new key makes Portico
	// fetch the key set once more, and the user lands in the same
	// account. That refetch opens the refetch interval (a minute).
	idp.control("POST", "rotate-keys", "")
	signedInAs(t, in, "devidp", "olive", "Olive Oidc")
	if n := idp.jwksFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after a rotation, want 2", n)
	}
	v := newVisitor(t)
	v.signIn(in, "devidp", "olive")
	if _, profile := v.profile(in); strings.Count(profile, `data-testid="identity-provider"`) != 1 {
		t.Fatalf("after the rotation the identity is not the one linked account's:\n%s", profile)
	}

	// Misbehaviours, within that interval: each is refused. A bad
	// signature would make Portico refetch the keys (a provider may
	// replace a key under the same kid), but the rotation's refetch was
	// less than a minute ago, so it costs the provider nothing.
	for _, mode := range []string{"wrong-issuer", "wrong-audience", "bad-signature", "expired", "missing-sub", "wrong-nonce"} {
		t.Run(mode, func(t *testing.T) {
			idp.misbehave(mode)
			defer idp.misbehave("")
			refused(t, in, "devidp", "olive")
		})
	}
	if n := idp.jwksFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after the misbehaviours within the refetch interval, want 2", n)
	}
	// Behaving again, the same user signs in again.
	signedInAs(t, in, "devidp", "olive", "Olive Oidc")

	// A second rotation, still within a minute of the first one's
	// refetch, is not followed (the refetch is rate limited), so that a
	// misbehaving provider cannot make Portico fetch on every sign-in.
	idp.control("POST", "rotate-keys", "")
	refused(t, in, "devidp", "olive")
	if n := idp.jwksFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after a second rotation within the refetch interval, want 2", n)
	}

	// Entra, multi-tenant: users of two tenants sign in, each under the
	// issuer of their own tenant.
	signedInAs(t, in, "entra", "pairwise-a", "Ada of Tenant A")
	signedInAs(t, in, "entra", "pairwise-b", "Bea of Tenant B")
	// The issuer names one tenant and tid another: refused.
	entra.misbehave("tenant-mismatch")
	refused(t, in, "entra", "pairwise-b")
	entra.misbehave("")
}
