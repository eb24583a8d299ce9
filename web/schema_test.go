package web

import (
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

func TestTypeLabel(t *testing.T) {
	str := &portal.Schema{Type: "string"}
	pet := &portal.Schema{Ref: "Pet", Type: "object", Properties: []portal.Property{{Name: "name", Schema: str}}}
	for _, tc := range []struct {
		s    *portal.Schema
		want string
	}{
		{nil, "any"},
		{&portal.Schema{}, "any"},
		{str, "string"},
		{&portal.Schema{Type: "array", Items: pet}, "array of Pet"},
		{&portal.Schema{Type: "array", Items: &portal.Schema{Type: "array", Items: &portal.Schema{Type: "string", Format: "uuid"}}}, "array of array of string <uuid>"},
		{&portal.Schema{Type: "object", AdditionalProperties: &portal.Schema{Type: "integer"}}, "map of integer"},
		{&portal.Schema{OneOf: []*portal.Schema{str, pet}}, "one of"},
		{&portal.Schema{AllOf: []*portal.Schema{pet}}, "object"},
		{&portal.Schema{Ref: "Node", Recursive: true}, "Node"},
	} {
		if got := typeLabel(tc.s); got != tc.want {
			t.Errorf("typeLabel(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestSchemaTree(t *testing.T) {
	base := &portal.Schema{Ref: "Base", Type: "object", Properties: []portal.Property{{Name: "id", Required: true, Schema: &portal.Schema{Type: "integer"}}}}
	node := &portal.Schema{
		Ref:   "Node",
		Type:  "object",
		AllOf: []*portal.Schema{base},
		Properties: []portal.Property{
			{Name: "next", Schema: &portal.Schema{Ref: "Node", Recursive: true}},
			{Name: "value", Schema: &portal.Schema{OneOf: []*portal.Schema{{Type: "string"}, {Ref: "Pet", Type: "object"}}}},
		},
	}
	trees := &schemaTrees{}
	n := trees.tree(node)
	// allOf parts with properties are merged into the object.
	if len(n.Children) != 3 || n.Children[0].Name != "next" || n.Children[2].Name != "id" || !n.Children[2].Required {
		t.Fatalf("children = %+v", n.Children)
	}
	// A recursive reference links back to the enclosing definition.
	next := n.Children[0]
	if !next.Recursive || next.RecursiveAnchor == "" || next.RecursiveAnchor != n.Anchors[0] {
		t.Fatalf("recursive property = %+v, root anchors %v", next, n.Anchors)
	}
	// oneOf alternatives are labelled by their $ref or by position.
	v := n.Children[1].Variants
	if len(v) != 1 || v[0].Label != "One of" || v[0].Options[0].Label != "Option 1" || v[0].Options[1].Label != "Pet" {
		t.Fatalf("variants = %+v", v)
	}
	// Anchors are unique across trees of one page.
	if m := trees.tree(node); m.Anchors[0] == n.Anchors[0] {
		t.Fatalf("two trees share anchor %q", m.Anchors[0])
	}
}

func TestExampleFromSchema(t *testing.T) {
	s := &portal.Schema{Type: "object", Properties: []portal.Property{
		{Name: "id", Schema: &portal.Schema{Type: "integer", ReadOnly: true}},
		{Name: "password", Schema: &portal.Schema{Type: "string", WriteOnly: true}},
		{Name: "when", Schema: &portal.Schema{Type: "string", Format: "date"}},
		{Name: "kind", Schema: &portal.Schema{Type: "string", Enum: []string{`"cat"`, `"dog"`}}},
		{Name: "size", Schema: &portal.Schema{Type: "number", Minimum: fptr(2.5)}},
		{Name: "self", Schema: &portal.Schema{Ref: "X", Recursive: true}},
	}}
	req, _ := exampleFromSchema(s, forRequest)
	if want := "{\n  \"password\": \"string\",\n  \"when\": \"2025-01-31\",\n  \"kind\": \"cat\",\n  \"size\": 2.5\n}"; req != want {
		t.Errorf("request example:\n%s\nwant:\n%s", req, want)
	}
	res, _ := exampleFromSchema(s, forResponse)
	if !strings.Contains(res, `"id": 0`) || strings.Contains(res, "password") {
		t.Errorf("response example:\n%s", res)
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote(`it's "x"`); got != `'it'\''s "x"'` {
		t.Fatalf("shellQuote = %s", got)
	}
}

func fptr(f float64) *float64 { return &f }
