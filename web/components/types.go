package components

import (
	"strings"
)

// Link is a labelled URL.
type Link struct {
	Label string
	URL   string
}

// Assets are the content-hashed URLs of the files every page links to.
type Assets struct {
	Stylesheet string
	Script     string
	Icon       string
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Label   string
	URL     string
	Current bool // the page shown belongs to this section
}

// Account is the header's account area: who is signed in and their links,
// or how to sign in.
type Account struct {
	Name       string // the signed-in user's name; empty for an anonymous visitor
	Links      []Link // shown when signed in: profile, administration, ...
	SignOutURL string // POST target of the sign-out button; empty hides it
	SignInURL  string
	SignUpURL  string // empty when self-registration is off
}

// SignedIn reports whether a user is signed in.
func (a Account) SignedIn() bool { return a.Name != "" }

// Shell is what the layout around every page needs.
type Shell struct {
	SiteTitle string
	PageTitle string // empty on the home page: the site title alone
	Assets    Assets
	Nav       []NavItem
	Account   Account
}

// DocumentTitle is the text of the <title> element.
func (s Shell) DocumentTitle() string {
	if s.PageTitle == "" || s.PageTitle == s.SiteTitle {
		return s.SiteTitle
	}
	return s.PageTitle + " · " + s.SiteTitle
}

// ButtonStyle chooses how prominent a button or button-like link is.
type ButtonStyle string

const (
	ButtonPrimary   ButtonStyle = "primary"
	ButtonSecondary ButtonStyle = "secondary"
	ButtonQuiet     ButtonStyle = "quiet"
	ButtonDanger    ButtonStyle = "danger" // deletes or refuses something
)

func (b ButtonStyle) class() string { return "button button-" + string(b) }

// Tone colours a badge or an alert. Colour is never the only signal: every
// badge and alert also says what it means in words.
type Tone string

const (
	ToneNeutral Tone = "neutral"
	ToneInfo    Tone = "info"
	ToneSuccess Tone = "success"
	ToneWarning Tone = "warning"
	ToneDanger  Tone = "danger"
)

// Badge is a short status label.
type Badge struct {
	Label string
	Tone  Tone
}

// Chip is a tag that links to a filtered view; Active marks the filter in
// force.
type Chip struct {
	Label  string
	URL    string
	Active bool
}

// APICard summarises an API in a list.
type APICard struct {
	Title   string
	URL     string
	Summary string // a short plain-text description
	Version string
	Tags    []Chip
	Badges  []Badge
}

// ProductCard summarises a product in a list.
type ProductCard struct {
	Title   string
	URL     string
	Summary string
	Badges  []Badge
	APIs    int // how many of its APIs the visitor may see
}

// OperationLink is one operation in a list: method badge, path and title.
type OperationLink struct {
	Method     string
	Path       string
	Title      string
	URL        string
	Deprecated bool
	Current    bool // the page shown is this operation's
}

// CodeBlock is preformatted text with a caption and a copy button that the
// script reveals.
type CodeBlock struct {
	ID       string // unique on the page; the copy button targets it
	Caption  string
	Language string // a hint for readers and styles: "shell", "json"
	Code     string
	TestID   string // data-testid of the block, when tests look for it
}

// Pagination links to the neighbouring pages of a list; empty URLs hide
// the links.
type Pagination struct {
	Page     int
	Pages    int
	Previous string
	Next     string
}

// Fact is a labelled value in a definition list.
type Fact struct {
	Label string
	Value string
}

// SchemaNode is one level of a JSON schema, ready to read: a property, an
// array's items, or one option of a oneOf/anyOf/allOf.
type SchemaNode struct {
	Name        string // property name; empty at the root and for options
	Label       string // shown when there is no name: "Option 1", "additional properties"
	Required    bool
	Type        string // "string", "array of Pet", "map of integer", "one of"
	Format      string
	Ref         string // component name when the schema is a $ref
	Title       string
	Description string
	Nullable    bool
	ReadOnly    bool
	WriteOnly   bool
	Deprecated  bool
	Enum        []string // JSON text of each allowed value
	Facts       []Fact   // constraints, default, example

	Children []SchemaNode    // properties (of the object, or of an array's items)
	Variants []SchemaVariant // oneOf, anyOf, and allOf parts that cannot be merged

	// Anchors are element ids placed on this node so that recursive
	// references below it can link back to it.
	Anchors []string
	// Recursive marks a reference to an enclosing schema, shown as a link
	// to RecursiveAnchor rather than expanded again.
	Recursive       bool
	RecursiveAnchor string
	// ElementOf names the enclosing definition an array's or map's
	// elements refer back to, linked by RecursiveAnchor when set; the
	// elements are not expanded.
	ElementOf string
	// Truncated marks a node whose nesting was cut off at the depth limit.
	Truncated bool
}

// SchemaVariant lists the alternatives of a oneOf, anyOf or allOf.
type SchemaVariant struct {
	Label   string // "One of", "Any of", "All of"
	Options []SchemaNode
}

// paragraphs splits text on blank lines, trimming each paragraph, so that
// plain-text descriptions keep their structure without raw HTML.
func paragraphs(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func methodClass(method string) string {
	switch m := strings.ToLower(method); m {
	case "get", "post", "put", "patch", "delete", "head", "options", "trace":
		return "method method-" + m
	}
	return "method"
}

func toneClass(prefix string, t Tone) string {
	if t == "" {
		t = ToneNeutral
	}
	return prefix + " " + prefix + "-" + string(t)
}
