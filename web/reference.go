package web

import (
	"strconv"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// operationView builds an operation's reference page, everything but the
// shell.
func (s *Server) operationView(api *portal.API, op *portal.Operation, access views.Access) views.OperationView {
	base := s.apiBaseURL(api)
	trees := &schemaTrees{}
	blocks := 0
	codeID := func() string {
		blocks++
		return "code-" + strconv.Itoa(blocks)
	}
	v := views.OperationView{
		Trail: []components.Link{
			{Label: "APIs", URL: catalogueURL("", "", 1)},
			{Label: api.Title(), URL: apiURL(api.Name)},
		},
		APITitle:    api.Title(),
		APIURL:      apiURL(api.Name),
		Title:       op.Title(),
		Method:      op.Method,
		URL:         base + op.Path,
		Description: op.Description,
		Deprecated:  op.Deprecated,
		Tags:        tagChips(op.Tags, ""),
		Access:      access,
		Parameters:  parameterRows(op.Parameters),
		Curl: components.CodeBlock{
			ID:       "curl-example",
			Caption:  "curl",
			Language: "shell",
			Code:     curlExample(base, api, op, access.Open),
			TestID:   "curl-example",
		},
	}
	if rb := op.RequestBody; rb != nil {
		v.RequestBody = &views.BodyView{
			Description: rb.Description,
			Required:    rb.Required,
			Content:     mediaTypes(rb.Content, trees, codeID, forRequest),
		}
	}
	for _, r := range op.Responses {
		v.Responses = append(v.Responses, views.ResponseView{
			Status:      r.Status,
			Tone:        statusTone(r.Status),
			Description: r.Description,
			Headers:     parameterRows(r.Headers),
			Content:     mediaTypes(r.Content, trees, codeID, forResponse),
		})
	}
	for i := range api.Operations {
		v.Siblings = append(v.Siblings, operationLink(api.Name, &api.Operations[i], op.ID))
	}
	return v
}

// parameterRows lists parameters (or response headers) for a table.
func parameterRows(ps []portal.Parameter) []views.ParameterRow {
	rows := make([]views.ParameterRow, 0, len(ps))
	for _, p := range ps {
		row := views.ParameterRow{
			Name:        p.Name,
			In:          p.In,
			Required:    p.Required,
			Deprecated:  p.Deprecated,
			Type:        paramTypeLabel(p.Schema),
			Description: p.Description,
		}
		if row.Description == "" && p.Schema != nil {
			row.Description = p.Schema.Description
		}
		if value, ok := parameterValue(p); ok {
			row.Example = value
		}
		rows = append(rows, row)
	}
	return rows
}

// mediaTypes shows each representation of a body with its schema tree and
// an example: the document's own, or one built from the schema for JSON.
func mediaTypes(mts []portal.MediaType, trees *schemaTrees, codeID func() string, dir direction) []views.MediaTypeView {
	out := make([]views.MediaTypeView, 0, len(mts))
	for _, mt := range mts {
		mv := views.MediaTypeView{Type: mt.Type, Schema: trees.tree(mt.Schema)}
		caption, code := "Example", ""
		switch {
		case mt.Example != "":
			code = mt.Example
			if isJSON(mt.Type) {
				code = prettyJSON(code)
			}
		case isJSON(mt.Type):
			if ex, ok := exampleFromSchema(mt.Schema, dir); ok {
				caption, code = "Example (built from the schema)", ex
			}
		}
		if code != "" {
			mv.Example = &components.CodeBlock{ID: codeID(), Caption: caption, Language: languageOf(mt.Type), Code: code}
		}
		out = append(out, mv)
	}
	return out
}

func languageOf(mediaType string) string {
	if isJSON(mediaType) {
		return "json"
	}
	return "text"
}

// statusTone colours a response status by its class; the status code
// itself is always shown as text.
func statusTone(status string) components.Tone {
	if n, err := strconv.Atoi(status); err == nil {
		status = strconv.Itoa(n / 100)
	}
	if status == "" {
		return components.ToneNeutral
	}
	switch status[:1] {
	case "2":
		return components.ToneSuccess
	case "3":
		return components.ToneInfo
	case "4":
		return components.ToneWarning
	case "5":
		return components.ToneDanger
	}
	return components.ToneNeutral
}
