package openapi

import (
	"bytes"
	"encoding/json"
	"math"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/porticoapi/portico/portal"
)

// Limits on what one document may expand to. Shared components make a
// document a graph, and the portal's types are trees, so a small document
// can describe an enormous tree; these keep the tree readable and the
// memory bounded. doc.go states them for users.
const (
	maxSchemaDepth = 12
	// maxNodes caps the parameters, bodies, responses, media types and
	// schema nodes of a whole document; past it the document is refused.
	maxNodes = 300_000
	// Half of maxNodes is shared out among operations as their schema
	// budgets, each between minOpSchemas and maxOpSchemas nodes; past its
	// budget an operation's schemas are abbreviated, not refused.
	minOpSchemas = 16
	maxOpSchemas = 1_000
	// maxExampleBytes drops examples too long to be shown or sent from the
	// test console; a truncated example would be wrong, not just short.
	maxExampleBytes = 64 << 10
)

// converter turns kin-openapi objects into portal ones, counting what it
// makes. It memoizes the JSON text of enums, defaults and examples by the
// object they come from, so that a large value shared through a $ref is
// encoded once however often it is used.
type converter struct {
	used       int // nodes made in the document
	limit      int // nodes the document may make
	opBudget   int // schema nodes each operation may use
	opLeft     int // schema nodes the current operation may still use
	facetsMemo map[*openapi3.Schema]*facets
	textMemo   map[textKey]string

	// queue holds the current operation's schemas made but not yet filled
	// in. They are filled breadth first, across all of the operation's
	// parameters, bodies and responses, so that when the budget runs out it
	// is the deepest levels that are abbreviated, not the last properties.
	queue []pending
}

// pending is a schema to fill in: out, made from ref at depth below its
// root, enclosed by the schemas in up.
type pending struct {
	ref   *openapi3.SchemaRef
	out   *portal.Schema
	depth int
	up    *ancestry
}

// ancestry lists the schemas enclosing one, innermost first, to cut
// recursion. Its length is at most maxSchemaDepth.
type ancestry struct {
	schema *openapi3.Schema
	up     *ancestry
}

type facets struct {
	enum     []string
	def      string
	example  any // the raw example, formatted per media type by callers
	exampleJ string
}

type textKey struct {
	from any // a pointer to the object the value belongs to
	json bool
}

func newConverter(operations, limit int) *converter {
	budget := maxOpSchemas
	if operations > 0 {
		budget = min(maxOpSchemas, max(minOpSchemas, limit/2/operations))
	}
	return &converter{
		limit:      limit,
		opBudget:   budget,
		facetsMemo: make(map[*openapi3.Schema]*facets),
		textMemo:   make(map[textKey]string),
	}
}

func (c *converter) startOperation() { c.opLeft = c.opBudget }

func (c *converter) spend(n int) { c.used += n }

func (c *converter) tooLarge() bool { return c.used > c.limit }

// rootSchema makes the schema of a parameter, header or media type, to be
// filled in by fill.
func (c *converter) rootSchema(ref *openapi3.SchemaRef) *portal.Schema {
	if c.tooLarge() {
		return nil
	}
	c.opLeft--
	return c.schema(ref, 0, nil)
}

// schema makes the schema for ref, at the given depth below its root, and
// queues it to be filled in. The node has been paid for from the
// operation's budget by its parent: a node pays for all its children before
// it expands them, so an operation never makes more schema nodes than its
// budget (plus one per root), however wide its schemas are.
func (c *converter) schema(ref *openapi3.SchemaRef, depth int, up *ancestry) *portal.Schema {
	if ref == nil || ref.Value == nil {
		return nil
	}
	c.spend(1)
	out := &portal.Schema{}
	c.queue = append(c.queue, pending{ref: ref, out: out, depth: depth, up: up})
	return out
}

// fillSchemas fills in the queued schemas, breadth first, including the
// children that filling them queues.
func (c *converter) fillSchemas() {
	for i := 0; i < len(c.queue); i++ {
		c.fill(c.queue[i])
	}
	clear(c.queue)
	c.queue = c.queue[:0]
}

