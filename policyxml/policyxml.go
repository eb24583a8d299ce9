package policyxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// Limits of an accepted document. APIM's own limit for a policy document
// is 256 KiB; ours leaves room for pasted certificates (authentication-
// certificate body=).
const (
	MaxSize  = 1 << 20
	MaxDepth = 32
)

// Result is what an APIM policy document converts to.
type Result struct {
	Policies    portal.Policies
	BackendAuth *portal.BackendAuth // nil: the document authenticates to no backend
	// Notes are things that converted but that the user should know, for
	// example that validate-trust needs ca_files from the config file or
	// that forward-request's timeout is the config file's backend.timeout.
	// They are not errors; show them next to the converted policies.
	Notes []Problem
}

// Error lists the problems of a document: every element or attribute that
// could not be converted faithfully, in document order.
type Error struct {
	Problems []Problem
}

// Problem is one element or attribute that could not be converted, or a
// note about one that could.
type Problem struct {
	Line    int    // 1-based line of the element's start tag
	Element string // the element's name, e.g. "set-header"
	Message string
}

// String returns "line N: element: message".
func (p Problem) String() string {
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Element, p.Message)
}

// Error returns one problem a line, "line N: element: message".
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Convert parses an APIM policy document (<policies> with <inbound>,
// <backend>, <outbound> and <on-error>, or a bare <inbound> fragment) and
// returns the Portico policies. Every element or attribute it cannot
// convert faithfully is reported in the returned *Error by element name and
// line, and then the Result is nil: a partly converted set of security
// policies is never returned. See the package documentation for what is
// converted and how.
func Convert(data []byte) (*Result, error) {
	if len(data) > MaxSize {
		return nil, &Error{Problems: []Problem{{Line: 1, Element: "policies", Message: fmt.Sprintf("the document is larger than %d KiB.", MaxSize>>10)}}}
	}
	root, p := parse(data)
	if p != nil {
		return nil, &Error{Problems: []Problem{*p}}
	}
	c := &converter{seen: make(map[string]int)}
	c.document(root)
	if len(c.problems) > 0 {
		sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Line < c.problems[j].Line })
		return nil, &Error{Problems: c.problems}
	}
	sort.SliceStable(c.notes, func(i, j int) bool { return c.notes[i].Line < c.notes[j].Line })
	c.res.Notes = c.notes
	return &c.res, nil
}

// node is an element of the document with the line of its start tag.
type node struct {
	name     string
	line     int
	attrs    []xml.Attr
	children []*node
	text     string // character data directly inside, concatenated
}

// parse reads the document into a tree. The decoder is strict, knows no
// entities beyond XML's five (so nothing is expanded, internal or
// external), has no CharsetReader (so only UTF-8 is read), and any DOCTYPE
// or other declaration is refused before it could matter.
func parse(data []byte) (*node, *Problem) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var (
		root  *node
		stack []*node
		text  []*strings.Builder
	)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Problem{Line: se.Line, Element: "xml", Message: "the document is not well-formed XML: " + se.Msg}
			}
			l, _ := d.InputPos()
			return nil, &Problem{Line: l, Element: "xml", Message: "the document cannot be read: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == MaxDepth {
				return nil, &Problem{Line: line, Element: t.Name.Local, Message: fmt.Sprintf("elements are nested more than %d deep.", MaxDepth)}
			}
			if t.Name.Space != "" {
				return nil, &Problem{Line: line, Element: t.Name.Local, Message: "elements in an XML namespace are not supported."}
			}
			n := &node{name: t.Name.Local, line: line, attrs: t.Copy().Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, &Problem{Line: line, Element: n.name, Message: "only one root element is allowed."}
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
			text = append(text, new(strings.Builder))
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.text = text[len(text)-1].String()
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, &Problem{Line: line, Element: "xml", Message: "text outside the root element."}
				}
				continue
			}
			text[len(text)-1].Write(t)
		case xml.Directive:
			return nil, &Problem{Line: line, Element: "xml", Message: "DOCTYPE and other declarations are not allowed."}
		case xml.Comment, xml.ProcInst:
			// Comments are common in APIM documents; <?xml ...?> is the
			// only processing instruction they hold, and the decoder has
			// already refused any encoding but UTF-8.
		}
	}
	if root == nil {
		return nil, &Problem{Line: 1, Element: "xml", Message: "the document is empty."}
	}
	return root, nil
}

