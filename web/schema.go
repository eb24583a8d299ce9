package web

import (
	"strconv"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
)

// maxSchemaDepth bounds how deep a schema tree is drawn; the OpenAPI
// document has the rest.
const maxSchemaDepth = 12

// schemaTrees turns schemas into readable trees for one page. It numbers
// the anchors it hands out, so that every tree on the page has its own and
// a recursive reference links to the right enclosing definition.
type schemaTrees struct {
	prefix string
	next   int
}

// refAnchor records an expanded $ref and the element id placed on it.
type refAnchor struct {
	ref    string
	anchor string
}

// tree converts the root schema of a body.
func (t *schemaTrees) tree(s *portal.Schema) *components.SchemaNode {
	if s == nil {
		return nil
	}
	n := t.node(s, nil, 0)
	return &n
}

func (t *schemaTrees) anchor() string {
	t.next++
	return t.prefix + "schema-" + strconv.Itoa(t.next)
}

// node converts s. enclosing lists the references expanded above it, for
// recursive references to link back to.
func (t *schemaTrees) node(s *portal.Schema, enclosing []refAnchor, depth int) components.SchemaNode {
	if s == nil {
		return components.SchemaNode{Type: "any"}
	}
	if s.Recursive {
		n := components.SchemaNode{Ref: s.Ref, Recursive: true, Type: s.Ref}
		for i := len(enclosing) - 1; i >= 0; i-- {
			if enclosing[i].ref == s.Ref {
				n.RecursiveAnchor = enclosing[i].anchor
				break
			}
		}
		return n
	}
	n := components.SchemaNode{
		Type:        typeLabel(s),
		Format:      s.Format,
		Ref:         s.Ref,
		Description: s.Description,
		Nullable:    s.Nullable,
		ReadOnly:    s.ReadOnly,
		WriteOnly:   s.WriteOnly,
		Deprecated:  s.Deprecated,
		Enum:        s.Enum,
		Facts:       schemaFacts(s, ""),
	}
	if s.Ref == "" {
		n.Title = s.Title
	}
	if isArray(s) || isMap(s) {
		n.Format = "" // the element's format is part of the type label
	}
	if s.Ref != "" {
		a := t.anchor()
		n.Anchors = append(n.Anchors, a)
		enclosing = append(enclosing[:len(enclosing):len(enclosing)], refAnchor{s.Ref, a})
	}
	if depth >= maxSchemaDepth {
		n.Truncated = hasNested(s)
		return n
	}
	switch {
	case isArray(s) && s.Items != nil:
		t.mergeElement(&n, s.Items, "item ", enclosing, depth)
	case isMap(s):
		t.mergeElement(&n, s.AdditionalProperties, "value ", enclosing, depth)
	default:
		for _, p := range s.Properties {
			c := t.node(p.Schema, enclosing, depth+1)
			c.Name, c.Required = p.Name, p.Required
			n.Children = append(n.Children, c)
		}
		if s.AdditionalProperties != nil {
			c := t.node(s.AdditionalProperties, enclosing, depth+1)
			c.Label = "any other property"
			n.Children = append(n.Children, c)
		}
	}
	t.combinators(&n, s, enclosing, depth)
	return n
}

// mergeElement shows an array's items (or a map's values) inside the array
// node itself: the type already says "array of Pet", so the reader sees
// Pet's properties one level down instead of two.
func (t *schemaTrees) mergeElement(n *components.SchemaNode, el *portal.Schema, factPrefix string, enclosing []refAnchor, depth int) {
	e := t.node(el, enclosing, depth+1)
	if e.Recursive {
		n.ElementOf, n.RecursiveAnchor = e.Ref, e.RecursiveAnchor
		return
	}
	n.Anchors = append(n.Anchors, e.Anchors...)
	n.Children = append(n.Children, e.Children...)
	n.Variants = append(n.Variants, e.Variants...)
	if n.Description == "" {
		n.Description = e.Description
	}
	if len(n.Enum) == 0 {
		n.Enum = e.Enum
	}
	for _, f := range schemaFacts(el, factPrefix) {
		n.Facts = append(n.Facts, f)
	}
	n.Truncated = n.Truncated || e.Truncated
}

