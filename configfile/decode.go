package configfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML node tree by hand rather than unmarshalling into
// structs, so that every problem can name its key and line, unknown keys can
// be told apart from keys a later version supports, and ${ENV} can be
// substituted before a value is typed.
type decoder struct {
	errs   *errorList
	getenv func(string) (string, bool)
	dir    string // the config file's directory: file names are relative to it
	notes  []*Error
}

// keys says which keys a mapping may hold. later lists keys of the config
// file format that this version does not implement yet: they are refused
// with a message saying so rather than as unknown.
type keys struct {
	known []string
	later []string
}

// resolve follows aliases, so that anchors (&x / *x) work anywhere.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// fields calls fn for each key of mapping n that ks allows, in file order,
// and reports unknown, not-yet-supported and repeated keys. It reports false
// when n is not a mapping (null counts as an empty mapping).
func (d *decoder) fields(n *yaml.Node, path string, ks keys, fn func(key string, kn, vn *yaml.Node, path string)) bool {
	n = resolve(n)
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.errs.addf(n.Line, path, "want a mapping, got %s", describe(n))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := kn.Value
		child := key
		if path != "" {
			child = path + "." + key
		}
		if kn.Kind != yaml.ScalarNode {
			d.errs.addf(kn.Line, path, "keys must be plain names, got %s", describe(kn))
			continue
		}
		if first, dup := seen[key]; dup {
			d.errs.addf(kn.Line, child, "key repeated (first at line %d)", first)
			continue
		}
		seen[key] = kn.Line
		switch {
		case contains(ks.known, key):
			fn(key, kn, vn, child)
		case contains(ks.later, key):
			d.errs.addf(kn.Line, child, "not supported yet by this version of Portico")
		default:
			msg := "unknown key"
			if s := suggest(key, ks.known); s != "" {
				msg += " (did you mean " + s + "?)"
			} else if key == "<<" {
				msg = "merge keys (<<) are not supported"
			}
			d.errs.addf(kn.Line, child, "%s", msg)
		}
	}
	return true
}

// list calls fn for each item of sequence n; null is an empty list.
func (d *decoder) list(n *yaml.Node, path string, fn func(i int, item *yaml.Node, path string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errs.addf(n.Line, path, "want a list, got %s", describe(n))
		return
	}
	for i, item := range n.Content {
		fn(i, resolve(item), fmt.Sprintf("%s[%d]", path, i))
	}
}

// scalar returns the text of a scalar after ${ENV} substitution. ok is
// false when n is null (the key is treated as absent) or on a reported error.
// fromEnv says whether substitution happened, so that messages quote the
// value as written rather than a possibly secret substituted one.
func (d *decoder) scalar(n *yaml.Node, path, want string) (text string, fromEnv, ok bool) {
	if isNull(n) {
		return "", false, false
	}
	if n.Kind != yaml.ScalarNode {
		d.errs.addf(n.Line, path, "want %s, got %s", want, describe(n))
		return "", false, false
	}
	text, fromEnv, err := expandEnv(n.Value, d.getenv)
	if err != nil {
		d.errs.addf(n.Line, path, "%s", err)
		return "", false, false
	}
	return text, fromEnv, true
}

// typeError reports a scalar of the wrong form.
func (d *decoder) typeError(n *yaml.Node, path, want string, fromEnv bool) {
	got := strconv.Quote(n.Value)
	if fromEnv {
		got += " (value from the environment not shown)"
	}
	d.errs.addf(n.Line, path, "want %s, got %s", want, got)
}

// str returns a string value; null is "". Any scalar is accepted, so that
// `title: 2024` means the text 2024.
func (d *decoder) str(n *yaml.Node, path string) string {
	s, _, _ := d.scalar(n, path, "a string")
	return s
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	s, fromEnv, ok := d.scalar(n, path, "true or false")
	if !ok {
		return
	}
	switch strings.ToLower(s) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.typeError(n, path, "true or false", fromEnv)
	}
}

func (d *decoder) integer(n *yaml.Node, path string, dst *int) {
	s, fromEnv, ok := d.scalar(n, path, "an integer")
	if !ok {
		return
	}
	v, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil {
		d.typeError(n, path, "an integer", fromEnv)
		return
	}
	*dst = v
}

func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) {
	s, fromEnv, ok := d.scalar(n, path, "a duration")
	if !ok {
		return
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		d.typeError(n, path, "a duration such as 30s, 15m or 48h", fromEnv)
		return
	}
	*dst = v
}

// enum sets *dst to the value when it is one of allowed.
func (d *decoder) enum(n *yaml.Node, path string, dst *string, allowed ...string) {
	s, fromEnv, ok := d.scalar(n, path, "one of "+strings.Join(allowed, ", "))
	if !ok {
		return
	}
	if !contains(allowed, s) {
		d.typeError(n, path, "one of "+strings.Join(allowed, ", "), fromEnv)
		return
	}
	*dst = s
}

// strs returns a list of strings; null is an empty list.
func (d *decoder) strs(n *yaml.Node, path string) []string {
	var out []string
	d.list(n, path, func(_ int, item *yaml.Node, p string) {
		if s, _, ok := d.scalar(item, p, "a string"); ok {
			out = append(out, s)
		}
	})
	return out
}

// expandEnv replaces ${NAME} with the variable's value; $${ stands for a
// literal ${. Substituted text is not expanded again.
func expandEnv(s string, getenv func(string) (string, bool)) (string, bool, error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	substituted := false
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", false, fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
			}
			name := s[i+2 : i+2+end]
			if !validEnvName(name) {
				return "", false, fmt.Errorf("%q is not an environment variable name (write $${ for a literal ${)", name)
			}
			v, ok := getenv(name)
			if !ok {
				return "", false, fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(v)
			substituted = true
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), substituted, nil
}

// escapeEnv makes s read back as itself through expandEnv.
func escapeEnv(s string) string { return strings.ReplaceAll(s, "${", "$${") }

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to key when it is close enough to
// be a typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	if len(key) <= 4 {
		bestDist = 2
	}
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
