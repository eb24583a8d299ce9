package openapi

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/porticoapi/portico/portal"
)

func parseFile(t *testing.T, name, baseDir string) *Document {
	t.Helper()
	doc, err := parseFileErr(t, name, baseDir)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return doc
}

func parseFileErr(t *testing.T, name, baseDir string) (*Document, error) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(context.Background(), data, Options{Location: name, BaseDir: baseDir})
}

func operation(t *testing.T, doc *Document, id string) *portal.Operation {
	t.Helper()
	for i := range doc.Operations {
		if doc.Operations[i].ID == id {
			return &doc.Operations[i]
		}
	}
	t.Fatalf("no operation %q", id)
	return nil
}

func parameter(t *testing.T, params []portal.Parameter, name string) *portal.Parameter {
	t.Helper()
	for i := range params {
		if params[i].Name == name {
			return &params[i]
		}
	}
	t.Fatalf("no parameter %q", name)
	return nil
}

func response(t *testing.T, op *portal.Operation, status string) *portal.Response {
	t.Helper()
	for i := range op.Responses {
		if op.Responses[i].Status == status {
			return &op.Responses[i]
		}
	}
	t.Fatalf("%s: no response %q", op.ID, status)
	return nil
}

func mediaType(t *testing.T, content []portal.MediaType, typ string) *portal.MediaType {
	t.Helper()
	for i := range content {
		if content[i].Type == typ {
			return &content[i]
		}
	}
	t.Fatalf("no media type %q", typ)
	return nil
}

func property(t *testing.T, s *portal.Schema, name string) *portal.Property {
	t.Helper()
	if s == nil {
		t.Fatalf("no schema for property %q", name)
	}
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return &s.Properties[i]
		}
	}
	t.Fatalf("schema %q has no property %q", s.Ref, name)
	return nil
}

func propertyNames(s *portal.Schema) []string {
	var names []string
	for _, p := range s.Properties {
		names = append(names, p.Name)
	}
	return names
}

func statuses(op *portal.Operation) []string {
	var out []string
	for _, r := range op.Responses {
		out = append(out, r.Status)
	}
	return out
}

func contentTypes(content []portal.MediaType) []string {
	var out []string
	for _, m := range content {
		out = append(out, m.Type)
	}
	return out
}

func paramNames(params []portal.Parameter) []string {
	var out []string
	for _, p := range params {
		out = append(out, p.In+":"+p.Name)
	}
	return out
}

func float(f *float64) float64 {
	if f == nil {
		return -1
	}
	return *f
}

func integer(n *int) int {
	if n == nil {
		return -1
	}
	return *n
}

