package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSubscribeThroughGateway: a developer of the config file signs in to
// the real binary's portal, subscribes to gold from the portal, and the
// key shown on their profile gets a call through the gateway; after they
// regenerate it, the old key is refused and the new one passes.
func TestSubscribeThroughGateway(t *testing.T) {
	backend := newBackend(t, nil)
	dir := e2eDir(t)
	in := startPortico(t, dir, e2eEnv(backend.URL), "--config", "portico.yaml")

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	post := func(path string, form url.Values) string {
		t.Helper()
		res, err := client.PostForm(in.portal+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s led to %d:\n%s", path, res.StatusCode, b)
		}
		return string(b)
	}
	// primaryKey reads the id and primary key of the subscription titled
	// title off the profile page.
	primaryKey := func(profile, title string) (id, key string) {
		t.Helper()
		for _, row := range strings.Split(profile, `data-testid="subscription-row"`)[1:] {
			if !strings.Contains(row, ">"+title+"<") {
				continue
			}
			m := regexp.MustCompile(`id="sub-(\d+)-primary" data-testid="primary-key">([^<]+)<`).FindStringSubmatch(row)
			if m != nil {
				return m[1], m[2]
			}
		}
		t.Fatalf("no primary key of %q on the profile:\n%s", title, profile)
		return "", ""
	}
	// gatewayStatus calls an operation with key until it answers want, for
	// at most a few seconds (the gateway's key cache follows the store's
	// version), and returns the last status.
	gatewayStatus := func(key string, want int) int {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := call(t, "GET", in.gateway+"/shop/orders/orders", "Ocp-Apim-Subscription-Key", key)
			if got.status == want || time.Now().After(deadline) {
				return got.status
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	post("/signin", url.Values{"email": {"ops@example.com"}, "password": {opsPassword}})
	profile := post("/subscriptions", url.Values{"product": {"gold"}, "display_name": {"Gateway app"}, "accept_terms": {"on"}})
	if !strings.Contains(profile, "Subscribed to Gold.") {
		t.Fatalf("subscribing did not lead to the profile's notice:\n%s", profile)
	}
	id, oldKey := primaryKey(profile, "Gateway app")
	if got := gatewayStatus(oldKey, http.StatusOK); got != http.StatusOK {
		t.Fatalf("gateway with the new subscription's key = %d, want 200", got)
	}

	profile = post("/subscriptions/"+id+"/regenerate/primary", nil)
	_, newKey := primaryKey(profile, "Gateway app")
	if newKey == oldKey {
		t.Fatalf("primary key unchanged after regenerating")
	}
	if got := gatewayStatus(oldKey, http.StatusUnauthorized); got != http.StatusUnauthorized {
		t.Errorf("gateway with the regenerated (old) key = %d, want 401", got)
	}
	if got := gatewayStatus(newKey, http.StatusOK); got != http.StatusOK {
		t.Errorf("gateway with the new key = %d, want 200", got)
	}
}
