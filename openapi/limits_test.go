package openapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/porticoapi/portico/portal"
)

// These documents are generated: their point is their shape, which is
// tedious to write out by hand.

// chainDocument has one operation answering S0, where each Si has a
// property next referring to S(i+1), down to S(n-1).
func chainDocument(n int) string {
	var b strings.Builder
	b.WriteString(`{"openapi": "3.0.3", "info": {"title": "chain", "version": "1"},
"paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "OK",
"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}}},
"components": {"schemas": {`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d": {"type": "string"}`, i)
			continue
		}
		fmt.Fprintf(&b, `"S%d": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/S%d"}}}`, i, i+1)
	}
	b.WriteString("}}}")
	return b.String()
}

// fanOutDocument has ops operations, each answering the response component
// R, which has mediaTypes media types whose schema is T0. Each Ti has ten
// properties referring to T(i+1), down to T5: a tree of a million nodes
// from a few kilobytes.
func fanOutDocument(ops, mediaTypes int) string {
	var b strings.Builder
	b.WriteString(`{"openapi": "3.0.3", "info": {"title": "fan-out", "version": "1"}, "paths": {`)
	for i := 0; i < ops; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"/p%d": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}}`, i)
	}
	b.WriteString(`}, "components": {"responses": {"R": {"description": "OK", "content": {`)
	for i := 0; i < mediaTypes; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"application/x-t%d": {"schema": {"$ref": "#/components/schemas/T0"}}`, i)
	}
	b.WriteString(`}}}, "schemas": {`)
	for i := 0; i <= 5; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"T%d": {"type": "object", "properties": {`, i)
		for p := 0; p < 10; p++ {
			if p > 0 {
				b.WriteString(",")
			}
			if i == 5 {
				fmt.Fprintf(&b, `"p%d": {"type": "string"}`, p)
			} else {
				fmt.Fprintf(&b, `"p%d": {"$ref": "#/components/schemas/T%d"}`, p, i+1)
			}
		}
		b.WriteString("}}")
	}
	b.WriteString("}}}")
	return b.String()
}

func countNodes(s *portal.Schema) int {
	if s == nil {
		return 0
	}
	n := 1 + countNodes(s.Items) + countNodes(s.AdditionalProperties)
	for _, p := range s.Properties {
		n += countNodes(p.Schema)
	}
	for _, list := range [][]*portal.Schema{s.AllOf, s.OneOf, s.AnyOf} {
		for _, c := range list {
			n += countNodes(c)
		}
	}
	return n
}

func TestSchemaDepthLimit(t *testing.T) {
	doc, err := Parse(context.Background(), []byte(chainDocument(20)), Options{Location: "chain.json"})
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Operations[0].Responses[0].Content[0].Schema
	for depth := 0; depth < maxSchemaDepth; depth++ {
		if s.Ref != fmt.Sprintf("S%d", depth) || len(s.Properties) != 1 {
			t.Fatalf("depth %d: %+v", depth, s)
		}
		s = s.Properties[0].Schema
	}
	// Abbreviated at the depth limit: named and typed, not expanded.
	if s.Ref != "S12" || s.Type != "object" || len(s.Properties) != 0 || s.Recursive {
		t.Fatalf("depth %d: %+v", maxSchemaDepth, s)
	}
}

func TestSchemaBudget(t *testing.T) {
	doc, err := Parse(context.Background(), []byte(fanOutDocument(1, 1)), Options{Location: "fan-out.json"})
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Operations[0].Responses[0].Content[0].Schema
	if n := countNodes(s); n > maxOpSchemas+1 || n < maxOpSchemas/2 {
		t.Fatalf("%d schema nodes, want about %d", n, maxOpSchemas)
	}
	if s.Ref != "T0" || len(s.Properties) != 10 {
		t.Fatalf("root = %+v", s)
	}
}

func TestDocumentTooLarge(t *testing.T) {
	// Through Parse this would take 300,000 nodes, and a document whose
	// validation by the library alone takes seconds, so the test calls
	// operations with a lower limit.
	load := func(data string) *openapi3.T {
		doc, err := openapi3.NewLoader().LoadFromData([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	// 50 operations with 20 media types each: 2,000 nodes even with every
	// schema abbreviated.
	_, err := operations(load(fanOutDocument(50, 20)), nil, 1000)
	if want := "the document is too large to import: its operations expand to more than 1000 parameters, bodies and schema nodes"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want %s", err, want)
	}
	ops, err := operations(load(fanOutDocument(10, 20)), nil, 1000)
	if err != nil || len(ops) != 10 {
		t.Fatalf("%d operations, err %v", len(ops), err)
	}
}

// denseDocument has n schemas that each refer to two others, and ops
// operations answering them. The library's own validation checks every
// schema reachable from every place anew, which takes minutes at n =
// 1,000; validate checks each schema once.
func denseDocument(n, ops int) string {
	var b strings.Builder
	b.WriteString(`{"openapi": "3.0.3", "info": {"title": "dense", "version": "1"}, "paths": {`)
	for i := 0; i < ops; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"/r%d": {"get": {"responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S%d"}}}}}}}`, i, i%n)
	}
	b.WriteString(`}, "components": {"schemas": {`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"S%d": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/S%d"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/S%d"}}, "name": {"type": "string"}}}`, i, (i+1)%n, (i+7)%n)
	}
	b.WriteString("}}}")
	return b.String()
}

func TestValidateDenseDocument(t *testing.T) {
	start := time.Now()
	doc, err := Parse(context.Background(), []byte(denseDocument(1000, 300)), Options{Location: "dense.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Operations) != 300 {
		t.Fatalf("%d operations", len(doc.Operations))
	}
	// The $refs are restored after validation: the schemas are expanded.
	s := doc.Operations[0].Responses[0].Content[0].Schema
	if s.Ref != "S0" || property(t, s, "next").Schema.Ref != "S1" || len(property(t, s, "next").Schema.Properties) != 3 {
		t.Fatalf("S0 = %+v", s)
	}
	// Generous: a regression to the library's own validation takes minutes.
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("Parse took %v", d)
	}
}