func TestParseSwagger(t *testing.T) {
	doc := parseFile(t, "testdata/petstore-swagger.yaml", "testdata")

	if doc.Format != "swagger 2.0" || doc.Title != "Swagger Petstore" || doc.Version != "1.0.7" {
		t.Fatalf("header = %q %q %q", doc.Format, doc.Title, doc.Version)
	}
	if doc.Description != "This is a sample server Petstore server." {
		t.Fatalf("description = %q", doc.Description)
	}
	if want := []string{"https://petstore.swagger.io/v2", "http://petstore.swagger.io/v2"}; !slices.Equal(doc.Servers, want) {
		t.Fatalf("servers = %q, want %q", doc.Servers, want)
	}

	// Paths in the order written; PUT before POST on /pet by the fixed
	// method order.
	wantOps := []struct{ id, method, path string }{
		{"updatePet", "PUT", "/pet"},
		{"addPet", "POST", "/pet"},
		{"findPetsByStatus", "GET", "/pet/findByStatus"},
		{"getPetById", "GET", "/pet/{petId}"},
		{"updatePetWithForm", "POST", "/pet/{petId}"},
		{"deletePet", "DELETE", "/pet/{petId}"},
		{"uploadFile", "POST", "/pet/{petId}/uploadImage"},
		{"getInventory", "GET", "/store/inventory"},
		{"placeOrder", "POST", "/store/order"},
		{"loginUser", "GET", "/user/login"},
	}
	if len(doc.Operations) != len(wantOps) {
		t.Fatalf("%d operations, want %d", len(doc.Operations), len(wantOps))
	}
	for i, want := range wantOps {
		op := doc.Operations[i]
		if op.ID != want.id || op.Method != want.method || op.Path != want.path {
			t.Fatalf("operation %d = %s %s %s, want %s %s %s", i, op.ID, op.Method, op.Path, want.id, want.method, want.path)
		}
		if err := op.Validate(); err != nil {
			t.Fatalf("operation %s: %v", op.ID, err)
		}
	}

	t.Run("body parameter", func(t *testing.T) {
		op := operation(t, doc, "addPet")
		if op.Summary != "Add a new pet to the store" || !slices.Equal(op.Tags, []string{"pet"}) {
			t.Fatalf("summary, tags = %q, %q", op.Summary, op.Tags)
		}
		if len(op.Parameters) != 0 {
			t.Fatalf("parameters = %q, want none: the body parameter becomes the request body", paramNames(op.Parameters))
		}
		body := op.RequestBody
		if body == nil || !body.Required || body.Description != "Pet object that needs to be added to the store" {
			t.Fatalf("request body = %+v", body)
		}
		if got := contentTypes(body.Content); !slices.Equal(got, []string{"application/json", "application/xml"}) {
			t.Fatalf("consumes = %q", got)
		}
		pet := mediaType(t, body.Content, "application/json").Schema
		if pet.Ref != "Pet" || pet.Type != "object" {
			t.Fatalf("body schema = %q %q, want Pet object", pet.Ref, pet.Type)
		}
		if got, want := propertyNames(pet), []string{"category", "id", "name", "photoUrls", "status", "tags"}; !slices.Equal(got, want) {
			t.Fatalf("Pet properties = %q, want %q", got, want)
		}
		for name, required := range map[string]bool{"name": true, "photoUrls": true, "id": false, "status": false} {
			if p := property(t, pet, name); p.Required != required {
				t.Fatalf("Pet.%s required = %v", name, p.Required)
			}
		}
		if c := property(t, pet, "category").Schema; c.Ref != "Category" || c.Type != "object" {
			t.Fatalf("Pet.category = %+v", c)
		}
		if tags := property(t, pet, "tags").Schema; tags.Type != "array" || tags.Items == nil || tags.Items.Ref != "Tag" {
			t.Fatalf("Pet.tags = %+v", tags)
		}
		status := property(t, pet, "status").Schema
		if !slices.Equal(status.Enum, []string{`"available"`, `"pending"`, `"sold"`}) || status.Description != "pet status in the store" {
			t.Fatalf("Pet.status = %+v", status)
		}
		if ex := property(t, pet, "name").Schema.Example; ex != `"doggie"` {
			t.Fatalf("Pet.name example = %s", ex)
		}
		if got := statuses(op); !slices.Equal(got, []string{"405"}) {
			t.Fatalf("responses = %q", got)
		}
	})

	t.Run("formData parameters", func(t *testing.T) {
		op := operation(t, doc, "updatePetWithForm")
		if got := paramNames(op.Parameters); !slices.Equal(got, []string{"path:petId"}) {
			t.Fatalf("parameters = %q", got)
		}
		petID := op.Parameters[0]
		if !petID.Required || petID.Schema.Type != "integer" || petID.Schema.Format != "int64" || petID.Description != "ID of pet that needs to be updated" {
			t.Fatalf("petId = %+v %+v", petID, petID.Schema)
		}
		form := mediaType(t, op.RequestBody.Content, "application/x-www-form-urlencoded").Schema
		if got := propertyNames(form); !slices.Equal(got, []string{"name", "status"}) {
			t.Fatalf("form fields = %q", got)
		}
		if p := property(t, form, "status"); !p.Required || p.Schema.Type != "string" {
			t.Fatalf("status field = %+v", p)
		}
		if p := property(t, form, "name"); p.Required || p.Schema.Description != "Updated name of the pet" {
			t.Fatalf("name field = %+v", p)
		}

		upload := operation(t, doc, "uploadFile")
		file := property(t, mediaType(t, upload.RequestBody.Content, "multipart/form-data").Schema, "file").Schema
		if file.Type != "string" || file.Format != "binary" {
			t.Fatalf("file field = %q %q, want string binary", file.Type, file.Format)
		}
	})

	t.Run("parameters", func(t *testing.T) {
		del := operation(t, doc, "deletePet")
		if got := paramNames(del.Parameters); !slices.Equal(got, []string{"header:api_key", "path:petId"}) {
			t.Fatalf("parameters = %q", got)
		}
		if del.Parameters[0].Required {
			t.Fatal("api_key is required")
		}
		status := parameter(t, operation(t, doc, "findPetsByStatus").Parameters, "status")
		if status.In != "query" || !status.Required || status.Schema.Type != "array" {
			t.Fatalf("status = %+v", status)
		}
		if items := status.Schema.Items; items.Default != `"available"` || len(items.Enum) != 3 {
			t.Fatalf("status items = %+v", items)
		}
	})

	t.Run("responses", func(t *testing.T) {
		if got := statuses(operation(t, doc, "updatePet")); !slices.Equal(got, []string{"400", "404", "405"}) {
			t.Fatalf("updatePet responses = %q", got)
		}
		get := operation(t, doc, "getPetById")
		ok := mediaType(t, response(t, get, "200").Content, "application/json")
		if ok.Schema.Ref != "Pet" || ok.Example != `{"id":10,"name":"doggie","photoUrls":[]}` {
			t.Fatalf("200 = %q, example %s", ok.Schema.Ref, ok.Example)
		}
		if r := response(t, get, "404"); r.Description != "Pet not found" || len(r.Content) != 0 {
			t.Fatalf("404 = %+v", r)
		}
		inventory := mediaType(t, response(t, operation(t, doc, "getInventory"), "200").Content, "application/json").Schema
		if ap := inventory.AdditionalProperties; inventory.Type != "object" || ap == nil || ap.Type != "integer" || ap.Format != "int32" {
			t.Fatalf("inventory = %+v", inventory)
		}
		order := mediaType(t, response(t, operation(t, doc, "placeOrder"), "200").Content, "application/json").Schema
		if q := property(t, order, "quantity").Schema; float(q.Minimum) != 1 || float(q.Maximum) != 100 {
			t.Fatalf("quantity bounds = %v %v", float(q.Minimum), float(q.Maximum))
		}
		if c := property(t, order, "complete").Schema; c.Type != "boolean" || c.Default != "false" {
			t.Fatalf("complete = %+v", c)
		}
		login := response(t, operation(t, doc, "loginUser"), "200")
		if got := paramNames(login.Headers); !slices.Equal(got, []string{"header:X-Expires-After", "header:X-Rate-Limit"}) {
			t.Fatalf("headers = %q", got)
		}
		if h := login.Headers[1]; h.Schema.Type != "integer" || h.Description != "calls per hour allowed by the user" {
			t.Fatalf("X-Rate-Limit = %+v", h)
		}
	})
}

