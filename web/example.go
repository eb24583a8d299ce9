package web

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// maxExampleDepth bounds how deep a generated example goes.
const maxExampleDepth = 8

// direction says which properties belong in a generated example: a
// request leaves out read-only ones, a response write-only ones.
type direction int

const (
	forRequest direction = iota
	forResponse
)

// prettyJSON indents JSON text; anything else is returned unchanged.
func prettyJSON(text string) string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(strings.TrimSpace(text)), "", "  ") != nil {
		return text
	}
	return buf.String()
}

// exampleFromSchema builds an example JSON value from a schema: its own
// example, default or first allowed value where it has one, otherwise a
// placeholder of the right type, with properties in the schema's order.
func exampleFromSchema(s *portal.Schema, dir direction) (string, bool) {
	v, ok := exampleValue(s, dir, 0)
	if !ok {
		return "", false
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", false
	}
	return string(b), true
}

func exampleValue(s *portal.Schema, dir direction, depth int) (any, bool) {
	if s == nil || s.Recursive || depth > maxExampleDepth {
		return nil, false
	}
	for _, text := range []string{s.Example, s.Default, first(s.Enum)} {
		if text != "" && json.Valid([]byte(text)) {
			return json.RawMessage(text), true
		}
	}
	switch {
	case len(s.AllOf) > 0 || len(s.Properties) > 0:
		obj := orderedObject{}
		for _, part := range s.AllOf {
			if v, ok := exampleValue(part, dir, depth+1); ok {
				if po, ok := v.(orderedObject); ok {
					obj = append(obj, po...)
				}
			}
		}
		for _, p := range s.Properties {
			if p.Schema != nil && ((dir == forRequest && p.Schema.ReadOnly) || (dir == forResponse && p.Schema.WriteOnly)) {
				continue
			}
			if v, ok := exampleValue(p.Schema, dir, depth+1); ok {
				obj = append(obj, member{p.Name, v})
			} else if p.Schema == nil {
				obj = append(obj, member{p.Name, nil})
			}
		}
		return obj, true
	case len(s.OneOf) > 0:
		return exampleValue(s.OneOf[0], dir, depth+1)
	case len(s.AnyOf) > 0:
		return exampleValue(s.AnyOf[0], dir, depth+1)
	case isArray(s):
		if v, ok := exampleValue(s.Items, dir, depth+1); ok {
			return []any{v}, true
		}
		return []any{}, true
	case isMap(s):
		if v, ok := exampleValue(s.AdditionalProperties, dir, depth+1); ok {
			return orderedObject{{"key", v}}, true
		}
		return orderedObject{}, true
	case s.Type == "object":
		return orderedObject{}, true
	case s.Type == "string":
		return stringExample(s), true
	case s.Type == "integer":
		if s.Minimum != nil {
			return int64(math.Ceil(*s.Minimum)), true
		}
		return 0, true
	case s.Type == "number":
		if s.Minimum != nil {
			return *s.Minimum, true
		}
		return 0, true
	case s.Type == "boolean":
		return true, true
	}
	return nil, true
}

func stringExample(s *portal.Schema) string {
	switch s.Format {
	case "date-time":
		return "2025-01-31T09:30:00Z"
	case "date":
		return "2025-01-31"
	case "time":
		return "09:30:00"
	case "email":
		return "user@example.com"
	case "uuid":
		return "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	case "uri", "url":
		return "https://example.com/"
	case "hostname":
		return "example.com"
	case "ipv4":
		return "192.0.2.1"
	case "ipv6":
		return "2001:db8::1"
	case "byte":
		return "ZXhhbXBsZQ=="
	}
	return "string"
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// orderedObject is a JSON object that keeps its members' order, as the
// schema lists them.
type orderedObject []member

type member struct {
	name  string
	value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
