package openapi

import (
	"context"
	"fmt"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// validate runs the library's validation with each schema checked once.
//
// (*openapi3.T).Validate checks every schema again from every place that
// refers to it, following $refs each time: its cost is the number of places
// times the size of the schema graph they reach. On a document of a
// thousand schemas that refer to each other, as large real APIs do, that
// is minutes. So before validating, every $ref to a schema is pointed at an
// empty placeholder; the schemas it pointed to are checked where they are
// defined: in components, as part of the document, and those from other
// files on their own afterwards. Then the $refs are restored.
//
// This is sound only because Parse turns off the checks that need a $ref's
// schema where it is used: examples and defaults against their schema.
// Every other schema check looks at one schema at a time.
func validate(ctx context.Context, t *openapi3.T) error {
	c := refCutter{
		cut:     make(map[*openapi3.SchemaRef]*openapi3.Schema),
		visited: make(map[*openapi3.Schema]bool),
		seen:    make(map[any]bool),
	}
	defer c.restore()
	c.document(t)

	if err := t.Validate(ctx, validationOptions...); err != nil {
		return err
	}

	defined := make(map[*openapi3.Schema]bool)
	if t.Components != nil {
		for _, ref := range t.Components.Schemas {
			if ref != nil && ref.Ref == "" && ref.Value != nil {
				defined[ref.Value] = true
			}
		}
	}
	done := make(map[*openapi3.Schema]bool)
	for _, ref := range c.order {
		s := c.cut[ref]
		if defined[s] || done[s] {
			continue
		}
		done[s] = true
		if err := s.Validate(ctx, validationOptions...); err != nil {
			return fmt.Errorf("invalid schema %s: %w", ref.Ref, err)
		}
	}
	return nil
}

// placeholder stands in for the schema of every $ref while validating: an
// empty schema is valid in every OpenAPI version.
var placeholder = &openapi3.Schema{}

type refCutter struct {
	cut     map[*openapi3.SchemaRef]*openapi3.Schema // $refs pointed at the placeholder, and their schemas
	order   []*openapi3.SchemaRef                    // cut $refs in the order found, for a stable first error
	visited map[*openapi3.Schema]bool
	seen    map[any]bool // parameters, bodies, responses... already walked
}

func (c *refCutter) restore() {
	for ref, s := range c.cut {
		ref.Value = s
	}
}

func (c *refCutter) once(p any) bool {
	if c.seen[p] {
		return false
	}
	c.seen[p] = true
	return true
}

func (c *refCutter) document(t *openapi3.T) {
	if comp := t.Components; comp != nil {
		for _, name := range sortedKeys(comp.Schemas) {
			c.schemaRef(comp.Schemas[name])
		}
		for _, name := range sortedKeys(comp.Parameters) {
			if p := comp.Parameters[name]; p != nil {
				c.parameter(p.Value)
			}
		}
		for _, name := range sortedKeys(comp.Headers) {
			if h := comp.Headers[name]; h != nil && h.Value != nil {
				c.parameter(&h.Value.Parameter)
			}
		}
		for _, name := range sortedKeys(comp.RequestBodies) {
			if b := comp.RequestBodies[name]; b != nil && b.Value != nil {
				c.content(b.Value.Content)
			}
		}
		for _, name := range sortedKeys(comp.Responses) {
			c.response(comp.Responses[name])
		}
		for _, name := range sortedKeys(comp.Callbacks) {
			if cb := comp.Callbacks[name]; cb != nil {
				c.callback(cb.Value)
			}
		}
	}
	for _, p := range t.Paths.Keys() {
		c.pathItem(t.Paths.Value(p))
	}
	for _, name := range sortedKeys(t.Webhooks) {
		c.pathItem(t.Webhooks[name])
	}
}

func (c *refCutter) pathItem(item *openapi3.PathItem) {
	if item == nil || !c.once(item) {
		return
	}
	for _, p := range item.Parameters {
		if p != nil {
			c.parameter(p.Value)
		}
	}
	ops := item.Operations()
	for _, m := range sortedKeys(ops) {
		op := ops[m]
		if op == nil {
			continue
		}
		for _, p := range op.Parameters {
			if p != nil {
				c.parameter(p.Value)
			}
		}
		if b := op.RequestBody; b != nil && b.Value != nil && c.once(b.Value) {
			c.content(b.Value.Content)
		}
		for _, status := range op.Responses.Keys() {
			c.response(op.Responses.Value(status))
		}
		for _, name := range sortedKeys(op.Callbacks) {
			if cb := op.Callbacks[name]; cb != nil {
				c.callback(cb.Value)
			}
		}
	}
}

func (c *refCutter) callback(cb *openapi3.Callback) {
	if cb == nil || !c.once(cb) {
		return
	}
	for _, k := range cb.Keys() {
		c.pathItem(cb.Value(k))
	}
}

func (c *refCutter) response(ref *openapi3.ResponseRef) {
	if ref == nil || ref.Value == nil || !c.once(ref.Value) {
		return
	}
	for _, name := range sortedKeys(ref.Value.Headers) {
		if h := ref.Value.Headers[name]; h != nil && h.Value != nil {
			c.parameter(&h.Value.Parameter)
		}
	}
	c.content(ref.Value.Content)
}

func (c *refCutter) parameter(p *openapi3.Parameter) {
	if p == nil || !c.once(p) {
		return
	}
	c.schemaRef(p.Schema)
	c.content(p.Content)
}

func (c *refCutter) content(content openapi3.Content) {
	for _, name := range sortedKeys(content) {
		mt := content[name]
		if mt == nil || !c.once(mt) {
			continue
		}
		c.schemaRef(mt.Schema)
		c.schemaRef(mt.ItemSchema)
		for _, enc := range mt.Encoding {
			if enc == nil {
				continue
			}
			for _, name := range sortedKeys(enc.Headers) {
				if h := enc.Headers[name]; h != nil && h.Value != nil {
					c.parameter(&h.Value.Parameter)
				}
			}
		}
	}
}

// schemaRef cuts ref when it is a $ref, and walks the schema it leads to.
func (c *refCutter) schemaRef(ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil || ref.Value == placeholder {
		return
	}
	s := ref.Value
	if ref.Ref != "" {
		if _, ok := c.cut[ref]; ok {
			return
		}
		c.cut[ref] = s
		c.order = append(c.order, ref)
		ref.Value = placeholder
	}
	if c.visited[s] {
		return
	}
	c.visited[s] = true
	for _, r := range s.AllOf {
		c.schemaRef(r)
	}
	for _, r := range s.OneOf {
		c.schemaRef(r)
	}
	for _, r := range s.AnyOf {
		c.schemaRef(r)
	}
	for _, r := range s.PrefixItems {
		c.schemaRef(r)
	}
	for _, name := range sortedKeys(s.Properties) {
		c.schemaRef(s.Properties[name])
	}
	for _, name := range sortedKeys(s.PatternProperties) {
		c.schemaRef(s.PatternProperties[name])
	}
	for _, name := range sortedKeys(s.DependentSchemas) {
		c.schemaRef(s.DependentSchemas[name])
	}
	for _, name := range sortedKeys(s.Defs) {
		c.schemaRef(s.Defs[name])
	}
	for _, r := range []*openapi3.SchemaRef{
		s.Not, s.Items, s.AdditionalProperties.Schema, s.Contains, s.PropertyNames,
		s.UnevaluatedItems.Schema, s.UnevaluatedProperties.Schema,
		s.If, s.Then, s.Else, s.ContentSchema,
	} {
		c.schemaRef(r)
	}
}

// sortedKeys lists a map's keys in order, so that the walk, and with it the
// first error reported, is the same on every run.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