func TestParseOpenAPI3(t *testing.T) {
	doc := parseFile(t, "testdata/shop.yaml", "testdata")

	if doc.Format != "openapi 3.0.3" || doc.Title != "Pet Shop" || doc.Version != "2.1" {
		t.Fatalf("header = %q %q %q", doc.Format, doc.Title, doc.Version)
	}
	if want := []string{"https://eu.shop.example.com/v2", "http://localhost:9000"}; !slices.Equal(doc.Servers, want) {
		t.Fatalf("servers = %q, want %q", doc.Servers, want)
	}

	wantOps := []struct{ id, method, path string }{
		{"listPets", "GET", "/shops/{shopId}/pets"},
		{"post-shops-shopid-pets", "POST", "/shops/{shopId}/pets"}, // operationId "create pet" is not URL-safe
		{"listCategories", "GET", "/categories"},
		{"getPet", "GET", "/shops/{shopId}/pets/{petId}"},
		{"delete-shops-shopid-pets-petid", "DELETE", "/shops/{shopId}/pets/{petId}"},
		{"get-health", "GET", "/health"},
		{"get-a-b-2", "GET", "/a-b"}, // "get-a-b" is /legacy's operationId
		{"get-a-b-3", "GET", "/a_b"},
		{"get-a-b", "GET", "/legacy"},
	}
	if len(doc.Operations) != len(wantOps) {
		t.Fatalf("%d operations, want %d", len(doc.Operations), len(wantOps))
	}
	for i, want := range wantOps {
		op := doc.Operations[i]
		if op.ID != want.id || op.Method != want.method || op.Path != want.path {
			t.Fatalf("operation %d = %s %s %s, want %s %s %s", i, op.ID, op.Method, op.Path, want.id, want.method, want.path)
		}
	}
	api := portal.API{Name: "shop", Path: "shop", Backend: portal.Backend{URL: portal.BuiltinEcho}, Operations: doc.Operations}
	api.Normalize()
	if err := api.Validate(); err != nil {
		t.Fatalf("imported operations do not pass portal validation: %v", err)
	}

	t.Run("path-level parameters", func(t *testing.T) {
		op := operation(t, doc, "listPets")
		if op.Summary != "List the pets of a shop" || op.Description != "Pets are listed by id." || !slices.Equal(op.Tags, []string{"pets"}) {
			t.Fatalf("summary, description, tags = %q %q %q", op.Summary, op.Description, op.Tags)
		}
		// The operation's X-Trace replaces the path-level one in its place.
		if got, want := paramNames(op.Parameters), []string{"path:shopId", "header:X-Trace", "query:limit"}; !slices.Equal(got, want) {
			t.Fatalf("parameters = %q, want %q", got, want)
		}
		shop := op.Parameters[0]
		if !shop.Required || shop.Description != "The shop" || shop.Example != `"main"` || shop.Schema.Pattern != "^[a-z]+$" {
			t.Fatalf("shopId = %+v %+v", shop, shop.Schema)
		}
		trace := op.Parameters[1]
		if !trace.Required || trace.Description != "Trace id, required here" || trace.Schema.Format != "uuid" {
			t.Fatalf("X-Trace = %+v %+v", trace, trace.Schema)
		}
		limit := op.Parameters[2]
		if limit.Required || limit.Example != "10" || limit.Schema.Default != "20" || float(limit.Schema.Minimum) != 1 || float(limit.Schema.Maximum) != 100 {
			t.Fatalf("limit = %+v %+v", limit, limit.Schema)
		}

		get := operation(t, doc, "getPet")
		if got, want := paramNames(get.Parameters), []string{"path:shopId", "path:petId"}; !slices.Equal(got, want) {
			t.Fatalf("getPet parameters = %q, want %q", got, want)
		}
	})

	t.Run("responses with examples", func(t *testing.T) {
		op := operation(t, doc, "listPets")
		if got := statuses(op); !slices.Equal(got, []string{"200", "default"}) {
			t.Fatalf("responses = %q", got)
		}
		ok := response(t, op, "200")
		if ok.Description != "The pets" || len(ok.Headers) != 1 || ok.Headers[0].Name != "X-Total-Count" || ok.Headers[0].Schema.Type != "integer" {
			t.Fatalf("200 = %+v", ok)
		}
		pets := mediaType(t, ok.Content, "application/json")
		// Named examples come by name: "one" before "two".
		if want := `[{"barks":true,"id":1,"kind":"dog","name":"Rex"}]`; pets.Example != want {
			t.Fatalf("example = %s, want %s", pets.Example, want)
		}
		if pets.Schema.Type != "array" || pets.Schema.Items.Ref != "Pet" {
			t.Fatalf("schema = %+v", pets.Schema)
		}

		def := response(t, op, "default")
		problem := mediaType(t, def.Content, "application/problem+json")
		if def.Description != "An error" || problem.Example != `{"status":404,"title":"Not Found"}` {
			t.Fatalf("default = %q, example %s", def.Description, problem.Example)
		}

		post := operation(t, doc, "post-shops-shopid-pets")
		if got := statuses(post); !slices.Equal(got, []string{"201", "400", "4XX"}) {
			t.Fatalf("post responses = %q", got)
		}
		health := mediaType(t, response(t, operation(t, doc, "get-health"), "200").Content, "text/plain")
		if health.Example != "ok" {
			t.Fatalf("text/plain example = %q, want the literal ok", health.Example)
		}
	})

	t.Run("request body", func(t *testing.T) {
		body := operation(t, doc, "post-shops-shopid-pets").RequestBody
		if body == nil || !body.Required || body.Description != "The pet to add" {
			t.Fatalf("request body = %+v", body)
		}
		if got := contentTypes(body.Content); !slices.Equal(got, []string{"application/json", "application/x-www-form-urlencoded"}) {
			t.Fatalf("content = %q", got)
		}
		js := mediaType(t, body.Content, "application/json")
		if js.Example != `{"barks":true,"kind":"dog","name":"Rex"}` || js.Schema.Ref != "NewPet" {
			t.Fatalf("json = %q %s", js.Schema.Ref, js.Example)
		}
		if form := mediaType(t, body.Content, "application/x-www-form-urlencoded"); form.Example != "" || form.Schema.Ref != "NewPet" {
			t.Fatalf("form = %+v", form)
		}
	})

	t.Run("allOf and oneOf", func(t *testing.T) {
		pet := mediaType(t, response(t, operation(t, doc, "getPet"), "200").Content, "application/json").Schema
		if pet.Ref != "Pet" || len(pet.AllOf) != 2 {
			t.Fatalf("Pet = %+v", pet)
		}
		newPet, extra := pet.AllOf[0], pet.AllOf[1]
		if newPet.Ref != "NewPet" || len(newPet.OneOf) != 2 || newPet.OneOf[0].Ref != "Cat" || newPet.OneOf[1].Ref != "Dog" {
			t.Fatalf("NewPet = %+v", newPet)
		}
		if id := property(t, extra, "id"); !id.Required || !id.Schema.ReadOnly || id.Schema.Type != "integer" {
			t.Fatalf("id = %+v %+v", id, id.Schema)
		}
		cat, dog := newPet.OneOf[0], newPet.OneOf[1]
		if name := property(t, cat, "name").Schema; integer(name.MinLength) != 1 || integer(name.MaxLength) != 50 {
			t.Fatalf("Cat.name lengths = %d %d", integer(name.MinLength), integer(name.MaxLength))
		}
		if lives := property(t, cat, "lives").Schema; lives.Default != "9" {
			t.Fatalf("Cat.lives default = %q", lives.Default)
		}
		if kind := property(t, dog, "kind"); !kind.Required || !slices.Equal(kind.Schema.Enum, []string{`"dog"`}) {
			t.Fatalf("Dog.kind = %+v", kind)
		}
		if nick := property(t, dog, "nickname").Schema; !nick.Nullable || nick.Type != "string" {
			t.Fatalf("Dog.nickname = %+v", nick)
		}
	})

	t.Run("recursive schema", func(t *testing.T) {
		op := operation(t, doc, "listCategories")
		if !op.Deprecated {
			t.Fatal("listCategories is not deprecated")
		}
		category := mediaType(t, response(t, op, "200").Content, "application/json").Schema.Items
		if category.Ref != "Category" || category.Recursive {
			t.Fatalf("Category = %+v", category)
		}
		if got, want := propertyNames(category), []string{"attributes", "children", "name", "parent"}; !slices.Equal(got, want) {
			t.Fatalf("Category properties = %q, want %q", got, want)
		}
		parent := property(t, category, "parent").Schema
		if want := (portal.Schema{Ref: "Category", Recursive: true}); !reflect.DeepEqual(*parent, want) {
			t.Fatalf("parent = %+v, want %+v", *parent, want)
		}
		children := property(t, category, "children").Schema
		if children.Type != "array" || children.Items == nil || !children.Items.Recursive || children.Items.Ref != "Category" {
			t.Fatalf("children = %+v", children)
		}
		if ap := property(t, category, "attributes").Schema.AdditionalProperties; ap == nil || ap.Type != "string" {
			t.Fatalf("attributes.additionalProperties = %+v", ap)
		}
	})

	t.Run("relative file refs", func(t *testing.T) {
		problem := mediaType(t, response(t, operation(t, doc, "getPet"), "404").Content, "application/problem+json").Schema
		if problem.Ref != "Problem" || problem.Type != "object" {
			t.Fatalf("Problem = %+v", problem)
		}
		if got, want := propertyNames(problem), []string{"detail", "errors", "status", "title"}; !slices.Equal(got, want) {
			t.Fatalf("Problem properties = %q, want %q", got, want)
		}
		// common/errors.yaml refers to fields.yaml, next to itself.
		field := property(t, problem, "errors").Schema.Items
		if field == nil || field.Ref != "FieldError" || !slices.Equal(propertyNames(field), []string{"field", "message"}) {
			t.Fatalf("errors items = %+v", field)
		}
	})
}

