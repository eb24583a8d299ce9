package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

// petsSpec is an OpenAPI document with two operations.
const petsSpec = `openapi: 3.0.3
info:
  title: Pet Store
  version: 2.1.0
  description: Pets for everyone.
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      responses:
        "200":
          description: The pets.
    post:
      operationId: createPet
      summary: Create a pet
      responses:
        "201":
          description: Created.
`

// brokenSpec has a path without its leading slash.
const brokenSpec = `openapi: 3.0.3
info:
  title: Broken
  version: "1"
paths:
  pets:
    get:
      responses:
        "200":
          description: ok
`

// admin sends a request as the fixture's administrator.
func (e *env) admin(t *testing.T, method, path string, body []byte, contentType string) response {
	t.Helper()
	h := http.Header{"Cookie": {e.cookieOf(t, "admin")}}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return e.send(t, method, path, bytes.NewReader(body), h)
}

// adminPost POSTs an urlencoded form as the administrator.
func (e *env) adminPost(t *testing.T, path string, form url.Values) response {
	t.Helper()
	return e.admin(t, http.MethodPost, path, []byte(form.Encode()), "application/x-www-form-urlencoded")
}

// adminUpload POSTs a multipart form with fields and, when fileName is
// set, the file spec.
func (e *env) adminUpload(t *testing.T, path string, fields url.Values, fileName string, spec []byte) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile("spec", fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(spec)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return e.admin(t, http.MethodPost, path, buf.Bytes(), mw.FormDataContentType())
}

// follow GETs the page a 303 leads to, as the administrator.
func (e *env) follow(t *testing.T, r response) response {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303\n%s", r.status, r.body)
	}
	return e.admin(t, http.MethodGet, r.header.Get("Location"), nil, "")
}

// wantFormError checks a re-rendered form: status, the message in
// data-testid="error-message", and the values typed.
func wantFormError(t *testing.T, r response, status int, message string, kept ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.body)
	}
	if got := unescape(messageOf(r.body)); !strings.Contains(got, message) {
		t.Fatalf("error message %q does not contain %q", got, message)
	}
	for _, k := range kept {
		if !strings.Contains(unescape(r.body), k) {
			t.Fatalf("the re-rendered form lost %q", k)
		}
	}
}

func TestAdminAccess(t *testing.T) {
	e := newEnv(t)
	paths := []string{"/admin/", "/admin/apis", "/admin/apis/new", "/admin/apis/echo/edit", "/admin/products", "/admin/subscriptions", "/admin/subscriptions/1", "/admin/users", "/admin/nope"}
	for _, p := range paths {
		r := e.get(t, p)
		if want := "/signin?next=" + url.QueryEscape(p); r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("anonymous GET %s = %d to %q, want 303 to %q", p, r.status, r.header.Get("Location"), want)
		}
		r = e.getAs(t, p, "developer")
		if r.status != http.StatusForbidden || !strings.Contains(r.body, `data-testid="error-message"`) {
			t.Errorf("developer GET %s = %d, want the 403 page", p, r.status)
		}
	}
	if r := e.get(t, "/admin"); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin = %d to %q", r.status, r.header.Get("Location"))
	}
	form := url.Values{"name": {"sneaky"}, "state": {"published"}, "subscription_required": {"on"}}
	for _, as := range []string{"", "developer"} {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if as != "" {
			h.Set("Cookie", e.cookieOf(t, as))
		}
		r := e.send(t, http.MethodPost, "/admin/products", strings.NewReader(form.Encode()), h)
		if want := map[string]int{"": http.StatusUnauthorized, "developer": http.StatusForbidden}[as]; r.status != want {
			t.Errorf("POST /admin/products as %q = %d, want %d", as, r.status, want)
		}
	}
	// A cross-site POST is refused before the session is even read.
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {e.cookieOf(t, "admin")}, "Sec-Fetch-Site": {"cross-site"}}
	if r := e.send(t, http.MethodPost, "/admin/products", strings.NewReader(form.Encode()), h); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST as admin = %d, want 403", r.status)
	}
	h.Set("Sec-Fetch-Site", "same-origin")
	h.Set("Origin", "https://evil.example")
	h.Del("Sec-Fetch-Site")
	if r := e.send(t, http.MethodPost, "/admin/products", strings.NewReader(form.Encode()), h); r.status != http.StatusForbidden {
		t.Errorf("foreign-Origin POST as admin = %d, want 403", r.status)
	}
	if _, err := e.store.FindProductByName(context.Background(), "sneaky"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("a refused POST created the product: %v", err)
	}
	// The administration is in the main navigation of administrators only.
	if r := e.getAs(t, "/", "admin"); !strings.Contains(r.body, `<a href="/admin/">Administration</a>`) {
		t.Errorf("no administration entry for the admin")
	}
	if r := e.getAs(t, "/", "developer"); strings.Contains(r.body, `href="/admin/"`) {
		t.Errorf("developers see the administration entry")
	}
}

