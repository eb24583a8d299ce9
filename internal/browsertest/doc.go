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
// When no Chromium is installed, New skips the test, unless the environment
// variable PORTICO_REQUIRE_BROWSER is set (as CI does), in which case it
// fails. PORTICO_CHROMIUM names a browser binary explicitly. When
// PORTICO_SCREENSHOTS names a folder, Screenshot writes PNGs into it.
//
// It is a test helper: only _test.go files import it.
package browsertest
