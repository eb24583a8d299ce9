package views

import (
	"strconv"

	"github.com/porticoapi/portico/web/components"
)

// HomeView is the portal's front page.
type HomeView struct {
	Shell       components.Shell
	Title       string
	Intro       string
	Featured    []components.APICard
	TotalAPIs   int
	UserName    string // empty for an anonymous visitor
	SignInURL   string
	SignUpURL   string // empty when self-registration is off
	CatalogURL  string
	ProductsURL string
}

// CatalogueView is the list of APIs with its search form.
type CatalogueView struct {
	Shell      components.Shell
	Query      string
	Tag        string
	TagOptions []Option
	Tags       []components.Chip // every tag, each linking to its filter
	APIs       []components.APICard
	Total      int
	ClearURL   string // empty when no filter is in force
	Pagination components.Pagination
}

// Filtered reports whether a search or tag narrows the list.
func (v CatalogueView) Filtered() bool { return v.Query != "" || v.Tag != "" }

// ResultText says how many APIs the list holds.
func (v CatalogueView) ResultText() string {
	n := "No APIs"
	switch v.Total {
	case 0:
	case 1:
		n = "1 API"
	default:
		n = strconv.Itoa(v.Total) + " APIs"
	}
	switch {
	case v.Query != "" && v.Tag != "":
		return n + " matching “" + v.Query + "” tagged " + v.Tag
	case v.Query != "":
		return n + " matching “" + v.Query + "”"
	case v.Tag != "":
		return n + " tagged " + v.Tag
	}
	return n
}

// Option is one choice of a select element.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// Access says how callers authenticate to an API at the gateway.
type Access struct {
	Open       bool   // no subscription key needed
	OpenReason string // why: "does not require a subscription", "is in the open product Free"
	KeyHeader  string
	KeyQuery   string
}

// ProductRef is a product in a list of links.
type ProductRef struct {
	Title  string
	URL    string
	Badges []components.Badge
}

// OperationGroup is the operations that share a tag.
type OperationGroup struct {
	Tag        string
	ID         string // element id of the group's heading
	Operations []components.OperationLink
}

// APIView is an API's page.
type APIView struct {
	Shell          components.Shell
	Trail          []components.Link
	Title          string
	Description    string
	Version        string
	BaseURL        string
	Access         Access
	Products       []ProductRef
	Groups         []OperationGroup
	OperationCount int
	SpecURL        string // empty when no OpenAPI document is stored
	SpecFormat     string
	Tags           []components.Chip
}

// OperationView is an operation's reference page.
type OperationView struct {
	Shell       components.Shell
	Trail       []components.Link
	APITitle    string
	APIURL      string
	Title       string
	Method      string
	URL         string // the full gateway URL template
	Description string
	Deprecated  bool
	Tags        []components.Chip
	Access      Access
	Parameters  []ParameterRow
	RequestBody *BodyView
	Responses   []ResponseView
	Curl        components.CodeBlock
	Siblings    []components.OperationLink // every operation of the API, this one marked
}

// ParameterRow is one row of a parameters or headers table.
type ParameterRow struct {
	Name        string
	In          string
	Required    bool
	Deprecated  bool
	Type        string
	Description string
	Example     string
}

// BodyView is a request body.
type BodyView struct {
	Description string
	Required    bool
	Content     []MediaTypeView
}

// ResponseView is one documented response.
type ResponseView struct {
	Status      string
	Tone        components.Tone
	Description string
	Headers     []ParameterRow
	Content     []MediaTypeView
}

// MediaTypeView is one representation of a body: its schema and example.
type MediaTypeView struct {
	Type    string
	Schema  *components.SchemaNode
	Example *components.CodeBlock
}

// ProductsView lists products.
type ProductsView struct {
	Shell    components.Shell
	Products []components.ProductCard
	IsAdmin  bool
}

// ProductView is a product's page.
type ProductView struct {
	Shell       components.Shell
	Trail       []components.Link
	Title       string
	Description string
	Terms       string
	Badges      []components.Badge
	Facts       []components.Fact
	APIs        []components.APICard
	Open        bool           // no subscription needed
	SignInURL   string         // set for anonymous visitors of a product that needs a subscription
	Subscribe   *SubscribeForm // set for signed-in users of a published product that needs a subscription
}

// ErrorView is the page shown for any error.
type ErrorView struct {
	Shell     components.Shell
	Status    int
	Heading   string
	Message   string
	RequestID string
	Actions   []components.Link
}
