package web

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// keyPlaceholder stands for the caller's subscription key in examples.
const keyPlaceholder = "<your-subscription-key>"

// curlExample is a ready-to-copy curl command for op: the gateway URL with
// the path and required query parameters filled from their examples, the
// subscription key header unless the API is open, required headers, and
// an example body.
func curlExample(baseURL string, api *portal.API, op *portal.Operation, open bool) string {
	path := op.Path
	globs := false
	query := url.Values{}
	var headers [][2]string
	for _, p := range op.Parameters {
		value, known := parameterValue(p)
		switch p.In {
		case "path":
			if known {
				path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(value))
			} else {
				globs = true
			}
		case "query":
			if p.Required {
				if !known {
					value = "{" + p.Name + "}"
					globs = true
				}
				query.Add(p.Name, value)
			}
		case "header":
			if p.Required {
				if !known {
					value = "<" + p.Name + ">"
				}
				headers = append(headers, [2]string{p.Name, value})
			}
		}
	}
	if strings.Contains(path, "{") {
		globs = true
	}
	u := baseURL + path
	if len(query) > 0 {
		// Encode escapes the braces of placeholders; keep them readable.
		u += "?" + strings.NewReplacer("%7B", "{", "%7D", "}").Replace(query.Encode())
	}

	lines := []string{"curl --request " + op.Method}
	if globs {
		// Braces mark values to fill in; without this flag curl would
		// read them as its own URL patterns.
		lines = append(lines, "--globoff")
	}
	lines = append(lines, "--url "+shellQuote(u))
	if !open {
		lines = append(lines, "--header "+shellQuote(api.KeyHeader+": "+keyPlaceholder))
	}
	for _, h := range headers {
		lines = append(lines, "--header "+shellQuote(h[0]+": "+h[1]))
	}
	if ctype, body, ok := requestExample(op); ok {
		lines = append(lines, "--header "+shellQuote("Content-Type: "+ctype))
		lines = append(lines, "--data "+shellQuote(body))
	}
	return strings.Join(lines, " \\\n  ")
}

// parameterValue is the example value of a parameter as text, from the
// parameter's or its schema's example, default or first allowed value.
func parameterValue(p portal.Parameter) (string, bool) {
	candidates := []string{p.Example}
	if s := p.Schema; s != nil {
		candidates = append(candidates, s.Example, s.Default, first(s.Enum))
	}
	for _, c := range candidates {
		if c != "" {
			return jsonText(c), true
		}
	}
	return "", false
}

// jsonText turns JSON text into the plain value a URL or header carries:
// a JSON string loses its quotes, anything else stays as written.
func jsonText(text string) string {
	var s string
	if json.Unmarshal([]byte(text), &s) == nil {
		return s
	}
	return text
}

// requestExample picks the body of the curl example: JSON when the
// operation accepts it, else the first media type with an example.
func requestExample(op *portal.Operation) (ctype, body string, ok bool) {
	if op.RequestBody == nil || len(op.RequestBody.Content) == 0 {
		return "", "", false
	}
	mts := op.RequestBody.Content
	for _, mt := range mts {
		if isJSON(mt.Type) {
			if mt.Example != "" {
				return mt.Type, prettyJSON(mt.Example), true
			}
			if ex, ok := exampleFromSchema(mt.Schema, forRequest); ok {
				return mt.Type, ex, true
			}
		}
	}
	for _, mt := range mts {
		if mt.Example != "" {
			return mt.Type, mt.Example, true
		}
	}
	return "", "", false
}

func isJSON(mediaType string) bool {
	t, _, _ := strings.Cut(mediaType, ";")
	t = strings.TrimSpace(strings.ToLower(t))
	return t == "application/json" || strings.HasSuffix(t, "+json")
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
