package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Page is one tab in a test, with the steps a test takes in it. Every
// method fails the test, naming what it was doing, when the browser
// reports an error.
type Page struct {
	t       testing.TB
	ctx     context.Context
	baseURL string
}

// NewPage returns the tab of ctx (from New) as a Page. baseURL is the
// address of the server under test, which Location trims.
func NewPage(t testing.TB, ctx context.Context, baseURL string) *Page {
	return &Page{t: t, ctx: ctx, baseURL: baseURL}
}

// Step runs actions in order, and fails the test with what when one
// fails.
func (p *Page) Step(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Submit clicks sel, a form's button or a link, and waits for the page it
// leads to to load.
func (p *Page) Submit(what, sel string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Text returns the visible text of the first element matching sel, with
// leading and trailing white space trimmed.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	return strings.TrimSpace(p.RawText(sel))
}

// RawText returns the visible text of the first element matching sel as
// the browser gives it, untrimmed.
func (p *Page) RawText(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Value returns the JavaScript value of the first element matching sel,
// such as what an input holds.
func (p *Page) Value(sel string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// Location returns the tab's address without the base URL: the path and
// query on the server under test, or the whole address elsewhere.
func (p *Page) Location() string {
	p.t.Helper()
	u, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(u, p.baseURL)
}

// Notice fails the test unless the page's notice (data-testid "notice")
// contains want.
func (p *Page) Notice(want string) {
	p.t.Helper()
	if got := p.Text(`[data-testid="notice"]`); !strings.Contains(got, want) {
		p.t.Fatalf("notice %q, want %q", got, want)
	}
}

// SignIn fills in the portal's sign-in form, which the tab shows or is
// about to show, and submits it: it waits for data-testid "signin-form",
// types email and password into "signin-email" and "signin-password",
// clicks "signin-submit" and waits for the next page to load.
func (p *Page) SignIn(email, password string) {
	p.t.Helper()
	p.Step("type the credentials",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-password"]`), password),
	)
	p.Submit("sign in", `[data-testid="signin-submit"]`)
}

// Screenshot saves a full-page PNG of the tab as name; see Screenshot.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	return Screenshot(p.t, p.ctx, name)
}
