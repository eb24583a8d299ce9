package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestBrowser walks the catalogue in a real browser, as a developer would,
// and checks that no page causes a script error or a Content-Security-
// Policy violation. With PORTICO_SCREENSHOTS set it saves each page.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, e.srv.URL)

	p.Step("open the home page",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#home-title")),
	)
	if got := p.RawText("#home-title"); got != "Contoso APIs" {
		t.Fatalf("home title = %q", got)
	}
	p.Screenshot("home")

	// The first Tab reaches the skip link, which is shown when focused.
	p.Step("tab to the skip link", chromedp.KeyEvent("\t"))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className + " " + getComputedStyle(document.activeElement).top`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(focused, "skip-link ") || strings.HasPrefix(focused, "skip-link -") {
		t.Fatalf("first Tab focuses %q, want the visible skip link", focused)
	}

	p.Submit("go to the catalogue", `.main-nav a[href="/apis"]`)
	p.Screenshot("catalogue")

	p.Step("type a search", chromedp.SendKeys(chromedp.CSS(`[data-testid="api-search"]`), "echo"))
	p.Submit("search", `[data-testid="api-search-submit"]`)
	if got := p.RawText(`[data-testid="result-count"]`); !strings.Contains(got, "1 API matching") {
		t.Fatalf("result count after searching = %q", got)
	}
	if got := p.RawText(`[data-testid="api-card"]`); !strings.Contains(got, "Echo API") {
		t.Fatalf("search result = %q", got)
	}

	p.Submit("open the API", `[data-testid="api-card"] a[href="/apis/echo"]`)
	if got := p.RawText(`[data-testid="gateway-url"]`); got != "https://gateway.example.com/echo" {
		t.Fatalf("gateway URL = %q", got)
	}
	p.Screenshot("api")

	p.Submit("open an operation", `a.operation-row[href="/apis/echo/operations/get-resource"]`)
	curl := p.RawText("#curl-example")
	if !strings.Contains(curl, "curl --request GET") || !strings.Contains(curl, "Ocp-Apim-Subscription-Key: <your-subscription-key>") {
		t.Fatalf("curl example = %q", curl)
	}
	// The script reveals the copy button; clicking it reports the outcome
	// (headless browsers may refuse the clipboard, which is reported too).
	p.Step("copy the curl example",
		chromedp.WaitVisible(chromedp.CSS(`button[data-copy-target="curl-example"]`)),
		chromedp.Click(chromedp.CSS(`button[data-copy-target="curl-example"]`)),
	)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("curl-example-status").textContent !== ""`)); err != nil {
		t.Fatalf("copy status: %v", err)
	}
	p.Screenshot("operation")

	p.Step("dark theme", browsertest.ColorScheme("dark"))
	p.Screenshot("operation-dark")
	p.Step("products in the dark theme",
		chromedp.Navigate(e.srv.URL+"/products/starter"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="product-title"]`)),
	)
	p.Screenshot("product-dark")
	p.Step("error page",
		chromedp.Navigate(e.srv.URL+"/nope"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-message"]`)),
	)
	p.Screenshot("not-found-dark")
	p.Step("narrow screen",
		browsertest.ColorScheme("light"),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/apis/echo/operations/create-resource"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="curl-example"]`)),
	)
	p.Screenshot("operation-mobile")

	// The 404 page was visited on purpose.
	console.AssertClean(t, browsertest.FailedLoad(e.srv.URL+"/nope"))
}
