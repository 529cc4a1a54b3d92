// Package browsertest runs tests in a real headless Chromium, driven with
// chromedp: the distribution's chromium package, which the project's
// scripts install (scripts/services.sh browser, run by make test).
//
//	tab := browsertest.New(t)
//	err := chromedp.Do(tab, chromedp.Navigate(url), chromedp.Click(chromedp.ID("dial")))
//
// A test without Chromium on the machine is skipped, saying how to install
// it.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath is where the distribution's package puts Chromium.
const ExecPath = "/usr/bin/chromium"

// Timeout bounds everything one browser does for a test.
const Timeout = 2 * time.Minute

// UpdateScreenshotsEnv, set to 1, lets Screenshot write its files:
// otherwise tests leave the tree as it is.
const UpdateScreenshotsEnv = "UPDATE_SCREENSHOTS"

// New starts a headless Chromium for t, with a fresh profile, and returns
// the context of its first tab for chromedp.Do and chromedp.Run. The browser is closed
// when t ends, and anything it does after Timeout fails. Without Chromium,
// t is skipped.
func New(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ExecPath); err != nil {
		t.Skipf("no Chromium at %s (%v): install it with scripts/services.sh browser (make test does)", ExecPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ExecPath),
		chromedp.Headless,
		chromedp.NoSandbox, // as root, in containers and CI: the sandbox needs user namespaces
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Nothing but the page under test goes on the network.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers' /dev/shm is often 64 MB, in which tabs crash.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 720),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf), chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelTimeout() })
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return tab
}

// Tab opens another tab of the browser of tab (New), closed when t ends:
// subtests can share one browser.
func Tab(t testing.TB, tab context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(tab)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// Screenshot saves a PNG of the element sel (CSS) of tab's page to path, when
// UPDATE_SCREENSHOTS=1; otherwise it does nothing, so that tests do not
// rewrite the files the documentation shows.
func Screenshot(t testing.TB, tab context.Context, sel, path string) {
	t.Helper()
	if os.Getenv(UpdateScreenshotsEnv) != "1" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", sel, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