// converter collects the result and the problems of one document.
type converter struct {
	res      Result
	problems []Problem
	notes    []Problem
	seen     map[string]int // policy element name -> line of its first use
	authLine int            // line of the backend authentication policy
}

func (c *converter) problem(n *node, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: n.line, Element: n.name, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) note(n *node, format string, args ...any) {
	c.notes = append(c.notes, Problem{Line: n.line, Element: n.name, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) document(root *node) {
	switch root.name {
	case "policies":
		c.attrs(root, nil, nil)
		c.noText(root)
		sections := make(map[string]int)
		for _, s := range root.children {
			if first, ok := sections[s.name]; ok {
				c.problem(s, "the section appears twice (first at line %d).", first)
				continue
			}
			switch s.name {
			case "inbound", "backend", "outbound", "on-error":
				sections[s.name] = s.line
			}
			switch s.name {
			case "inbound":
				c.inbound(s)
			case "backend":
				c.backend(s)
			case "outbound", "on-error":
				c.unsupportedSection(s)
			default:
				c.problem(s, "not a policy section (inbound, backend, outbound, on-error).")
			}
		}
	case "inbound":
		c.inbound(root)
	default:
		c.problem(root, "the document must be <policies> or <inbound>.")
	}
}

// inbound converts the gateway's checks. Portico runs them in its own fixed
// order (CONTRACT section 5), whatever their order in the document.
func (c *converter) inbound(s *node) {
	c.attrs(s, nil, nil)
	c.noText(s)
	for _, n := range s.children {
		if n.name == "base" {
			c.base(n)
			continue
		}
		switch n.name {
		case "validate-jwt", "ip-filter", "validate-client-certificate", "rate-limit",
			"authentication-basic", "authentication-certificate", "authentication-managed-identity":
			if !c.once(n) {
				continue
			}
		default:
			c.problem(n, "the policy is not supported by Portico.")
			continue
		}
		switch n.name {
		case "validate-jwt":
			c.validateJWT(n)
		case "ip-filter":
			c.ipFilter(n)
		case "validate-client-certificate":
			c.clientCertificate(n)
		case "rate-limit":
			c.rateLimit(n)
		case "authentication-basic", "authentication-certificate", "authentication-managed-identity":
			if c.authLine != 0 {
				c.problem(n, "only one backend authentication policy is supported (the first is at line %d).", c.authLine)
				continue
			}
			c.authLine = n.line
			switch n.name {
			case "authentication-basic":
				c.authBasic(n)
			case "authentication-certificate":
				c.authCertificate(n)
			default:
				c.authManagedIdentity(n)
			}
		}
	}
}

// once reports a second use of the same policy; Portico holds one of each.
func (c *converter) once(n *node) bool {
	if first, ok := c.seen[n.name]; ok {
		c.problem(n, "the policy appears twice (first at line %d); Portico applies one of each.", first)
		return false
	}
	c.seen[n.name] = n.line
	return true
}

func (c *converter) base(n *node) {
	c.attrs(n, nil, nil)
	c.noText(n)
	c.noChildren(n)
}

// backend accepts only forward-request, which is what Portico always does.
// Its timeout is reported as a note: the backend timeout is the config
// file's backend.timeout, per API.
func (c *converter) backend(s *node) {
	c.attrs(s, nil, nil)
	c.noText(s)
	for _, n := range s.children {
		switch n.name {
		case "base":
			c.base(n)
		case "forward-request":
			if !c.once(n) {
				continue
			}
			a := c.attrs(n, []string{"timeout", "follow-redirects"}, map[string]string{
				"buffer-request-body":       "Portico streams request bodies.",
				"buffer-response":           "Portico streams responses.",
				"fail-on-error-status-code": "Portico passes backend error responses through.",
				"http-version":              "Portico chooses the HTTP version with the backend.",
				"timeout-ms":                "set backend.timeout in the config file instead.",
				"continue-timeout":          "Portico does not wait for 100 Continue.",
			})
			c.noText(n)
			if v, ok := a["follow-redirects"]; ok && !strings.EqualFold(strings.TrimSpace(v), "false") {
				c.problem(n, "follow-redirects=%q is not supported: Portico passes redirects back to the caller.", v)
			}
			if v, ok := a["timeout"]; ok {
				v = strings.TrimSpace(v)
				c.note(n, "timeout=%q is not applied from the XML: set backend.timeout (e.g. %ss) in the config file.", v, v)
			}
		default:
			c.problem(n, "not supported in <backend>: Portico only forwards the request.")
		}
	}
}

func (c *converter) unsupportedSection(s *node) {
	c.attrs(s, nil, nil)
	c.noText(s)
	for _, n := range s.children {
		if n.name == "base" {
			c.base(n)
			continue
		}
		c.problem(n, "not supported in <%s>: Portico runs no %s policies.", s.name, s.name)
	}
}

// attrs returns n's attributes by name, untrimmed (a claim separator may
// be a space, a password may end with one). Attributes not in allowed or
// unsupported are reported as unknown, those in unsupported with their
// message, and allowed ones holding a policy expression or a named value
// are reported and left out of the map.
func (c *converter) attrs(n *node, allowed []string, unsupported map[string]string) map[string]string {
	m := make(map[string]string, len(n.attrs))
	for _, a := range n.attrs {
		name := a.Name.Local
		if a.Name.Space != "" {
			c.problem(n, "attribute %s:%s is not supported.", a.Name.Space, name)
			continue
		}
		if msg, ok := unsupported[name]; ok {
			c.problem(n, "attribute %s is not supported: %s", name, msg)
			continue
		}
		known := false
		for _, k := range allowed {
			if k == name {
				known = true
				break
			}
		}
		if !known {
			c.problem(n, "attribute %s is not supported.", name)
			continue
		}
		if !c.literal(n, "attribute "+name, a.Value) {
			continue
		}
		m[name] = a.Value
	}
	return m
}

// literal reports a value that APIM would evaluate: a policy expression
// (a value that starts with @( or @{) or a named value ({{name}}).
// Portico evaluates neither, and passing them through would compare
// against the expression's text.
func (c *converter) literal(n *node, what, v string) bool {
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "@(") || strings.HasPrefix(t, "@{") {
		c.problem(n, "%s is a policy expression, which Portico does not evaluate.", what)
		return false
	}
	if i := strings.Index(t, "{{"); i >= 0 && strings.Contains(t[i:], "}}") {
		c.problem(n, "%s uses a named value, which Portico does not resolve; put the value in the config file (secrets as ${ENV_NAME}).", what)
		return false
	}
	return true
}

// noText reports character data or children where neither is expected.
func (c *converter) noText(n *node) {
	if strings.TrimSpace(n.text) != "" {
		c.problem(n, "unexpected text %q.", short(strings.TrimSpace(n.text)))
	}
}

func (c *converter) noChildren(n *node) {
	for _, ch := range n.children {
		c.problem(ch, "not expected inside <%s>.", n.name)
	}
}

// value returns the trimmed text of a leaf element such as <audience>.
func (c *converter) value(n *node) (string, bool) {
	c.attrs(n, nil, nil)
	c.noChildren(n)
	v := strings.TrimSpace(n.text)
	if v == "" {
		c.problem(n, "a value is required.")
		return "", false
	}
	if !c.literal(n, "the value", v) {
		return "", false
	}
	return v, true
}

func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return s
}
