package gateway

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/porticoapi/portico/portal"
)

// operations matches a request to one of an API's operations. Matchers
// are compiled with the snapshot and grouped by method; each group is
// ordered most specific first, so the first match wins.
type operations struct {
	byMethod map[string][]*opMatcher
}

// opMatcher is one operation's path template, split into segments.
type opMatcher struct {
	id    string
	segs  []segment
	order int // position in the spec, to keep ties stable
}

type segmentKind int

// The order is the precedence: a literal segment beats a segment that
// mixes literal text and parameters, which beats a lone parameter.
const (
	segLiteral segmentKind = iota
	segMixed
	segParam
)

type segment struct {
	kind    segmentKind
	literal string // segLiteral: the text; segMixed: the text before the first parameter
	// segMixed: after each parameter, the literal text that follows it ("" for
	// the last parameter when the segment ends with it).
	after []string
}

// compileOperations returns nil for an API without operations.
func compileOperations(ops []portal.Operation) *operations {
	if len(ops) == 0 {
		return nil
	}
	o := &operations{byMethod: map[string][]*opMatcher{}}
	for i := range ops {
		m := &opMatcher{id: ops[i].ID, segs: compileTemplate(ops[i].Path), order: i}
		o.byMethod[ops[i].Method] = append(o.byMethod[ops[i].Method], m)
	}
	for _, ms := range o.byMethod {
		// Only templates with as many segments as the path can match it;
		// among those, the first segment that differs decides.
		slices.SortStableFunc(ms, func(a, b *opMatcher) int {
			if c := cmp.Compare(len(a.segs), len(b.segs)); c != 0 {
				return c
			}
			for i := range a.segs {
				if c := cmp.Compare(a.segs[i].kind, b.segs[i].kind); c != 0 {
					return c
				}
			}
			return cmp.Compare(a.order, b.order)
		})
	}
	return o
}

// compileTemplate splits "/users/{id}/files/{name}.json" into segments. One
// trailing slash is ignored, here and in requests.
func compileTemplate(tmpl string) []segment {
	tmpl = strings.TrimPrefix(tmpl, "/")
	tmpl = strings.TrimSuffix(tmpl, "/")
	if tmpl == "" {
		return nil
	}
	parts := strings.Split(tmpl, "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		segs[i] = compileSegment(p)
	}
	return segs
}

func compileSegment(s string) segment {
	open := strings.IndexByte(s, '{')
	if open < 0 || !wellFormedParams(s) {
		return segment{kind: segLiteral, literal: s}
	}
	if open == 0 && strings.IndexByte(s, '}') == len(s)-1 {
		return segment{kind: segParam}
	}
	seg := segment{kind: segMixed, literal: s[:open]}
	rest := s[open:]
	for rest != "" {
		// rest starts with '{'.
		closeAt := strings.IndexByte(rest, '}')
		rest = rest[closeAt+1:]
		next := strings.IndexByte(rest, '{')
		if next < 0 {
			next = len(rest)
		}
		seg.after = append(seg.after, rest[:next])
		rest = rest[next:]
	}
	return seg
}

// wellFormedParams reports whether every '{' is closed by a '}' before the
// next '{', with a non-empty name, and no '}' stands alone.
func wellFormedParams(s string) bool {
	inParam := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if inParam {
				return false
			}
			inParam, start = true, i
		case '}':
			if !inParam || i == start+1 {
				return false
			}
			inParam = false
		}
	}
	return !inParam
}

// match reports whether some operation for method matches rest, the
// escaped request path after the API path ("" or starting with '/').
func (o *operations) match(method, rest string) bool {
	ms := o.byMethod[method]
	if len(ms) == 0 {
		return false
	}
	if len(rest) > 1 && rest[len(rest)-1] == '/' {
		rest = rest[:len(rest)-1]
	}
	for _, m := range ms {
		if m.match(rest) {
			return true
		}
	}
	return false
}

// match compares the path segment by segment, without splitting it.
func (m *opMatcher) match(p string) bool {
	if p == "/" {
		p = ""
	}
	for i := range m.segs {
		if len(p) == 0 || p[0] != '/' {
			return false
		}
		p = p[1:]
		s := p
		if j := strings.IndexByte(p, '/'); j >= 0 {
			s, p = p[:j], p[j:]
		} else {
			p = ""
		}
		if !m.segs[i].match(s) {
			return false
		}
	}
	return p == ""
}

func (sg *segment) match(s string) bool {
	switch sg.kind {
	case segParam:
		return s != ""
	case segLiteral:
		if s == sg.literal {
			return true
		}
		// "%7E" for "~", say: compare the decoded segment. Rare, so the
		// allocation stays off the common path.
		if strings.IndexByte(s, '%') >= 0 {
			u, err := url.PathUnescape(s)
			return err == nil && u == sg.literal
		}
		return false
	}
	// segMixed: literal prefix, then each parameter (at least one
	// character) followed by its literal text.
	if !strings.HasPrefix(s, sg.literal) {
		return false
	}
	s = s[len(sg.literal):]
	for i, lit := range sg.after {
		if len(s) == 0 {
			return false
		}
		if i == len(sg.after)-1 {
			// The last literal ends the segment.
			return len(s) > len(lit) && strings.HasSuffix(s, lit)
		}
		if lit == "" {
			s = s[1:] // "{a}{b}": give the first parameter one character
			continue
		}
		j := strings.Index(s[1:], lit)
		if j < 0 {
			return false
		}
		s = s[1+j+len(lit):]
	}
	return true
}
