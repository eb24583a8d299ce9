package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	yaml "github.com/oasdiff/yaml3"
)

// kin-openapi decodes each object of a document by decoding the object's
// whole text again, for each object that encloses it: its time grows with
// the document's size times its nesting. A 60 KB document of 3,000 nested
// arrays, or 7 MB of properties under 50 nested arrays, take it tens of
// seconds. Real documents nest a few dozen levels and mostly much less, so
// a document is refused before the library sees it when it nests deeper than
// maxNesting, or when its bytes weighted by their depth (the work of that
// decoding, roughly) exceed maxWeight: 10 MiB at an average depth of 25.
const (
	maxNesting = 100
	maxWeight  = 256 << 20
)

// shape is how a document nests.
type shape struct {
	depth  int   // the deepest nesting of objects and arrays
	weight int64 // the sum over the document's bytes of their depth
}

func (s shape) check() error {
	if s.depth > maxNesting {
		return fmt.Errorf("the document nests %d levels deep; Portico reads at most %d", s.depth, maxNesting)
	}
	if s.weight > maxWeight {
		return fmt.Errorf("the document is too large for how deeply it nests; move deeply nested schemas to components and refer to them with $ref, or split the document")
	}
	return nil
}

// jsonShape measures a valid JSON document.
func jsonShape(data []byte) shape {
	var s shape
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			if escaped {
				escaped = false
			} else if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			s.depth = max(s.depth, depth)
		case c == '}' || c == ']':
			depth--
		}
		s.weight += int64(depth)
	}
	return s
}

// yamlShape measures a YAML document as the library will see it: aliases
// expanded, as JSON.
func yamlShape(doc *yaml.Node) shape {
	m := yamlMeasure{memo: make(map[*yaml.Node]yamlSize)}
	sz := m.node(doc)
	return shape{depth: sz.depth, weight: sz.weight}
}

// yamlSize describes the subtree of a node: its nesting, its size as JSON
// text, and its weight relative to the node (what weight it would have at
// depth 0).
type yamlSize struct {
	depth  int
	size   int64
	weight int64
}

type yamlMeasure struct {
	memo map[*yaml.Node]yamlSize // aliases are measured once, however often used
}

func (m *yamlMeasure) node(n *yaml.Node) yamlSize {
	if n == nil {
		return yamlSize{}
	}
	if sz, ok := m.memo[n]; ok {
		return sz
	}
	m.memo[n] = yamlSize{} // an alias cycle, which the parser refuses anyway, ends here
	var sz yamlSize
	switch n.Kind {
	case yaml.AliasNode:
		sz = m.node(n.Alias)
	case yaml.DocumentNode:
		for _, c := range n.Content {
			sz = m.node(c)
		}
	case yaml.ScalarNode:
		sz.size = int64(len(n.Value)) + 4 // quotes, colon or comma, space
	case yaml.MappingNode, yaml.SequenceNode:
		for _, c := range n.Content {
			csz := m.node(c)
			sz.depth = max(sz.depth, csz.depth)
			sz.size = saturate(sz.size + csz.size)
			// One level deeper here than in c: every byte of c weighs one more.
			sz.weight = saturate(sz.weight + csz.weight + csz.size)
		}
		sz.depth++
		sz.size += 2
	}
	m.memo[n] = sz
	return sz
}

// saturate keeps a sum of an alias-expanded document from overflowing: an
// alias bomb is far past any limit long before.
func saturate(n int64) int64 {
	if n < 0 || n > 1<<60 {
		return 1 << 60
	}
	return n
}

// fileShape measures a file named by a $ref, which readHeader does not see.
// A file that does not parse has no shape: the library says what is wrong.
func fileShape(data []byte) shape {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' && json.Valid(data) {
		return jsonShape(data)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return shape{}
	}
	return yamlShape(&doc)
}