// TestParseOpenAPI31 reads an OpenAPI 3.1 document written in JSON.
func TestParseOpenAPI31(t *testing.T) {
	doc := parseFile(t, "testdata/library-3.1.json", "")

	if doc.Format != "openapi 3.1.0" || doc.Title != "Library" || doc.Version != "0.9.0" {
		t.Fatalf("header = %q %q %q", doc.Format, doc.Title, doc.Version)
	}
	// JSON keeps the order written too; webhooks are not operations.
	var got []string
	for _, op := range doc.Operations {
		got = append(got, op.ID+" "+op.Method+" "+op.Path)
	}
	if want := []string{"createLoan POST /loans", "getBook GET /books/{isbn}"}; !slices.Equal(got, want) {
		t.Fatalf("operations = %q, want %q", got, want)
	}

	book := mediaType(t, response(t, operation(t, doc, "getBook"), "200").Content, "application/json").Schema
	tests := []struct {
		property string
		check    func(s *portal.Schema) bool
	}{
		{"subtitle", func(s *portal.Schema) bool { return s.Type == "string" && s.Nullable }},
		{"edition", func(s *portal.Schema) bool {
			return s.Type == "" && len(s.AnyOf) == 2 && s.AnyOf[0].Type == "integer" && s.AnyOf[1].Type == "string"
		}},
		{"pages", func(s *portal.Schema) bool { return s.Type == "integer" && float(s.Minimum) == 0 }},
		{"isbn", func(s *portal.Schema) bool { return s.Example == `"978-0-13-468599-1"` }},
	}
	for _, tt := range tests {
		t.Run(tt.property, func(t *testing.T) {
			if s := property(t, book, tt.property).Schema; !tt.check(s) {
				t.Fatalf("%s = %+v", tt.property, s)
			}
		})
	}
	isbn := parameter(t, operation(t, doc, "getBook").Parameters, "isbn")
	if isbn.Example != `"978-0"` {
		t.Fatalf("isbn example = %s", isbn.Example)
	}

	loan := operation(t, doc, "createLoan")
	if kind := property(t, loan.RequestBody.Content[0].Schema, "kind").Schema; !slices.Equal(kind.Enum, []string{`"loan"`}) {
		t.Fatalf("const = %q", kind.Enum)
	}
	created := mediaType(t, response(t, loan, "201").Content, "application/json")
	if want := `{"bookId":"b-1","kind":"loan","weeks":4}`; created.Example != want {
		t.Fatalf("example = %s, want %s (a-monthly, first by name)", created.Example, want)
	}
}