func (c *converter) fill(p pending) {
	s := p.ref.Value
	name := refName(p.ref.Ref)
	for a := p.up; a != nil; a = a.up {
		if a.schema == s {
			*p.out = portal.Schema{Ref: name, Recursive: true}
			return
		}
	}
	types, nullable := schemaTypes(s)
	width := children(s, types)
	if width > 0 && (p.depth >= maxSchemaDepth || width > c.opLeft || c.tooLarge()) {
		// Abbreviated: enough to say what is there, without its members.
		*p.out = portal.Schema{Ref: name, Format: s.Format, Title: s.Title, Description: s.Description, Nullable: nullable}
		if len(types) == 1 {
			p.out.Type = types[0]
		}
		return
	}
	c.opLeft -= width
	up := &ancestry{schema: s, up: p.up}
	depth := p.depth + 1
	f := c.facets(s)
	out := portal.Schema{
		Ref:         name,
		Format:      s.Format,
		Title:       s.Title,
		Description: s.Description,
		Nullable:    nullable,
		ReadOnly:    s.ReadOnly,
		WriteOnly:   s.WriteOnly,
		Deprecated:  s.Deprecated,
		Enum:        f.enum,
		Default:     f.def,
		Example:     f.exampleJ,
		Pattern:     s.Pattern,
		Minimum:     bound(s.Min, s.ExclusiveMin),
		Maximum:     bound(s.Max, s.ExclusiveMax),
		MinLength:   intPtr(s.MinLength),
		MaxLength:   uintPtr(s.MaxLength),
		MinItems:    intPtr(s.MinItems),
		MaxItems:    uintPtr(s.MaxItems),
	}
	switch {
	case len(types) == 1:
		out.Type = types[0]
	case len(types) > 1 && len(s.AnyOf) == 0:
		// OpenAPI 3.1 type: [string, integer] reads as "any of these".
		for _, t := range types {
			c.spend(1)
			out.AnyOf = append(out.AnyOf, &portal.Schema{Type: t})
		}
	}

	if len(s.Properties) > 0 {
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		out.Properties = make([]portal.Property, 0, len(names))
		for _, n := range names {
			out.Properties = append(out.Properties, portal.Property{
				Name:     n,
				Required: slices.Contains(s.Required, n),
				Schema:   c.schema(s.Properties[n], depth, up),
			})
		}
	}
	if ap := s.AdditionalProperties; ap.Schema != nil {
		out.AdditionalProperties = c.schema(ap.Schema, depth, up)
	} else if ap.Has != nil && *ap.Has {
		// additionalProperties: true allows values of any schema.
		c.spend(1)
		out.AdditionalProperties = &portal.Schema{}
	}
	out.Items = c.schema(s.Items, depth, up)
	out.AllOf = c.schemas(s.AllOf, depth, up)
	out.OneOf = c.schemas(s.OneOf, depth, up)
	out.AnyOf = append(out.AnyOf, c.schemas(s.AnyOf, depth, up)...)
	*p.out = out
}

