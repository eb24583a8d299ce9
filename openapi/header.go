package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	yaml "github.com/oasdiff/yaml3"
)

// header is what Parse needs to know before handing a document to
// kin-openapi: which version it claims, and the order in which its paths
// are written, which the library forgets (it keeps paths in a map).
type header struct {
	json    bool   // the document is JSON, not YAML
	shape   shape  // how its objects and arrays nest
	openapi string // the "openapi" field, when present
	swagger string // the "swagger" field, when present
	paths   []string

	// swaggerNumber is where a YAML document wrote swagger: 2.0 without
	// quotes (line and column, from 1), which the library cannot read.
	swaggerNumber [2]int
}

// readHeader reads the top level of a YAML or JSON document. JSON is read
// with encoding/json first, as kin-openapi does, because YAML parsers differ
// from it on corner cases (duplicate keys, escapes).
func readHeader(data []byte) (header, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		h, jerr := readJSONHeader(data)
		if jerr == nil {
			h.json = true
			h.shape = jsonShape(data)
			return h, nil
		}
		// Not valid JSON, but it might still be YAML (a flow mapping); the
		// JSON error is the more useful one for a document that starts
		// with '{'.
		if h, yerr := readYAMLHeader(data); yerr == nil {
			return h, nil
		}
		return header{}, jerr
	}
	return readYAMLHeader(data)
}

func readJSONHeader(data []byte) (header, error) {
	var h header
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) (header, error) {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return header{}, fmt.Errorf("invalid JSON at line %d: %v", lineOf(data, se.Offset), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return header{}, errors.New("invalid JSON: unexpected end of document")
		}
		return header{}, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != nil { // the '{' readHeader saw
		return fail(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		switch key {
		case "openapi", "swagger":
			var v any
			if err := dec.Decode(&v); err != nil {
				return fail(err)
			}
			s, ok := v.(string)
			if !ok {
				return header{}, fmt.Errorf("the %s field must be a string such as %q, not %s", key, exampleVersion(key), compactJSON(v))
			}
			if key == "openapi" {
				h.openapi = s
			} else {
				h.swagger = s
			}
		case "paths":
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fail(err)
			}
			h.paths = jsonKeys(raw)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fail(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return header{}, fmt.Errorf("invalid JSON: unexpected data after the top-level object")
	}
	return h, nil
}

// jsonKeys returns the keys of a JSON object in the order written, or nil
// when raw is not an object (the library explains what is wrong with it).
func jsonKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		if k, ok := tok.(string); ok {
			keys = append(keys, k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

func readYAMLHeader(data []byte) (header, error) {
	var h header
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return header{}, fmt.Errorf("invalid YAML: %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	h.shape = yamlShape(&doc)
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) > 0 {
		top = top.Content[0]
	}
	top = deref(top)
	if top == nil || top.Kind != yaml.MappingNode {
		return header{}, errors.New("not an OpenAPI document: expected a mapping of fields such as openapi, info and paths at the top level")
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], deref(top.Content[i+1])
		if val == nil {
			continue
		}
		switch key.Value {
		case "openapi", "swagger":
			if val.Kind != yaml.ScalarNode {
				return header{}, fmt.Errorf("the %s field must be a string such as %q", key.Value, exampleVersion(key.Value))
			}
			// An unquoted 3.0.3 is a string to YAML, but an unquoted 3.0 or
			// 2.0 is a number, which the library cannot read. "openapi: 3.0"
			// is rare and not a version the specification uses; "swagger:
			// 2.0" is common, and quoteSwaggerVersion quotes it.
			if key.Value == "openapi" {
				if val.Tag != "" && val.Tag != "!!str" {
					return header{}, fmt.Errorf("the openapi field must be a string: write openapi: %q, in quotes", val.Value)
				}
				h.openapi = val.Value
			} else {
				h.swagger = val.Value
				if val.Tag == "!!float" && val.Style == 0 {
					h.swaggerNumber = [2]int{val.Line, val.Column}
				}
			}
		case "paths":
			if val.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				if k := val.Content[j]; k.Kind == yaml.ScalarNode {
					h.paths = append(h.paths, k.Value)
				}
			}
		}
	}
	return h, nil
}

// deref follows a YAML alias. The parser has already refused aliases to
// nodes that are not defined before them, so there is no cycle here.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func exampleVersion(field string) string {
	if field == "swagger" {
		return "2.0"
	}
	return "3.0.3"
}

func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	return bytes.Count(data[:offset], []byte{'\n'}) + 1
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// quoteSwaggerVersion returns data with the unquoted swagger: 2.0 that
// readYAMLHeader found written as swagger: "2.0". openapi2.T decodes
// itself from JSON, so the YAML converter cannot turn the number 2.0 into
// the string the field needs, yet the unquoted form is common in real
// Swagger documents.
func quoteSwaggerVersion(data []byte, h header) []byte {
	line, col := h.swaggerNumber[0], h.swaggerNumber[1]
	if line == 0 {
		return data
	}
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return data
		}
		off += i + 1
	}
	for c := 1; c < col; c++ { // columns count characters, not bytes
		_, size := utf8.DecodeRune(data[off:])
		if size == 0 {
			return data
		}
		off += size
	}
	if !bytes.HasPrefix(data[off:], []byte("2.0")) {
		return data
	}
	out := make([]byte, 0, len(data)+2)
	out = append(out, data[:off]...)
	out = append(out, `"2.0"`...)
	return append(out, data[off+3:]...)
}
