package portaltest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// sampleOperations exercise every part of portal.Operation that a store
// must give back as it was given.
func sampleOperations() []portal.Operation {
	minimum, maxLen := 1.5, 10
	return []portal.Operation{
		{
			ID: "getEcho", Method: "GET", Path: "/echo", Summary: "Echo", Description: "Says it back.",
			Tags: []string{"echo", "read"},
			Parameters: []portal.Parameter{
				{Name: "q", In: "query", Required: true, Schema: &portal.Schema{Type: "string", MaxLength: &maxLen}, Example: `"hi"`},
				{Name: "X-Trace", In: "header", Deprecated: true, Description: "Trace id."},
			},
			Responses: []portal.Response{{
				Status: "200", Description: "OK",
				Headers: []portal.Parameter{{Name: "X-Rate", In: "header", Schema: &portal.Schema{Type: "integer"}}},
				Content: []portal.MediaType{{Type: "application/json", Schema: &portal.Schema{
					Ref: "Echo", Type: "object",
					Properties: []portal.Property{
						{Name: "n", Required: true, Schema: &portal.Schema{Type: "number", Minimum: &minimum}},
						{Name: "self", Schema: &portal.Schema{Ref: "Echo", Recursive: true}},
					},
				}}},
			}},
		},
		{
			ID: "postEcho", Method: "POST", Path: "/echo/{id}", Deprecated: true, Tags: []string{"write", "echo"},
			RequestBody: &portal.RequestBody{Required: true, Content: []portal.MediaType{{Type: "text/plain", Example: "hello"}}},
			Responses:   []portal.Response{{Status: "default", Description: "Anything"}},
		},
	}
}

