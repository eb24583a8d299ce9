package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/yaml"
	"github.com/porticoapi/portico/portal"
)

// Document is an imported API description.
type Document struct {
	Format      string // "openapi 3.0.3", "openapi 3.1.0", "swagger 2.0"
	Title       string
	Description string
	Version     string   // info.version
	Servers     []string // server URLs (swagger: scheme://host/basePath)
	// Operations are in document order: paths in the order written, then
	// methods in a fixed order (GET, PUT, POST, DELETE, OPTIONS, HEAD,
	// PATCH, TRACE).
	Operations []portal.Operation
}

// Options tell Parse where a document came from.
type Options struct {
	Location string // file path or URL, used in error messages
	BaseDir  string // directory against which relative-file $refs resolve; "" refuses external $refs
}

// validationOptions are the checks Parse relaxes; doc.go says why.
var validationOptions = []openapi3.ValidationOption{
	openapi3.DisableExamplesValidation(),
	openapi3.DisableSchemaDefaultsValidation(),
	openapi3.DisableSchemaPatternValidation(),
}

var utf8BOM = []byte("\xef\xbb\xbf")

// Parse imports an OpenAPI 3.x or Swagger 2.0 document written in YAML or
// JSON. It returns the whole document or an EINVALID error whose message
// names opts.Location and the reason; a cancelled ctx returns ctx.Err().
func Parse(ctx context.Context, data []byte, opts Options) (doc *Document, err error) {
	// kin-openapi is a large parser fed with untrusted input; should it ever
	// panic, the document is refused rather than the process taken down.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, invalid(opts.Location, "the OpenAPI library failed on this document (%v)", r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// encoding/json, which the library tries first, does not skip a BOM.
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid(opts.Location, "the document is empty")
	}
	h, err := readHeader(data)
	if err != nil {
		return nil, invalid(opts.Location, "%v", err)
	}
	if err := h.shape.check(); err != nil {
		return nil, invalid(opts.Location, "%v", err)
	}

	refs := &refReader{ctx: ctx, baseDir: opts.BaseDir}
	defer refs.close()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.ReadFromURIFunc = refs.read
	// Relative $refs resolve against the directory of this empty path, "."
	// to refs.read, which looks them up below BaseDir. An empty path, rather
	// than the document's file name, also keeps the library from reading the
	// document again from disk when a $ref into it fails, which would replace
	// its error message (naming the $ref) by a bare "map key not found".
	root := &url.URL{}

	var t *openapi3.T
	var format string
	switch {
	case h.openapi != "" && h.swagger != "":
		return nil, invalid(opts.Location, "the document has both an openapi and a swagger field; keep the one that matches its content")
	case h.openapi != "":
		if !strings.HasPrefix(h.openapi, "3.") {
			return nil, invalid(opts.Location, "OpenAPI version %q is not supported; Portico reads OpenAPI 3.x and Swagger 2.0", h.openapi)
		}
		format = "openapi " + h.openapi
		t, err = loader.LoadFromDataWithPath(data, root)
		if err != nil {
			return nil, libraryError(ctx, opts.Location, h.json, err)
		}
	case h.swagger != "":
		if h.swagger != "2.0" {
			return nil, invalid(opts.Location, "Swagger version %q is not supported; Portico reads Swagger 2.0 and OpenAPI 3.x", h.swagger)
		}
		format = "swagger 2.0"
		var t2 openapi2.T
		if err := decodeSwagger(quoteSwaggerVersion(data, h), &t2); err != nil {
			return nil, libraryError(ctx, opts.Location, h.json, err)
		}
		t, err = openapi2conv.ToV3WithLoader(&t2, loader, root)
		if err != nil {
			return nil, libraryError(ctx, opts.Location, h.json, err)
		}
		if t.Paths == nil {
			// The conversion drops an empty paths object, which OpenAPI
			// 3.0 then misses.
			t.Paths = openapi3.NewPaths()
		}
	default:
		return nil, invalid(opts.Location, "not an OpenAPI document: it has neither an openapi field (OpenAPI 3.x) nor a swagger field (Swagger 2.0)")
	}
	if err := validate(ctx, t); err != nil {
		return nil, libraryError(ctx, opts.Location, h.json, err)
	}

	doc = &Document{Format: format, Servers: servers(t.Servers)}
	if t.Info != nil {
		doc.Title = t.Info.Title
		doc.Description = t.Info.Description
		doc.Version = t.Info.Version
	}
	doc.Operations, err = operations(t, h.paths, maxNodes)
	if err != nil {
		return nil, invalid(opts.Location, "%v", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return doc, nil
}

// decodeSwagger reads a Swagger document the way openapi2 itself does in its
// tests and kin-openapi reads OpenAPI 3: JSON first, then YAML through the
// same converter, without YAML timestamps (a date-shaped key stays a string).
func decodeSwagger(data []byte, t *openapi2.T) error {
	jerr := json.Unmarshal(data, t)
	if jerr == nil {
		return nil
	}
	*t = openapi2.T{}
	if _, yerr := yaml.Unmarshal(data, t, yaml.DecodeOpts{DisableTimestamps: true}); yerr != nil {
		if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
			return jerr
		}
		return yerr
	}
	return nil
}

// servers lists the server URLs with their variables replaced by their
// defaults, so that each is a URL a reader can use.
func servers(ss openapi3.Servers) []string {
	var out []string
	for _, s := range ss {
		if s == nil || s.URL == "" {
			continue
		}
		u := s.URL
		for name, v := range s.Variables {
			if v != nil {
				u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
			}
		}
		out = append(out, u)
	}
	return out
}

func invalid(location, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if location != "" {
		msg = location + ": " + msg
	}
	return portal.Errorf(portal.EINVALID, "%s", msg)
}

// libraryError turns a kin-openapi error into one a user can read, unless
// it only reports that ctx ended.
func libraryError(ctx context.Context, location string, isJSON bool, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return invalid(location, "%s", tidyMessage(strings.TrimSpace(err.Error()), isJSON))
}

// tidyMessage shortens the library's message for a document it could not
// decode. It tries JSON, then YAML, and reports both failures, but only
// the one for the syntax the document is written in says anything; and
// that one carries the prefixes of each decoding layer.
func tidyMessage(msg string, isJSON bool) string {
	const both, yamlPart = "failed to unmarshal data: json error: ", ", yaml error: "
	decoded := false
	if rest, ok := strings.CutPrefix(msg, both); ok {
		if j, y, ok := strings.Cut(rest, yamlPart); ok {
			decoded = true
			if msg = y; isJSON {
				msg = j
			}
		}
	}
	for _, prefix := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		if m, ok := strings.CutPrefix(msg, prefix); ok {
			msg, decoded = m, true
		}
	}
	if decoded {
		return "cannot read the document: " + msg
	}
	return msg
}