// combinators adds oneOf and anyOf as alternatives, and merges the
// properties of allOf parts, which is how allOf is mostly used
// (composition); a part that cannot be merged is listed instead.
func (t *schemaTrees) combinators(n *components.SchemaNode, s *portal.Schema, enclosing []refAnchor, depth int) {
	var unmerged []components.SchemaNode
	for _, part := range s.AllOf {
		p := t.node(part, enclosing, depth+1)
		if part != nil && !part.Recursive && (len(part.Properties) > 0 || len(part.AllOf) > 0) {
			n.Anchors = append(n.Anchors, p.Anchors...)
			n.Children = append(n.Children, p.Children...)
			n.Variants = append(n.Variants, p.Variants...)
			if part.Ref != "" {
				n.Facts = append(n.Facts, components.Fact{Label: "includes", Value: part.Ref})
			}
			continue
		}
		unmerged = append(unmerged, optionLabel(p, len(unmerged)+1))
	}
	if len(unmerged) > 0 {
		n.Variants = append(n.Variants, components.SchemaVariant{Label: "All of", Options: unmerged})
	}
	for _, v := range []struct {
		label string
		parts []*portal.Schema
	}{{"One of", s.OneOf}, {"Any of", s.AnyOf}} {
		if len(v.parts) == 0 {
			continue
		}
		variant := components.SchemaVariant{Label: v.label}
		for i, part := range v.parts {
			variant.Options = append(variant.Options, optionLabel(t.node(part, enclosing, depth+1), i+1))
		}
		n.Variants = append(n.Variants, variant)
	}
}

func optionLabel(n components.SchemaNode, i int) components.SchemaNode {
	switch {
	case n.Recursive:
	case n.Ref != "":
		n.Label = n.Ref
	case n.Title != "":
		n.Label = n.Title
	default:
		n.Label = "Option " + strconv.Itoa(i)
	}
	return n
}

func isArray(s *portal.Schema) bool { return s.Type == "array" || (s.Type == "" && s.Items != nil) }

// isMap reports whether s is an object used as a dictionary: no named
// properties, only additionalProperties.
func isMap(s *portal.Schema) bool {
	return (s.Type == "object" || s.Type == "") && len(s.Properties) == 0 && s.AdditionalProperties != nil
}

func hasNested(s *portal.Schema) bool {
	return len(s.Properties) > 0 || s.Items != nil || s.AdditionalProperties != nil ||
		len(s.AllOf) > 0 || len(s.OneOf) > 0 || len(s.AnyOf) > 0
}

// typeLabel names a schema's type the way a reader says it: "string",
// "array of Pet", "map of integer", "one of".
func typeLabel(s *portal.Schema) string {
	switch {
	case s == nil:
		return "any"
	case s.Recursive:
		return s.Ref
	case isArray(s):
		if s.Items == nil {
			return "array"
		}
		return "array of " + elementLabel(s.Items)
	case isMap(s):
		return "map of " + elementLabel(s.AdditionalProperties)
	case s.Type != "":
		return s.Type
	case len(s.Properties) > 0:
		return "object"
	case len(s.OneOf) > 0:
		return "one of"
	case len(s.AnyOf) > 0:
		return "any of"
	case len(s.AllOf) > 0:
		return "object"
	}
	return "any"
}

// elementLabel names an array's or map's element: its $ref name when it has
// one, else its type with the format.
func elementLabel(s *portal.Schema) string {
	if s.Ref != "" {
		return s.Ref
	}
	l := typeLabel(s)
	if s.Format != "" && !isArray(s) && !isMap(s) {
		l += " <" + s.Format + ">"
	}
	return l
}

// paramTypeLabel is a parameter's type with its format: "integer <int64>".
func paramTypeLabel(s *portal.Schema) string {
	if s == nil {
		return "string"
	}
	return elementLabel(s)
}

// schemaFacts lists a schema's constraints, default and example.
func schemaFacts(s *portal.Schema, prefix string) []components.Fact {
	var fs []components.Fact
	add := func(label, value string) {
		fs = append(fs, components.Fact{Label: prefix + label, Value: value})
	}
	if s.Minimum != nil {
		add("minimum", formatFloat(*s.Minimum))
	}
	if s.Maximum != nil {
		add("maximum", formatFloat(*s.Maximum))
	}
	if s.MinLength != nil {
		add("min length", strconv.Itoa(*s.MinLength))
	}
	if s.MaxLength != nil {
		add("max length", strconv.Itoa(*s.MaxLength))
	}
	if s.Pattern != "" {
		add("pattern", s.Pattern)
	}
	if s.MinItems != nil {
		add("min items", strconv.Itoa(*s.MinItems))
	}
	if s.MaxItems != nil {
		add("max items", strconv.Itoa(*s.MaxItems))
	}
	if s.Default != "" {
		add("default", s.Default)
	}
	if s.Example != "" && !hasNested(s) {
		add("example", s.Example)
	}
	return fs
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