// TestParseJSONAndYAML checks that one document gives the same result in
// either syntax.
func TestParseJSONAndYAML(t *testing.T) {
	fromYAML := parseFile(t, "testdata/petstore-swagger.yaml", "")
	fromJSON := parseFile(t, "testdata/petstore-swagger.json", "")
	if !reflect.DeepEqual(fromYAML, fromJSON) {
		t.Fatal("the JSON and YAML petstore import differently")
	}
	if len(fromJSON.Operations) != 10 || fromJSON.Operations[0].ID != "updatePet" {
		t.Fatalf("JSON operations = %d, first %q", len(fromJSON.Operations), fromJSON.Operations[0].ID)
	}
}

func TestParseLenient(t *testing.T) {
	doc := parseFile(t, "testdata/lenient.yaml", "")
	op := operation(t, doc, "getCode")
	code := parameter(t, op.Parameters, "code")
	if code.Schema.Pattern != "^(?!000)[0-9]{3}$" || code.Schema.Format != "country-code" || code.Example != "12" {
		t.Fatalf("code = %+v %+v", code, code.Schema)
	}
	ok := mediaType(t, response(t, op, "200").Content, "application/json")
	if ok.Example != `"not a number"` || ok.Schema.Default != `"none"` {
		t.Fatalf("200 = %+v %+v", ok, ok.Schema)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file    string
		baseDir string
		want    string // the message after "<file>: "
	}{
		{"broken/invalid-yaml.yaml", "", "invalid YAML: line 8: did not find expected ',' or '}'"},
		{"broken/invalid-json.json", "", "invalid JSON at line 3: invalid character '\"' after object key:value pair"},
		{"broken/no-slash.yaml", "", `invalid paths: path "users" does not start with a forward slash (/)`},
		{"broken/missing-ref.yaml", "", `failed to resolve "User" in fragment in URI: "#/components/schemas/User": map key "User" not found`},
		{"broken/missing-path-param.yaml", "", "invalid paths: operation GET /users/{id} must define exactly all path parameters (missing: [id])"},
		{"broken/bad-schema.yaml", "", `invalid components: schema "User": unsupported 'type' value "strng"`},
		{"broken/bad-external.yaml", "testdata/broken", "invalid schema parts/things.yaml#/Thing: when schema type is 'array', schema 'items' must be non-null"},
		{"broken/url-ref.yaml", "testdata/broken", `error resolving reference "https://schemas.example.com/user.yaml#/User": $ref to "https://schemas.example.com/user.yaml" refused: Portico does not fetch URLs named in a document`},
		{"broken/absolute-ref.yaml", "testdata/broken", `$ref to "/etc/hostname" refused: a $ref may only name a file in the document's directory or below it`},
		// The file exists, one directory up.
		{"escape/spec.yaml", "testdata/escape", `error resolving reference "../common/errors.yaml#/components/schemas/Problem": $ref to "../common/errors.yaml" refused: a $ref may only name a file in the document's directory or below it`},
		// Without a base directory no file is read at all.
		{"shop.yaml", "", `error resolving reference "common/errors.yaml#/components/schemas/Problem": $ref to "common/errors.yaml" refused: this document was not read from a file, so it may not refer to other files`},
		{"broken/openapi-2.yaml", "", `OpenAPI version "2.0.0" is not supported; Portico reads OpenAPI 3.x and Swagger 2.0`},
		{"broken/swagger-1.2.json", "", `Swagger version "1.2" is not supported; Portico reads Swagger 2.0 and OpenAPI 3.x`},
		{"broken/unquoted-version.yaml", "", `the openapi field must be a string: write openapi: "3.0", in quotes`},
		{"broken/no-version.yaml", "", "not an OpenAPI document: it has neither an openapi field (OpenAPI 3.x) nor a swagger field (Swagger 2.0)"},
		{"broken/list.yaml", "", "not an OpenAPI document: expected a mapping of fields such as openapi, info and paths at the top level"},
		{"broken/query-method.yaml", "", "operation QUERY /search: Portico's gateway routes only GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH and TRACE"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := filepath.ToSlash(filepath.Join("testdata", tt.file))
			doc, err := parseFileErr(t, name, tt.baseDir)
			if doc != nil {
				t.Fatal("a document came back with the error")
			}
			if code := portal.ErrorCode(err); code != portal.EINVALID {
				t.Fatalf("code = %q (%v), want %q", code, err, portal.EINVALID)
			}
			if got, want := portal.ErrorMessage(err), name+": "+tt.want; got != want {
				t.Fatalf("message\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // error message; "" for success
	}{
		{"empty", "  \n", "x.yaml: the document is empty"},
		{"scalar", "hello", "x.yaml: not an OpenAPI document: expected a mapping of fields such as openapi, info and paths at the top level"},
		{"both versions", `{"openapi": "3.0.3", "swagger": "2.0"}`, "x.yaml: the document has both an openapi and a swagger field; keep the one that matches its content"},
		{"numeric openapi in JSON", `{"openapi": 3.1}`, `x.yaml: the openapi field must be a string such as "3.0.3", not 3.1`},
		{"truncated JSON", `{"openapi": "3.0.3", "info": {`, "x.yaml: invalid JSON: unexpected end of document"},
		{"BOM", "\xef\xbb\xbf{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {}}", ""},
		{"unquoted swagger 2.0", "# é\nswagger:   2.0 # common\ninfo: {title: t, version: '1'}\npaths: {}\n", ""},
		{"3.1 without paths", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n", ""},
		{"wrong type in YAML", "openapi: 3.0.3\ninfo: hello\npaths: {}\n", "x.yaml: cannot read the document: cannot unmarshal string into value of type openapi3.Info"},
		{"wrong type in JSON", `{"openapi": "3.0.3", "info": "hello", "paths": {}}`, "x.yaml: cannot read the document: cannot unmarshal string into value of type openapi3.Info"},
		{"wrong type in swagger", "swagger: '2.0'\ninfo: hello\npaths: {}\n", "x.yaml: cannot read the document: cannot unmarshal string into value of type openapi3.Info"},
		{"deep YAML", "openapi: 3.0.3\nx-deep: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n", "x.yaml: the document nests 151 levels deep; Portico reads at most 100"},
		{"deep JSON", `{"openapi": "3.0.3", "x-deep": "[{", "x": ` + strings.Repeat(`{"a":`, 120) + "1" + strings.Repeat("}", 120) + "}", "x.yaml: the document nests 121 levels deep; Portico reads at most 100"},
		{"large and deep", `{"openapi": "3.0.3", "x": ` + strings.Repeat("[", 90) + `"` + strings.Repeat("a", 3<<20) + `"` + strings.Repeat("]", 90) + "}",
			"x.yaml: the document is too large for how deeply it nests; move deeply nested schemas to components and refer to them with $ref, or split the document"},
		{"typo", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /u: {get: {descripton: x, responses: {'200': {description: ok}}}}\n",
			"x.yaml: invalid paths: invalid path /u: invalid operation GET: extra sibling fields: [descripton]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse(context.Background(), []byte(tt.data), Options{Location: "x.yaml"})
			if tt.want == "" {
				if err != nil || doc == nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if doc != nil || portal.ErrorCode(err) != portal.EINVALID || portal.ErrorMessage(err) != tt.want {
				t.Fatalf("Parse = %v, %v; want %s", doc, err, tt.want)
			}
		})
	}
}

func TestParseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(ctx, data, Options{Location: "shop.yaml", BaseDir: "testdata"}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"GET", "/users/{id}", "get-users-id"},
		{"DELETE", "/Users/{userId}/Keys", "delete-users-userid-keys"},
		{"GET", "/", "get"},
		{"POST", "/café/ü", "post-caf"},
		{"PUT", "/" + strings.Repeat("segment/", 20), "put" + strings.Repeat("-segment", 9) + "-segm"}, // 80 characters
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := slug(tt.method, tt.path)
			if got != tt.want || !portal.ValidName(got) {
				t.Fatalf("slug(%s, %s) = %q, want %q", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestOperationIDsUnique(t *testing.T) {
	long := "/" + strings.Repeat("segment/", 20)
	op := func(id string) *openapi3.Operation { return &openapi3.Operation{OperationID: id} }
	srcs := []source{
		{method: "GET", path: long + "a", op: op("")},
		{method: "GET", path: long + "b", op: op("")},
		{method: "GET", path: "/x", op: op("dup")},
		{method: "PUT", path: "/x", op: op("a/b")},
		{method: "PUT", path: "/x/", op: op("")},
	}
	got := operationIDs(srcs)
	base := "get" + strings.Repeat("-segment", 9) + "-segm"
	want := []string{base, base[:78] + "-2", "dup", "put-x", "put-x-2"}
	if !slices.Equal(got, want) {
		t.Fatalf("ids = %q, want %q", got, want)
	}
	for _, id := range got {
		if !portal.ValidName(id) {
			t.Fatalf("%q is not a valid name", id)
		}
	}
}
