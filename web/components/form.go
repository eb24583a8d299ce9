package components

// Field is a labelled single-line input (or a textarea, for TextArea).
type Field struct {
	ID    string
	Name  string
	Label string
	// Type is the input type: text when empty, or email, password, url,
	// number, datetime-local, file.
	Type         string
	Value        string
	Hint         string // shown under the label and tied to the input by aria-describedby
	Required     bool
	Autocomplete string
	MaxLength    int
	Accept       string // file inputs: the file types offered
	Rows         int    // TextArea: visible lines (4 when 0)
	Mono         bool   // TextArea: monospaced, no spell checking (keys, addresses, PEM)
	TestID       string
}

func (f Field) inputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

func (f Field) hintID() string { return f.ID + "-hint" }

// Choice is one option of a select or one radio button.
type Choice struct {
	Value    string
	Label    string
	Selected bool
}

// ChoiceGroup is an optgroup of a select.
type ChoiceGroup struct {
	Label   string
	Choices []Choice
}

// Select is a labelled select element: Choices first, then Groups.
type Select struct {
	ID       string
	Name     string
	Label    string
	Hint     string
	Choices  []Choice
	Groups   []ChoiceGroup
	Required bool
	TestID   string
}

func (s Select) hintID() string { return s.ID + "-hint" }

// Checkbox is a labelled checkbox; the form sends Value under Name when it
// is checked ("on" when Value is empty).
type Checkbox struct {
	ID      string
	Name    string
	Value   string
	Label   string
	Hint    string
	Checked bool
	TestID  string
}

func (c Checkbox) value() string {
	if c.Value == "" {
		return "on"
	}
	return c.Value
}

func (c Checkbox) hintID() string { return c.ID + "-hint" }

// PostButton is a form of one button that POSTs to Action, for actions on
// a row or a page (approve, regenerate, sign out). Comment, when set,
// adds an optional text field of that label sent as "comment".
type PostButton struct {
	Action  string
	Label   string
	Style   ButtonStyle
	TestID  string
	Comment string
	ID      string // unique on the page when Comment is set: the field's id
}

// RadioGroup is a set of radio buttons under one legend; the form sends the
// checked choice's Value under Name.
type RadioGroup struct {
	ID      string // prefix of the buttons' ids: ID + "-" + Value
	Name    string
	Legend  string
	Hint    string
	Choices []Choice // Selected marks the checked one
	TestID  string   // prefix of the buttons' data-testid: TestID + "-" + Value
}

func (g RadioGroup) hintID() string { return g.ID + "-hint" }

func (g RadioGroup) buttonID(c Choice) string { return g.ID + "-" + c.Value }