func TestAdminDashboard(t *testing.T) {
	e := newEnv(t)
	r := e.admin(t, http.MethodGet, "/admin/", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /admin/ = %d", r.status)
	}
	for _, want := range []string{`data-testid="admin-count"`, ">4</span>", "APIs", "Waiting for approval", `data-testid="subscription-row"`, "ci-bot", `action="/admin/subscriptions/1/approve"`, `aria-current="page">Dashboard`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard has no %q", want)
		}
	}
}

func TestAdminAPIs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fields := func(kv ...string) url.Values {
		v := url.Values{"name": {"pets"}, "path": {"pets"}, "backend_url": {portal.BuiltinEcho}, "backend_timeout": {"30s"},
			"subscription_required": {"on"}, "key_header": {"X-Key"}, "key_query": {"key"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	notCreated := func(t *testing.T, name string) {
		t.Helper()
		if _, err := e.store.FindAPIByName(ctx, name); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("API %s was written: %v", name, err)
		}
	}

	t.Run("list", func(t *testing.T) {
		r := e.admin(t, http.MethodGet, "/admin/apis", nil, "")
		for _, want := range []string{"Echo API", "Secret API", `href="/admin/apis/echo/edit"`, "builtin:echo", `href="/admin/apis/new"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("list has no %q", want)
			}
		}
	})

	t.Run("bad values", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			fields  url.Values
			file    string
			spec    string
			message string
		}{
			{"broken spec", fields(), "broken.yaml", brokenSpec, "upload:broken.yaml"},
			{"not openapi", fields(), "notes.txt", "just some text", "upload:notes.txt"},
			{"no file", fields(), "", "", "Choose the API's OpenAPI file."},
			{"reserved path", fields("path", "healthz"), "pets.yaml", petsSpec, "reserved"},
			{"bad name", fields("name", "no spaces please"), "pets.yaml", petsSpec, "API name"},
			{"bad backend", fields("backend_url", "ftp://files.example.com"), "pets.yaml", petsSpec, "Backend URL"},
			{"bad timeout", fields("backend_timeout", "soon"), "pets.yaml", petsSpec, "Backend timeout \"soon\""},
			{"timeout too long", fields("backend_timeout", "1h"), "pets.yaml", petsSpec, "backend timeout must be between"},
			{"path taken", fields("path", "echo"), "pets.yaml", petsSpec, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.adminUpload(t, "/admin/apis", tc.fields, tc.file, []byte(tc.spec))
				status := http.StatusBadRequest
				if tc.name == "path taken" {
					status = http.StatusConflict
				}
				wantFormError(t, r, status, tc.message, `value="`+tc.fields.Get("name")+`"`, `value="`+tc.fields.Get("backend_url")+`"`)
				notCreated(t, tc.fields.Get("name"))
			})
		}
		big := append([]byte("openapi: 3.0.3\n#"), bytes.Repeat([]byte("x"), 10<<20)...)
		r := e.adminUpload(t, "/admin/apis", fields(), "big.yaml", big)
		wantFormError(t, r, http.StatusBadRequest, "too large")
		notCreated(t, "pets")
	})

	t.Run("create", func(t *testing.T) {
		r := e.adminUpload(t, "/admin/apis", fields("display_name", ""), "pets.yaml", []byte(petsSpec))
		if r.header.Get("Location") != "/admin/apis" {
			t.Fatalf("create = %d to %q\n%s", r.status, r.header.Get("Location"), r.body)
		}
		if page := e.follow(t, r); !strings.Contains(page.body, "API pets created with 2 operations.") || !strings.Contains(page.body, "Pet Store") {
			t.Fatalf("no notice after create")
		}
		api, err := e.store.FindAPIByName(ctx, "pets")
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(petsSpec))
		if api.DisplayName != "Pet Store" || api.Version != "2.1.0" || api.Description != "Pets for everyone." || len(api.Operations) != 2 ||
			api.Backend.URL != portal.BuiltinEcho || api.KeyHeader != "X-Key" || api.KeyQuery != "key" || !api.SubscriptionRequired ||
			api.Spec != (portal.SpecInfo{Location: "upload:pets.yaml", Format: "openapi 3.0.3", Digest: hex.EncodeToString(sum[:])}) {
			t.Fatalf("stored API = %+v", api)
		}
		doc, _, err := e.store.FindAPISpec(ctx, "pets")
		if err != nil || string(doc) != petsSpec {
			t.Fatalf("stored document = %q, %v", doc, err)
		}
		// Taken name: a conflict, the form kept.
		r = e.adminUpload(t, "/admin/apis", fields("path", "pets2"), "pets.yaml", []byte(petsSpec))
		wantFormError(t, r, http.StatusConflict, "", `value="pets2"`)
	})

	t.Run("edit", func(t *testing.T) {
		r := e.admin(t, http.MethodGet, "/admin/apis/pets/edit", nil, "")
		for _, want := range []string{`value="Pet Store"`, `value="30s"`, "upload:pets.yaml", `href="/admin/apis/pets/delete"`, `enctype="multipart/form-data"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("edit form has no %q", want)
			}
		}
		r = e.adminUpload(t, "/admin/apis/pets/edit", fields("display_name", "Pets", "backend_timeout", "2m", "subscription_required", ""), "", nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("update = %d\n%s", r.status, r.body)
		}
		api, err := e.store.FindAPIByName(ctx, "pets")
		if err != nil {
			t.Fatal(err)
		}
		if api.DisplayName != "Pets" || api.Backend.Timeout.String() != "2m0s" || api.SubscriptionRequired || len(api.Operations) != 2 || api.Spec.Location != "upload:pets.yaml" {
			t.Fatalf("after update without a document: %+v", api)
		}
		// Replacing the document replaces the operations.
		one := strings.Replace(petsSpec, "    post:\n      operationId: createPet\n      summary: Create a pet\n      responses:\n        \"201\":\n          description: Created.\n", "", 1)
		r = e.adminUpload(t, "/admin/apis/pets/edit", fields("display_name", "Pets"), "pets-v3.yaml", []byte(one))
		if r.status != http.StatusSeeOther {
			t.Fatalf("update with a document = %d\n%s", r.status, r.body)
		}
		if api, _ = e.store.FindAPIByName(ctx, "pets"); len(api.Operations) != 1 || api.Spec.Location != "upload:pets-v3.yaml" || api.DisplayName != "Pets" {
			t.Fatalf("after replacing the document: %d operations, %+v", len(api.Operations), api.Spec)
		}
		// A bad value changes nothing.
		r = e.adminUpload(t, "/admin/apis/pets/edit", fields("display_name", "Renamed", "backend_url", "not a url"), "", nil)
		wantFormError(t, r, http.StatusBadRequest, "Backend URL", `value="Renamed"`, `value="not a url"`)
		r = e.adminUpload(t, "/admin/apis/pets/edit", fields("display_name", "Renamed"), "broken.yaml", []byte(brokenSpec))
		wantFormError(t, r, http.StatusBadRequest, "upload:broken.yaml", `value="Renamed"`)
		if api, _ = e.store.FindAPIByName(ctx, "pets"); api.DisplayName != "Pets" || api.Backend.URL != portal.BuiltinEcho || len(api.Operations) != 1 {
			t.Fatalf("a refused update was written: %+v", api)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := e.admin(t, http.MethodGet, "/admin/apis/pets/delete", nil, "")
		if r.status != http.StatusOK || !strings.Contains(r.body, `action="/admin/apis/pets/delete"`) || !strings.Contains(r.body, `data-testid="confirm-delete"`) {
			t.Fatalf("confirm page = %d", r.status)
		}
		r = e.adminPost(t, "/admin/apis/pets/delete", nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("delete = %d", r.status)
		}
		notCreated(t, "pets")
		if r := e.adminPost(t, "/admin/apis/pets/delete", nil); r.status != http.StatusNotFound {
			t.Fatalf("deleting again = %d", r.status)
		}
	})
}

func TestAdminProducts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fields := func(kv ...string) url.Values {
		v := url.Values{"name": {"gold"}, "display_name": {"Gold"}, "description": {"The best."}, "terms": {""},
			"state": {"published"}, "subscription_required": {"on"}, "approval_required": {"on"}, "subscriptions_limit": {"2"},
			"rate_limit_calls": {"10"}, "rate_limit_period": {"1m"}, "apis": {"echo", "status"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}

	t.Run("bad values", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			form    url.Values
			status  int
			message string
		}{
			{"bad name", fields("name", "gold bars"), http.StatusBadRequest, "Product name"},
			{"bad state", fields("state", "maybe"), http.StatusBadRequest, "state"},
			{"open with approval", fields("subscription_required", ""), http.StatusBadRequest, "open product"},
			{"negative limit", fields("subscriptions_limit", "-1"), http.StatusBadRequest, "subscriptions limit"},
			{"limit not a number", fields("subscriptions_limit", "two"), http.StatusBadRequest, "not a whole number"},
			{"bad rate period", fields("rate_limit_period", "0s"), http.StatusBadRequest, "rate limit"},
			{"unknown API", fields("apis", "nope"), http.StatusBadRequest, "nope"},
			{"name taken", fields("name", "starter"), http.StatusConflict, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.adminPost(t, "/admin/products", tc.form)
				wantFormError(t, r, tc.status, tc.message, `value="Gold"`, "The best.")
				if tc.name != "name taken" {
					if _, err := e.store.FindProductByName(ctx, tc.form.Get("name")); portal.ErrorCode(err) != portal.ENOTFOUND {
						t.Fatalf("product written: %v", err)
					}
				}
			})
		}
	})

	t.Run("create", func(t *testing.T) {
		r := e.adminPost(t, "/admin/products", fields())
		if page := e.follow(t, r); !strings.Contains(page.body, "Product gold created.") {
			t.Fatalf("no notice after create")
		}
		p, err := e.store.FindProductByName(ctx, "gold")
		if err != nil {
			t.Fatal(err)
		}
		if p.DisplayName != "Gold" || p.State != portal.ProductPublished || !p.ApprovalRequired || p.SubscriptionsLimit != 2 ||
			p.RateLimit == nil || p.RateLimit.Calls != 10 || strings.Join(p.APIs, ",") != "echo,status" {
			t.Fatalf("stored product = %+v", p)
		}
	})

	t.Run("edit", func(t *testing.T) {
		r := e.admin(t, http.MethodGet, "/admin/products/gold/edit", nil, "")
		for _, want := range []string{`value="Gold"`, `<option value="published" selected>`, `value="echo" checked`, `value="weather"`, `value="1m0s"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("edit form has no %q", want)
			}
		}
		r = e.adminPost(t, "/admin/products/gold/edit", fields("state", "not_published", "apis", "echo", "rate_limit_calls", "", "rate_limit_period", ""))
		if r.status != http.StatusSeeOther {
			t.Fatalf("update = %d\n%s", r.status, r.body)
		}
		p, _ := e.store.FindProductByName(ctx, "gold")
		if p.State != portal.ProductNotPublished || strings.Join(p.APIs, ",") != "echo" || p.RateLimit != nil {
			t.Fatalf("after update: %+v", p)
		}
		r = e.adminPost(t, "/admin/products/gold/edit", fields("display_name", "Platinum", "subscriptions_limit", "-3"))
		wantFormError(t, r, http.StatusBadRequest, "subscriptions limit", `value="Platinum"`, `value="-3"`)
		if p, _ = e.store.FindProductByName(ctx, "gold"); p.DisplayName != "Gold" || p.SubscriptionsLimit != 2 {
			t.Fatalf("a refused update was written: %+v", p)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if r := e.admin(t, http.MethodGet, "/admin/products/gold/delete", nil, ""); r.status != http.StatusOK || !strings.Contains(r.body, `action="/admin/products/gold/delete"`) {
			t.Fatalf("confirm page = %d", r.status)
		}
		if r := e.adminPost(t, "/admin/products/gold/delete", nil); r.status != http.StatusSeeOther {
			t.Fatalf("delete = %d", r.status)
		}
		if _, err := e.store.FindProductByName(ctx, "gold"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("product still there: %v", err)
		}
	})
}

var (
	primaryKeyRe   = regexp.MustCompile(`data-testid="primary-key">([^<]+)<`)
	secondaryKeyRe = regexp.MustCompile(`data-testid="secondary-key">([^<]+)<`)
)

func TestAdminSubscriptions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fields := func(kv ...string) url.Values {
		v := url.Values{"name": {"ci-deploy"}, "display_name": {"CI deploy"}, "owner": {developerEmail},
			"scope": {"api:echo"}, "state": {"active"}, "expires_at": {""}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	t.Run("bad values", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			form    url.Values
			message string
		}{
			{"unknown owner", fields("owner", "nobody@example.com"), "nobody@example.com"},
			{"bad expiry", fields("expires_at", "tomorrow"), "Expiry \"tomorrow\""},
			{"bad scope", fields("scope", "team:x"), "Scope"},
			{"unknown product", fields("scope", "product:nope"), "nope"},
			{"bad state", fields("state", "dormant"), "state"},
			{"bad name", fields("name", "ci deploy"), "Subscription name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.adminPost(t, "/admin/subscriptions", tc.form)
				wantFormError(t, r, http.StatusBadRequest, tc.message, `value="CI deploy"`)
				if _, err := e.store.FindSubscriptionByName(ctx, tc.form.Get("name")); portal.ErrorCode(err) != portal.ENOTFOUND {
					t.Fatalf("subscription written: %v", err)
				}
			})
		}
	})

	var id string
	t.Run("create shows the keys once", func(t *testing.T) {
		r := e.adminPost(t, "/admin/subscriptions", fields("expires_at", "2099-12-31T23:59"))
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, "/admin/subscriptions/") {
			t.Fatalf("create = %d to %q\n%s", r.status, loc, r.body)
		}
		id = strings.TrimPrefix(loc, "/admin/subscriptions/")
		page := e.follow(t, r)
		primary, secondary := primaryKeyRe.FindStringSubmatch(page.body), secondaryKeyRe.FindStringSubmatch(page.body)
		if primary == nil || secondary == nil || strings.Contains(page.body, "<details") {
			t.Fatalf("keys not shown in full after creation\n%s", page.body)
		}
		sub, kind, err := e.store.FindSubscriptionByKey(ctx, primary[1])
		if err != nil || sub.Name != "ci-deploy" || kind != portal.PrimaryKey || sub.OwnerEmail != developerEmail || sub.ExpiresAt == nil || sub.ExpiresAt.Year() != 2099 {
			t.Fatalf("the shown primary key finds %+v, %s, %v", sub, kind, err)
		}
		if !strings.Contains(page.body, "Subscription ci-deploy created.") {
			t.Fatalf("no notice")
		}
		// Later visits hide them behind a disclosure.
		again := e.admin(t, http.MethodGet, loc, nil, "")
		if !strings.Contains(again.body, "<details") || strings.Contains(again.body, "Copy the keys now") {
			t.Fatalf("keys not hidden on a later visit")
		}
		if got := primaryKeyRe.FindStringSubmatch(again.body); got == nil || got[1] != primary[1] {
			t.Fatalf("the disclosure does not hold the key")
		}
	})

	t.Run("list and filters", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  []string
			not   []string
		}{
			{"", []string{"ci-deploy", "ci-bot"}, nil},
			{"?state=active", []string{"ci-deploy"}, []string{"ci-bot"}},
			{"?state=submitted", []string{"ci-bot"}, []string{"ci-deploy"}},
			{"?owner=DEV%40example.com", []string{"ci-deploy", "ci-bot"}, nil},
			{"?owner=nobody%40example.com", nil, []string{"ci-deploy", "ci-bot"}},
			{"?scope=product%3Astarter", []string{"ci-bot"}, []string{"ci-deploy"}},
			{"?scope=api%3Aecho", []string{"ci-deploy"}, []string{"ci-bot"}},
			{"?scope=all", nil, []string{"ci-deploy", "ci-bot"}},
		} {
			r := e.admin(t, http.MethodGet, "/admin/subscriptions"+tc.query, nil, "")
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d", tc.query, r.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, "<code>"+w+"</code>") {
					t.Errorf("%s: no %s", tc.query, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(r.body, "<code>"+w+"</code>") {
					t.Errorf("%s: shows %s", tc.query, w)
				}
			}
			if got, want := count(r.body, `data-testid="subscription-row"`), len(tc.want); got != want {
				t.Errorf("%s: %d rows, want %d", tc.query, got, want)
			}
		}
		if r := e.admin(t, http.MethodGet, "/admin/subscriptions?state=dormant", nil, ""); r.status != http.StatusBadRequest {
			t.Errorf("unknown state filter = %d", r.status)
		}
	})

	t.Run("actions", func(t *testing.T) {
		base := "/admin/subscriptions/1" // ci-bot, submitted
		state := func() *portal.Subscription {
			t.Helper()
			sub, err := e.store.FindSubscriptionByID(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			return sub
		}
		page := e.admin(t, http.MethodGet, base, nil, "")
		for _, want := range []string{`action="/admin/subscriptions/1/approve"`, `action="/admin/subscriptions/1/reject"`, `action="/admin/subscriptions/1/cancel"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("submitted subscription page has no %q", want)
			}
		}
		if strings.Contains(page.body, "/suspend") || strings.Contains(page.body, "/reactivate") {
			t.Errorf("submitted subscription offers suspend or reactivate")
		}
		for _, step := range []struct {
			action, comment string
			want            portal.SubscriptionState
		}{
			{"approve", "", portal.SubscriptionActive},
			{"suspend", "Too many calls.", portal.SubscriptionSuspended},
			{"reactivate", "", portal.SubscriptionActive},
			{"cancel", "", portal.SubscriptionCancelled},
		} {
			r := e.adminPost(t, base+"/"+step.action, url.Values{"comment": {step.comment}})
			if page := e.follow(t, r); !strings.Contains(page.body, `data-testid="notice"`) {
				t.Fatalf("%s: no notice", step.action)
			}
			if sub := state(); sub.State != step.want || sub.StateComment != step.comment {
				t.Fatalf("after %s: %s %q", step.action, sub.State, sub.StateComment)
			}
		}
		// An action the state does not allow: the page again, with why.
		r := e.adminPost(t, base+"/approve", nil)
		wantFormError(t, r, http.StatusBadRequest, "cannot be given the action")
		if sub := state(); sub.State != portal.SubscriptionCancelled {
			t.Fatalf("a refused action was written: %s", sub.State)
		}
		if r := e.adminPost(t, base+"/explode", nil); r.status != http.StatusNotFound {
			t.Fatalf("unknown action = %d", r.status)
		}
		if r := e.adminPost(t, "/admin/subscriptions/999/approve", nil); r.status != http.StatusNotFound {
			t.Fatalf("unknown subscription = %d", r.status)
		}
	})

	t.Run("regenerate keys", func(t *testing.T) {
		page := e.admin(t, http.MethodGet, "/admin/subscriptions/"+id, nil, "")
		oldPrimary, oldSecondary := primaryKeyRe.FindStringSubmatch(page.body)[1], secondaryKeyRe.FindStringSubmatch(page.body)[1]
		r := e.adminPost(t, "/admin/subscriptions/"+id+"/regenerate/primary", nil)
		page = e.follow(t, r)
		newPrimary := primaryKeyRe.FindStringSubmatch(page.body)[1]
		if newPrimary == oldPrimary || secondaryKeyRe.FindStringSubmatch(page.body)[1] != oldSecondary {
			t.Fatalf("regenerating the primary key: %q -> %q", oldPrimary, newPrimary)
		}
		if _, _, err := e.store.FindSubscriptionByKey(ctx, oldPrimary); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("the old primary key still finds its subscription: %v", err)
		}
		if _, kind, err := e.store.FindSubscriptionByKey(ctx, newPrimary); err != nil || kind != portal.PrimaryKey {
			t.Fatalf("the new primary key: %s, %v", kind, err)
		}
		r = e.adminPost(t, "/admin/subscriptions/"+id+"/regenerate/secondary", nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("regenerate secondary = %d", r.status)
		}
		if _, _, err := e.store.FindSubscriptionByKey(ctx, oldSecondary); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("the old secondary key still finds its subscription: %v", err)
		}
		if r := e.adminPost(t, "/admin/subscriptions/"+id+"/regenerate/tertiary", nil); r.status != http.StatusNotFound {
			t.Fatalf("unknown key kind = %d", r.status)
		}
	})
}

func TestAdminUsers(t *testing.T) {
	e := newEnv(t)
	r := e.admin(t, http.MethodGet, "/admin/users", nil, "")
	if r.status != http.StatusOK || count(r.body, `data-testid="user-row"`) != 2 {
		t.Fatalf("GET /admin/users = %d with %d rows", r.status, count(r.body, `data-testid="user-row"`))
	}
	for _, want := range []string{adminEmail, "Ada Admin", "Administrator", developerEmail, "Developer", "Active"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("users page has no %q", want)
		}
	}
	r = e.admin(t, http.MethodGet, "/admin/users?role=developer", nil, "")
	if count(r.body, `data-testid="user-row"`) != 1 || strings.Contains(r.body, adminEmail+"<") {
		t.Errorf("role filter wrong")
	}
}