func (c *converter) schemas(refs openapi3.SchemaRefs, depth int, up *ancestry) []*portal.Schema {
	if len(refs) == 0 {
		return nil
	}
	out := make([]*portal.Schema, 0, len(refs))
	for _, r := range refs {
		if s := c.schema(r, depth, up); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// children counts the schema nodes that expanding s makes below it.
func children(s *openapi3.Schema, types []string) int {
	n := len(s.Properties) + len(s.AllOf) + len(s.OneOf) + len(s.AnyOf)
	if s.Items != nil {
		n++
	}
	if ap := s.AdditionalProperties; ap.Schema != nil || ap.Has != nil && *ap.Has {
		n++
	}
	if len(types) > 1 && len(s.AnyOf) == 0 {
		n += len(types)
	}
	return n
}

// facets returns the JSON text of a schema's enum, default and example,
// encoded once per schema.
func (c *converter) facets(s *openapi3.Schema) *facets {
	if f, ok := c.facetsMemo[s]; ok {
		return f
	}
	f := &facets{}
	values := s.Enum
	if len(values) == 0 && s.Const != nil {
		values = []any{s.Const} // OpenAPI 3.1
	}
	if len(values) > 0 {
		f.enum = make([]string, 0, len(values))
		for _, v := range values {
			f.enum = append(f.enum, jsonText(v))
		}
	}
	if s.Default != nil {
		f.def = jsonText(s.Default)
	}
	f.example = s.Example
	if f.example == nil && len(s.Examples) > 0 {
		f.example = s.Examples[0] // OpenAPI 3.1 examples array
	}
	f.exampleJ = exampleText(f.example, true)
	c.facetsMemo[s] = f
	return f
}

// mediaTypeExample takes the media type's example, else its first named
// example (by name: the library does not keep their order), else its
// schema's.
func (c *converter) mediaTypeExample(name string, mt *openapi3.MediaType) string {
	asJSON := isJSONMediaType(name)
	key := textKey{mt, asJSON}
	if s, ok := c.textMemo[key]; ok {
		return s
	}
	v := mt.Example
	if v == nil {
		v = firstExample(mt.Examples)
	}
	if v == nil && mt.Schema != nil && mt.Schema.Value != nil {
		v = c.facets(mt.Schema.Value).example
	}
	s := exampleText(v, asJSON)
	c.textMemo[key] = s
	return s
}

// parameterExample is like mediaTypeExample for a parameter or header; its
// example is always JSON text.
func (c *converter) parameterExample(p *openapi3.Parameter, schema *openapi3.SchemaRef) string {
	key := textKey{p, true}
	if s, ok := c.textMemo[key]; ok {
		return s
	}
	v := p.Example
	if v == nil {
		v = firstExample(p.Examples)
	}
	if v == nil {
		for _, mt := range sortedContent(p.Content) {
			if mt.value != nil {
				if v = mt.value.Example; v == nil {
					v = firstExample(mt.value.Examples)
				}
				break
			}
		}
	}
	if v == nil && schema != nil && schema.Value != nil {
		v = c.facets(schema.Value).example
	}
	s := exampleText(v, true)
	c.textMemo[key] = s
	return s
}

func firstExample(examples openapi3.Examples) any {
	names := make([]string, 0, len(examples))
	for n := range examples {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if ref := examples[n]; ref != nil && ref.Value != nil && ref.Value.Value != nil {
			return ref.Value.Value
		}
	}
	return nil
}

// exampleText is v as compact JSON, or for a non-JSON media type a string
// example as written. Too long, or not encodable, it is left out.
func exampleText(v any, asJSON bool) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok && !asJSON {
		if len(s) > maxExampleBytes {
			return ""
		}
		return s
	}
	s := jsonText(v)
	if len(s) > maxExampleBytes {
		return ""
	}
	return s
}

// jsonText encodes v compactly, leaving <, > and & as they are: the text is
// shown to people, and templates escape it for HTML.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// isJSONMediaType reports whether examples of this media type are JSON:
// application/json, text/json and any +json type such as
// application/problem+json.
func isJSONMediaType(name string) bool {
	t, _, err := mime.ParseMediaType(name)
	if err != nil {
		t = strings.ToLower(strings.TrimSpace(name))
	}
	_, sub, _ := strings.Cut(t, "/")
	return sub == "json" || strings.HasSuffix(sub, "+json")
}

// schemaTypes returns the schema's types without "null", and whether null
// is allowed (OpenAPI 3.0 nullable, or "null" in an OpenAPI 3.1 type array).
func schemaTypes(s *openapi3.Schema) ([]string, bool) {
	nullable := s.Nullable
	var types []string
	for _, t := range s.Type.Slice() {
		if t == openapi3.TypeNull {
			nullable = true
		} else {
			types = append(types, t)
		}
	}
	return types, nullable
}

// refName is the name a $ref gives to what it points to: the component
// name of "#/components/schemas/Pet" (and of a swagger "#/definitions/Pet",
// which the conversion rewrote), the last segment of any other fragment, or
// the file name without extension of a $ref to a whole file.
func refName(ref string) string {
	if ref == "" {
		return ""
	}
	file, fragment, _ := strings.Cut(ref, "#")
	if fragment != "" {
		seg := fragment[strings.LastIndexByte(fragment, '/')+1:]
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		return strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
	}
	base := path.Base(file)
	return strings.TrimSuffix(base, path.Ext(base))
}

// bound is the schema's minimum or maximum. OpenAPI 3.1 writes an exclusive
// bound as exclusiveMinimum: 5 instead of minimum: 5 with a flag; the
// portal's Schema has no exclusive flag, so either way the bound's value is
// kept and its exclusiveness is lost.
func bound(v *float64, exclusive openapi3.ExclusiveBound) *float64 {
	if v != nil {
		f := *v
		return &f
	}
	if exclusive.Value != nil {
		f := *exclusive.Value
		return &f
	}
	return nil
}

func intPtr(v uint64) *int {
	if v == 0 {
		return nil
	}
	return uintPtr(&v)
}

func uintPtr(v *uint64) *int {
	if v == nil {
		return nil
	}
	n := math.MaxInt
	if *v < uint64(math.MaxInt) {
		n = int(*v)
	}
	return &n
}