var apiTests = []storeTestCase{
	{"CreateAndFind", func(st *storeTest) {
		t := st.t
		a := &portal.API{
			Name: "echo", DisplayName: "Echo API", Description: "Echoes.", Version: "1.2.0", Path: "/tools/echo/",
			Backend:              portal.Backend{URL: "https://backend.example.com/v1", Timeout: 5 * time.Second},
			SubscriptionRequired: true,
			Operations:           sampleOperations(),
			Spec:                 portal.SpecInfo{Location: "specs/echo.yaml", Format: "openapi 3.0.3", Digest: "abc123"},
			SpecDocument:         []byte("openapi: 3.0.3\n"),
		}
		if err := st.s.CreateAPI(st.ctx, a); err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 {
			t.Fatal("CreateAPI did not set ID")
		}
		wantStamped(t, "created API", a.CreatedAt, a.UpdatedAt)
		if a.Path != "tools/echo" || a.KeyHeader != portal.DefaultKeyHeader || a.KeyQuery != portal.DefaultKeyQuery {
			t.Fatalf("CreateAPI did not normalize: path %q, key header %q, key query %q", a.Path, a.KeyHeader, a.KeyQuery)
		}

		got, err := st.s.FindAPIByName(st.ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.DisplayName != "Echo API" || got.Description != "Echoes." || got.Version != "1.2.0" ||
			got.Path != "tools/echo" || got.Backend != a.Backend || !got.SubscriptionRequired ||
			got.KeyHeader != portal.DefaultKeyHeader || got.KeyQuery != portal.DefaultKeyQuery || got.Spec != a.Spec {
			t.Fatalf("FindAPIByName = %+v", got)
		}
		if !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, a.CreatedAt)
		}
		if strings.Join(got.Tags, ",") != "echo,read,write" {
			t.Fatalf("Tags = %q, want the operations' tags in first-seen order", got.Tags)
		}
		if !reflect.DeepEqual(got.Operations, sampleOperations()) {
			t.Fatalf("Operations came back changed:\n got %+v\nwant %+v", got.Operations, sampleOperations())
		}
		if got.SpecDocument != nil {
			t.Fatal("FindAPIByName filled SpecDocument; only FindAPISpec returns it")
		}

		doc, info, err := st.s.FindAPISpec(st.ctx, "echo")
		if err != nil || string(doc) != "openapi: 3.0.3\n" || info != a.Spec {
			t.Fatalf("FindAPISpec = %q, %+v, %v", doc, info, err)
		}

		// Defaults for what was left out.
		bare := newAPI("bare")
		if err := st.s.CreateAPI(st.ctx, bare); err != nil {
			t.Fatal(err)
		}
		got, err = st.s.FindAPIByName(st.ctx, "bare")
		if err != nil || got.Backend.Timeout != portal.DefaultBackendTimeout || len(got.Operations) != 0 || len(got.Tags) != 0 {
			t.Fatalf("FindAPIByName(bare) = %+v, %v", got, err)
		}
		_, _, err = st.s.FindAPISpec(st.ctx, "bare")
		wantCode(t, err, portal.ENOTFOUND)
		_, _, err = st.s.FindAPISpec(st.ctx, "nope")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindAPIByName(st.ctx, "nope")
		wantCode(t, err, portal.ENOTFOUND)
	}},

	{"CreateInvalid", func(st *storeTest) {
		dupOps := sampleOperations()
		dupOps[1].ID = dupOps[0].ID
		tests := []struct {
			name   string
			change func(a *portal.API)
		}{
			{"name", func(a *portal.API) { a.Name = "no spaces" }},
			{"reserved path", func(a *portal.API) { a.Path = "healthz" }},
			{"empty path", func(a *portal.API) { a.Path = "/" }},
			{"backend", func(a *portal.API) { a.Backend.URL = "ftp://example.com" }},
			{"timeout", func(a *portal.API) { a.Backend.Timeout = time.Hour }},
			{"operation id twice", func(a *portal.API) { a.Operations = dupOps }},
			{"operation method", func(a *portal.API) { a.Operations = []portal.Operation{{ID: "x", Method: "FETCH", Path: "/"}} }},
		}
		for _, tt := range tests {
			st.t.Run(tt.name, func(t *testing.T) {
				a := newAPI("bad")
				tt.change(a)
				wantCode(t, st.s.CreateAPI(st.ctx, a), portal.EINVALID)
			})
		}
		_, total, _ := st.s.FindAPIs(st.ctx, portal.APIFilter{})
		if total != 0 {
			st.t.Fatalf("%d APIs stored by refused creates", total)
		}
	}},

	{"CreateConflicts", func(st *storeTest) {
		t := st.t
		st.api("echo")
		err := st.s.CreateAPI(st.ctx, newAPI("echo"))
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "echo")

		b := newAPI("echo2")
		b.Path = "echo"
		err = st.s.CreateAPI(st.ctx, b)
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, `"echo"`, "API echo")
	}},

	{"Update", func(st *storeTest) {
		t := st.t
		a := newAPI("echo")
		a.Operations = sampleOperations()
		a.SpecDocument = []byte("v1")
		a.Spec = portal.SpecInfo{Location: "echo.yaml", Digest: "d1"}
		if err := st.s.CreateAPI(st.ctx, a); err != nil {
			t.Fatal(err)
		}
		st.api("other")
		st.product(newProduct("starter", "echo"))
		sub := st.subscription(newSubscription("ci", 0, apiScope("echo")))

		// Rename and move, keeping operations and document (both nil).
		upd := newAPI("echo-v2")
		upd.Path = "echo/v2"
		upd.Spec = a.Spec
		got, err := st.s.UpdateAPI(st.ctx, "echo", upd)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Name != "echo-v2" || got.Path != "echo/v2" || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("UpdateAPI = %+v", got)
		}
		if !reflect.DeepEqual(got.Operations, sampleOperations()) || strings.Join(got.Tags, ",") != "echo,read,write" {
			t.Fatalf("nil Operations did not keep the stored ones: %+v, tags %q", got.Operations, got.Tags)
		}
		if doc, _, err := st.s.FindAPISpec(st.ctx, "echo-v2"); err != nil || string(doc) != "v1" {
			t.Fatalf("nil SpecDocument did not keep the document: %q, %v", doc, err)
		}
		_, err = st.s.FindAPIByName(st.ctx, "echo")
		wantCode(t, err, portal.ENOTFOUND)
		if p, err := st.s.FindProductByName(st.ctx, "starter"); err != nil || strings.Join(p.APIs, ",") != "echo-v2" {
			t.Fatalf("product after rename = %+v, %v", p, err)
		}
		if s, err := st.s.FindSubscriptionByID(st.ctx, sub.ID); err != nil || s.Scope != apiScope("echo-v2") {
			t.Fatalf("subscription after rename = %+v, %v", s, err)
		}

		// Replace operations and document.
		upd = newAPI("echo-v2")
		upd.Path = "echo/v2"
		upd.Operations = []portal.Operation{{ID: "only", Method: "PUT", Path: "/only", Tags: []string{"solo"}}}
		upd.SpecDocument = []byte("v2")
		if got, err = st.s.UpdateAPI(st.ctx, "echo-v2", upd); err != nil {
			t.Fatal(err)
		}
		if len(got.Operations) != 1 || got.Operations[0].ID != "only" || strings.Join(got.Tags, ",") != "solo" {
			t.Fatalf("operations not replaced: %+v, tags %q", got.Operations, got.Tags)
		}
		if doc, _, _ := st.s.FindAPISpec(st.ctx, "echo-v2"); string(doc) != "v2" {
			t.Fatalf("document = %q, want v2", doc)
		}

		// An empty, non-nil list removes every operation.
		upd.Operations = []portal.Operation{}
		if got, err = st.s.UpdateAPI(st.ctx, "echo-v2", upd); err != nil || len(got.Operations) != 0 || len(got.Tags) != 0 {
			t.Fatalf("after clearing operations: %+v, %v", got, err)
		}

		_, err = st.s.UpdateAPI(st.ctx, "nope", newAPI("nope"))
		wantCode(t, err, portal.ENOTFOUND)
		bad := newAPI("echo-v2")
		bad.Backend.URL = ""
		_, err = st.s.UpdateAPI(st.ctx, "echo-v2", bad)
		wantCode(t, err, portal.EINVALID)
		clash := newAPI("echo-v2")
		clash.Path = "other"
		_, err = st.s.UpdateAPI(st.ctx, "echo-v2", clash)
		wantCode(t, err, portal.ECONFLICT)
		wantMessage(t, err, "API other")
		_, err = st.s.UpdateAPI(st.ctx, "echo-v2", newAPI("other"))
		wantCode(t, err, portal.ECONFLICT)
		if got, _ := st.s.FindAPIByName(st.ctx, "echo-v2"); got == nil || got.Path != "echo/v2" {
			t.Fatalf("a refused update changed the API: %+v", got)
		}
	}},

	{"FindAPIs", func(st *storeTest) {
		t := st.t
		for _, n := range []string{"delta", "alpha", "charlie", "bravo"} {
			a := newAPI(n)
			switch n {
			case "alpha":
				a.Operations = []portal.Operation{{ID: "a", Method: "GET", Path: "/", Tags: []string{"Pets", "store"}}}
			case "bravo":
				a.Operations = []portal.Operation{{ID: "b", Method: "GET", Path: "/", Tags: []string{"pets"}}}
				a.DisplayName = "Weather Service"
			case "charlie":
				a.Description = "Forecasts the WEATHER."
			}
			if err := st.s.CreateAPI(st.ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name   string
			filter portal.APIFilter
			want   string
			total  int
		}{
			{"all by name", portal.APIFilter{}, "alpha,bravo,charlie,delta", 4},
			{"names", portal.APIFilter{Names: []string{"delta", "bravo", "nope"}}, "bravo,delta", 2},
			{"query name", portal.APIFilter{Query: "ELT"}, "delta", 1},
			{"query display name and description", portal.APIFilter{Query: "weather"}, "bravo,charlie", 2},
			{"tag is exact", portal.APIFilter{Tag: "pets"}, "bravo", 1},
			{"tag case", portal.APIFilter{Tag: "Pets"}, "alpha", 1},
			{"page", portal.APIFilter{Offset: 1, Limit: 2}, "bravo,charlie", 4},
			{"past the end", portal.APIFilter{Offset: 9, Limit: 2}, "", 4},
			{"names and page", portal.APIFilter{Names: []string{"alpha", "bravo", "charlie"}, Limit: 1}, "alpha", 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				apis, total, err := st.s.FindAPIs(st.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := apiNames(apis); got != tt.want || total != tt.total {
					t.Fatalf("FindAPIs(%+v) = %q, total %d; want %q, total %d", tt.filter, got, total, tt.want, tt.total)
				}
			})
		}

		apis, _, err := st.s.FindAPIs(st.ctx, portal.APIFilter{Names: []string{"alpha"}})
		if err != nil || len(apis) != 1 || apis[0].Operations != nil || strings.Join(apis[0].Tags, ",") != "Pets,store" {
			t.Fatalf("without WithOperations: %+v, %v; want tags and no operations", apis, err)
		}
		apis, _, err = st.s.FindAPIs(st.ctx, portal.APIFilter{Names: []string{"alpha", "delta"}, WithOperations: true})
		if err != nil || len(apis) != 2 || len(apis[0].Operations) != 1 || apis[0].Operations[0].ID != "a" || len(apis[1].Operations) != 0 {
			t.Fatalf("WithOperations: %+v, %v", apis, err)
		}
		if apis[0].SpecDocument != nil {
			t.Fatal("FindAPIs filled SpecDocument")
		}
	}},

	{"VisibleTo", func(st *storeTest) {
		t := st.t
		for _, n := range []string{"free", "hidden", "mixed", "published"} {
			st.api(n)
		}
		pub := newProduct("pub", "published", "mixed")
		st.product(pub)
		draft := newProduct("draft", "hidden", "mixed")
		draft.State = portal.ProductNotPublished
		st.product(draft)

		admin := &portal.User{ID: 1, Role: portal.RoleAdmin, State: portal.UserActive}
		blockedAdmin := &portal.User{ID: 2, Role: portal.RoleAdmin, State: portal.UserBlocked}
		dev := &portal.User{ID: 3, Role: portal.RoleDeveloper, State: portal.UserActive}
		const all, visible = "free,hidden,mixed,published", "free,mixed,published"
		tests := []struct {
			name   string
			filter portal.APIFilter
			want   string
		}{
			{"no filter", portal.APIFilter{}, all},
			{"administrator", portal.APIFilter{VisibleTo: admin}, all},
			{"developer", portal.APIFilter{VisibleTo: dev}, visible},
			{"blocked administrator", portal.APIFilter{VisibleTo: blockedAdmin}, visible},
			{"anonymous", portal.APIFilter{Anonymous: true}, visible},
			{"developer, query", portal.APIFilter{VisibleTo: dev, Query: "hid"}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				apis, total, err := st.s.FindAPIs(st.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := apiNames(apis); got != tt.want || total != len(apis) {
					t.Fatalf("FindAPIs = %q (total %d), want %q", got, total, tt.want)
				}
			})
		}

		// Publishing the draft shows its API.
		draft.State = portal.ProductPublished
		if _, err := st.s.UpdateProduct(st.ctx, "draft", draft); err != nil {
			t.Fatal(err)
		}
		apis, _, err := st.s.FindAPIs(st.ctx, portal.APIFilter{VisibleTo: dev})
		if err != nil || apiNames(apis) != all {
			t.Fatalf("after publishing: %q, %v", apiNames(apis), err)
		}
	}},

	{"FindAPITags", func(st *storeTest) {
		t := st.t
		tagged := func(name string, tags ...string) {
			a := newAPI(name)
			a.Operations = []portal.Operation{{ID: "op", Method: "GET", Path: "/x", Tags: tags}}
			if err := st.s.CreateAPI(st.ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		tagged("open", "beta", "Alpha")
		tagged("hidden", "secret", "beta")
		tagged("other", "alpha", "gamma")
		draft := newProduct("draft", "hidden")
		draft.State = portal.ProductNotPublished
		st.product(draft)

		dev := &portal.User{ID: 3, Role: portal.RoleDeveloper, State: portal.UserActive}
		for _, tt := range []struct {
			name   string
			filter portal.APIFilter
			want   string
		}{
			{"everything, sorted without case", portal.APIFilter{}, "Alpha,alpha,beta,gamma,secret"},
			{"anonymous: not the hidden API's", portal.APIFilter{Anonymous: true}, "Alpha,alpha,beta,gamma"},
			{"developer", portal.APIFilter{VisibleTo: dev}, "Alpha,alpha,beta,gamma"},
			{"filtered and paged: the paging is ignored", portal.APIFilter{Query: "other", Limit: 1, Offset: 5}, "alpha,gamma"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tags, err := st.s.FindAPITags(st.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(tags, ","); got != tt.want {
					t.Fatalf("FindAPITags = %q, want %q", got, tt.want)
				}
			})
		}
	}},

	{"DeleteCascades", func(st *storeTest) {
		t := st.t
		a := newAPI("echo")
		a.Operations = sampleOperations()
		a.SpecDocument = []byte("doc")
		if err := st.s.CreateAPI(st.ctx, a); err != nil {
			t.Fatal(err)
		}
		st.api("other")
		st.product(newProduct("starter", "echo", "other"))
		u := st.user("dev@example.com", portal.RoleDeveloper)
		byAPI := st.subscription(newSubscription("by-api", u.ID, apiScope("echo")))
		byProduct := st.subscription(newSubscription("by-product", u.ID, productScope("starter")))
		all := st.subscription(newSubscription("all", u.ID, portal.Scope{Kind: portal.ScopeAll}))

		if err := st.s.DeleteAPI(st.ctx, "echo"); err != nil {
			t.Fatal(err)
		}
		_, err := st.s.FindAPIByName(st.ctx, "echo")
		wantCode(t, err, portal.ENOTFOUND)
		_, _, err = st.s.FindAPISpec(st.ctx, "echo")
		wantCode(t, err, portal.ENOTFOUND)
		_, err = st.s.FindSubscriptionByID(st.ctx, byAPI.ID)
		wantCode(t, err, portal.ENOTFOUND)
		_, _, err = st.s.FindSubscriptionByKey(st.ctx, byAPI.SecondaryKey)
		wantCode(t, err, portal.ENOTFOUND)
		for _, id := range []int64{byProduct.ID, all.ID} {
			if _, err := st.s.FindSubscriptionByID(st.ctx, id); err != nil {
				t.Fatalf("subscription %d not scoped to the API: %v", id, err)
			}
		}
		if p, err := st.s.FindProductByName(st.ctx, "starter"); err != nil || strings.Join(p.APIs, ",") != "other" {
			t.Fatalf("product after DeleteAPI = %+v, %v", p, err)
		}
		wantCode(t, st.s.DeleteAPI(st.ctx, "echo"), portal.ENOTFOUND)

		// The name and path are free again.
		if err := st.s.CreateAPI(st.ctx, newAPI("echo")); err != nil {
			t.Fatalf("recreate: %v", err)
		}
		if got, _ := st.s.FindAPIByName(st.ctx, "echo"); got == nil || len(got.Operations) != 0 {
			t.Fatalf("a recreated API inherited operations: %+v", got)
		}
	}},

	{"ManyAPIs", func(st *storeTest) {
		t := st.t
		const n = 1000
		cs := &portal.ChangeSet{}
		for i := range n {
			cs.APIs = append(cs.APIs, newAPI(fmt.Sprintf("api-%04d", i)))
		}
		if err := st.s.Apply(st.ctx, cs); err != nil {
			t.Fatal(err)
		}
		apis, total, err := st.s.FindAPIs(st.ctx, portal.APIFilter{Anonymous: true})
		if err != nil || len(apis) != n || total != n || apis[0].Name != "api-0000" || apis[n-1].Name != "api-0999" {
			t.Fatalf("FindAPIs = %d APIs, total %d, %v", len(apis), total, err)
		}
		// A page counts every match, not just the page.
		apis, total, err = st.s.FindAPIs(st.ctx, portal.APIFilter{Anonymous: true, Offset: 990, Limit: 20})
		if err != nil || len(apis) != 10 || total != n || apis[0].Name != "api-0990" {
			t.Fatalf("last page = %d APIs, total %d, %v", len(apis), total, err)
		}
		// Speed is measured in make bench, not here.
	}},
}
