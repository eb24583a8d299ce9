package openapi

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/porticoapi/portico/portal"
)

// methods are the HTTP methods the gateway routes, in the order operations
// of one path are listed.
var methods = []struct {
	name string
	op   func(*openapi3.PathItem) *openapi3.Operation
}{
	{"GET", func(p *openapi3.PathItem) *openapi3.Operation { return p.Get }},
	{"PUT", func(p *openapi3.PathItem) *openapi3.Operation { return p.Put }},
	{"POST", func(p *openapi3.PathItem) *openapi3.Operation { return p.Post }},
	{"DELETE", func(p *openapi3.PathItem) *openapi3.Operation { return p.Delete }},
	{"OPTIONS", func(p *openapi3.PathItem) *openapi3.Operation { return p.Options }},
	{"HEAD", func(p *openapi3.PathItem) *openapi3.Operation { return p.Head }},
	{"PATCH", func(p *openapi3.PathItem) *openapi3.Operation { return p.Patch }},
	{"TRACE", func(p *openapi3.PathItem) *openapi3.Operation { return p.Trace }},
}

// orderedPaths returns the document's paths in the order written (as read
// by readHeader), then any the header did not see, sorted.
func orderedPaths(paths *openapi3.Paths, written []string) []string {
	m := paths.Map()
	out := make([]string, 0, len(m))
	seen := make(map[string]bool, len(m))
	for _, p := range written {
		if _, ok := m[p]; ok && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	var rest []string
	for p := range m {
		if !seen[p] {
			rest = append(rest, p)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

type source struct {
	path   string
	method string
	item   *openapi3.PathItem
	op     *openapi3.Operation
}

// operations converts the document's operations, refusing it when they
// expand to more than limit nodes (maxNodes, except in tests).
func operations(t *openapi3.T, written []string, limit int) ([]portal.Operation, error) {
	var srcs []source
	for _, p := range orderedPaths(t.Paths, written) {
		item := t.Paths.Value(p)
		if item == nil {
			continue
		}
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("path %q must start with '/'", p)
		}
		// Importing the rest of the document without these would be a
		// partial import, so they are refused instead.
		if item.Connect != nil {
			return nil, unsupportedMethod("CONNECT", p)
		}
		if item.Query != nil {
			return nil, unsupportedMethod("QUERY", p)
		}
		if len(item.AdditionalOperations) > 0 {
			names := make([]string, 0, len(item.AdditionalOperations))
			for m := range item.AdditionalOperations {
				names = append(names, m)
			}
			slices.Sort(names)
			return nil, unsupportedMethod(names[0], p)
		}
		for _, m := range methods {
			if op := m.op(item); op != nil {
				srcs = append(srcs, source{path: p, method: m.name, item: item, op: op})
			}
		}
	}

	c := newConverter(len(srcs), limit)
	ids := operationIDs(srcs)
	ops := make([]portal.Operation, len(srcs))
	for i, s := range srcs {
		c.startOperation()
		ops[i] = portal.Operation{
			ID:          ids[i],
			Method:      s.method,
			Path:        s.path,
			Summary:     s.op.Summary,
			Description: s.op.Description,
			Tags:        slices.Clone(s.op.Tags),
			Deprecated:  s.op.Deprecated,
			Parameters:  c.parameters(mergeParameters(s.item.Parameters, s.op.Parameters)),
			RequestBody: c.requestBody(s.op.RequestBody),
			Responses:   c.responses(s.op.Responses),
		}
		c.fillSchemas()
		if c.tooLarge() {
			return nil, fmt.Errorf("the document is too large to import: its operations expand to more than %d parameters, bodies and schema nodes (operation %s %s)", limit, s.method, s.path)
		}
	}
	return ops, nil
}

func unsupportedMethod(method, path string) error {
	return fmt.Errorf("operation %s %s: Portico's gateway routes only GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH and TRACE", method, path)
}

// operationIDs gives each operation its operationId when that is a valid
// portal name, and otherwise a slug of its method and path. The valid
// operationIds are reserved first, so that a derived slug never takes the
// name an author chose for a later operation.
func operationIDs(srcs []source) []string {
	ids := make([]string, len(srcs))
	taken := make(map[string]bool, len(srcs))
	for i, s := range srcs {
		if id := s.op.OperationID; portal.ValidName(id) && !taken[id] {
			ids[i] = id
			taken[id] = true
		}
	}
	for i, s := range srcs {
		if ids[i] != "" {
			continue
		}
		base := slug(s.method, s.path)
		id := base
		for n := 2; taken[id]; n++ {
			suffix := "-" + strconv.Itoa(n)
			id = strings.TrimRight(truncate(base, portal.MaxNameLength-len(suffix)), "-") + suffix
		}
		ids[i] = id
		taken[id] = true
	}
	return ids
}

// slug turns "GET", "/users/{id}" into "get-users-id": lower-case ASCII
// letters and digits, every other run of characters a single '-'.
func slug(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	dash := true
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			if dash {
				b.WriteByte('-')
				dash = false
			}
			b.WriteByte(c)
		default:
			dash = true
		}
	}
	return strings.TrimRight(truncate(b.String(), portal.MaxNameLength), "-")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// mergeParameters applies the operation's parameters over the path item's:
// one with the same name and location replaces the path-level one in its
// place, the others follow in the order written.
func mergeParameters(pathLevel, opLevel openapi3.Parameters) []*openapi3.Parameter {
	key := func(p *openapi3.Parameter) string { return p.In + "\x00" + p.Name }
	var out []*openapi3.Parameter
	index := make(map[string]int)
	for _, ref := range pathLevel {
		if ref == nil || ref.Value == nil {
			continue
		}
		k := key(ref.Value)
		if i, ok := index[k]; ok {
			out[i] = ref.Value
			continue
		}
		index[k] = len(out)
		out = append(out, ref.Value)
	}
	for _, ref := range opLevel {
		if ref == nil || ref.Value == nil {
			continue
		}
		k := key(ref.Value)
		if i, ok := index[k]; ok {
			out[i] = ref.Value
			continue
		}
		index[k] = len(out)
		out = append(out, ref.Value)
	}
	return out
}

func (c *converter) parameters(ps []*openapi3.Parameter) []portal.Parameter {
	if len(ps) == 0 {
		return nil
	}
	out := make([]portal.Parameter, 0, len(ps))
	for _, p := range ps {
		if c.tooLarge() {
			break // operations reports it
		}
		c.spend(1)
		out = append(out, c.parameter(p.Name, p.In, p))
	}
	return out
}

// parameter converts a parameter or, with in "header", a response header.
func (c *converter) parameter(name, in string, p *openapi3.Parameter) portal.Parameter {
	out := portal.Parameter{
		Name:        name,
		In:          in,
		Description: p.Description,
		Required:    p.Required,
		Deprecated:  p.Deprecated,
	}
	schema := p.Schema
	if schema == nil {
		// A parameter described by content has exactly one media type.
		for _, mt := range sortedContent(p.Content) {
			if mt.value != nil && mt.value.Schema != nil {
				schema = mt.value.Schema
				break
			}
		}
	}
	out.Schema = c.rootSchema(schema)
	out.Example = c.parameterExample(p, schema)
	return out
}

func (c *converter) requestBody(ref *openapi3.RequestBodyRef) *portal.RequestBody {
	if ref == nil || ref.Value == nil {
		return nil
	}
	c.spend(1)
	return &portal.RequestBody{
		Description: ref.Value.Description,
		Required:    ref.Value.Required,
		Content:     c.content(ref.Value.Content),
	}
}

// responses lists responses by status as written: "200" < "201" < "4XX",
// and "default" last.
func (c *converter) responses(rs *openapi3.Responses) []portal.Response {
	m := rs.Map()
	if len(m) == 0 {
		return nil
	}
	statuses := make([]string, 0, len(m))
	for s := range m {
		statuses = append(statuses, s)
	}
	slices.SortFunc(statuses, func(a, b string) int {
		if (a == "default") != (b == "default") {
			if a == "default" {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	out := make([]portal.Response, 0, len(statuses))
	for _, status := range statuses {
		if c.tooLarge() {
			break
		}
		ref := m[status]
		if ref == nil || ref.Value == nil {
			continue
		}
		c.spend(1)
		r := portal.Response{Status: status, Content: c.content(ref.Value.Content)}
		if ref.Value.Description != nil {
			r.Description = *ref.Value.Description
		}
		r.Headers = c.headers(ref.Value.Headers)
		out = append(out, r)
	}
	return out
}

func (c *converter) headers(hs openapi3.Headers) []portal.Parameter {
	if len(hs) == 0 {
		return nil
	}
	names := make([]string, 0, len(hs))
	for name := range hs {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]portal.Parameter, 0, len(names))
	for _, name := range names {
		if c.tooLarge() {
			break
		}
		ref := hs[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		c.spend(1)
		out = append(out, c.parameter(name, "header", &ref.Value.Parameter))
	}
	return out
}

type namedMediaType struct {
	name  string
	value *openapi3.MediaType
}

// sortedContent lists media types by name: the library keeps them in a map,
// and a stable order keeps re-imports of the same document identical.
func sortedContent(content openapi3.Content) []namedMediaType {
	out := make([]namedMediaType, 0, len(content))
	for name, mt := range content {
		out = append(out, namedMediaType{name, mt})
	}
	slices.SortFunc(out, func(a, b namedMediaType) int { return strings.Compare(a.name, b.name) })
	return out
}

func (c *converter) content(content openapi3.Content) []portal.MediaType {
	if len(content) == 0 {
		return nil
	}
	out := make([]portal.MediaType, 0, len(content))
	for _, mt := range sortedContent(content) {
		if c.tooLarge() {
			break
		}
		c.spend(1)
		m := portal.MediaType{Type: mt.name}
		if mt.value != nil {
			m.Schema = c.rootSchema(mt.value.Schema)
			m.Example = c.mediaTypeExample(mt.name, mt.value)
		}
		out = append(out, m)
	}
	return out
}
