// Package browsertest starts a headless Chromium for tests that drive the
// portal in a real browser (chromedp), and collects what the page writes to
// its console, so that a test can assert there were no script errors and no
// Content-Security-Policy violations.
//
// A test calls New, which returns a chromedp context for a fresh tab in a
// fresh browser with its own profile, then Watch to start collecting the
// console before navigating:
//
//	ctx := browsertest.New(t)
//	console := browsertest.Watch(t, ctx)
//	err := chromedp.Do(ctx, chromedp.Navigate(srv.URL))
//	...
//	console.AssertClean(t)
//
// NewPage wraps the tab in a Page, which holds the steps every browser test
// repeats and fails the test naming what it was doing: Step runs actions,
// Submit clicks a button or link and waits for the next page, Text (trimmed),
// RawText and Value read an element, Location gives the address relative to
// the server under test, Notice checks the portal's notice, SignIn fills in
// and submits the portal's sign-in form (by its data-testid fields), and
// Screenshot saves the tab:
//
//	p := browsertest.NewPage(t, ctx, srv.URL)
//	p.Step("open the administration", chromedp.Navigate(srv.URL+"/admin/"))
//	p.SignIn(email, password)
//	if got := p.Location(); got != "/admin/" {
//		t.Fatalf("after sign-in at %q", got)
//	}
//
// When no Chromium is installed, New skips the test, unless the environment
// variable PORTICO_REQUIRE_BROWSER is set (as CI does), in which case it
// fails. PORTICO_CHROMIUM names a browser binary explicitly. When
// PORTICO_SCREENSHOTS names a folder, Screenshot writes PNGs into it.
//
// It is a test helper: only _test.go files import it.
package browsertest
