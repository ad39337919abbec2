package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// chromiumPath is Debian's chromium, installed by scripts/deps.
const chromiumPath = "/usr/bin/chromium"

// reportScreenshot is the README's picture of the report, rewritten only when
// PCMK_TRACE_SCREENSHOTS=1; other runs keep their screenshot in the test's
// temporary directory (kept with -test.v for a look).
var reportScreenshot = filepath.Join("..", "..", "docs", "images", "report.png")

// rxCapture is a real capture with the receive side: the report has every chart.
var rxCapture = filepath.Join("..", "..", "analyse", "testdata", "bookworm-rx.pcapng")

// TestReportInChromium opens a report in a headless Chromium: no console
// errors, no request but the page itself, every chart drawn, tables filled
// and sortable. It saves a screenshot of the whole page for the README.
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; -short runs only quick tests")
	}
	if _, err := exec.LookPath(chromiumPath); err != nil {
		testcluster.Skip(t, "no chromium (scripts/deps installs it): "+err.Error())
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "--utc", "-o", page, rxCapture}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	url := "file://" + page

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	var mu sync.Mutex
	var problems, requests []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s (line %d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.LineNumber))
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}

	type pageShape struct {
		Sections []string       `json:"sections"`
		Charts   int            `json:"charts"`
		Figures  int            `json:"figures"`
		SVGs     int            `json:"svgs"`
		Flow     int            `json:"flow"`
		Rows     map[string]int `json:"rows"`
		Drawn    int            `json:"drawn"` // charts the browser laid out with a size
	}
	shape, err := chromedp.Run(ctx, chromedp.Evaluate[pageShape](`(() => {
		const rows = {};
		document.querySelectorAll("table[data-table]").forEach(t => rows[t.dataset.table] = t.tBodies[0].rows.length);
		const charts = document.querySelectorAll("figure.r-chart svg");
		let drawn = 0;
		charts.forEach(s => { const r = s.getBoundingClientRect(); if (r.width > 100 && r.height > 100) drawn++; });
		return {
			sections: Array.from(document.querySelectorAll("main > section")).map(s => s.id),
			charts: charts.length,
			figures: document.querySelectorAll("figure.r-chart").length,
			svgs: document.querySelectorAll("svg").length,
			flow: document.querySelectorAll(".r-flow svg g.msg").length,
			rows: rows,
			drawn: drawn,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	want := "ops,clients,connections,rate,sizes,fanout,loss,flow"
	if got := strings.Join(shape.Sections, ","); got != want {
		t.Errorf("sections %s, want %s", got, want)
	}
	// Six latency charts (the capture has more operations), rate, sizes and backlog.
	if shape.Charts != 9 || shape.Figures != 9 || shape.Drawn != 9 {
		t.Errorf("%d charts in %d figures, %d drawn, want 9", shape.Charts, shape.Figures, shape.Drawn)
	}
	if shape.SVGs != shape.Charts+1 || shape.Flow == 0 {
		t.Errorf("%d svg, %d flow arrows: want the charts and a flow diagram with arrows", shape.SVGs, shape.Flow)
	}
	for _, table := range []string{"ops", "clients", "connections", "sizes", "largest", "size_buckets", "fanout_total"} {
		if shape.Rows[table] == 0 {
			t.Errorf("table %s is empty (rows: %v)", table, shape.Rows)
		}
	}

	// A click on the requests header sorts the ops table by it, largest first on the second click.
	sorted, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const t = document.querySelector("table[data-table=ops]");
		const col = Array.from(t.tHead.rows[0].cells).findIndex(th => th.textContent === "requests");
		t.tHead.rows[0].cells[col].click();
		t.tHead.rows[0].cells[col].click();
		const v = Array.from(t.tBodies[0].rows).map(r => Number(r.cells[col].dataset.v));
		return v.length > 1 && v.every((x, i) => i === 0 || v[i-1] >= x) && v[0] > v[v.length-1];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !sorted {
		t.Errorf("clicking the requests header twice did not sort the ops table, largest first")
	}
	// Back to the order of the page for the screenshot.
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	if os.Getenv("PCMK_TRACE_SCREENSHOTS") == "1" {
		shot = reportScreenshot
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 10_000 {
		t.Errorf("screenshot of %d bytes: an empty page?", len(png))
	}
	time.Sleep(100 * time.Millisecond) // late events of the page
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("%s", p)
	}
	for _, r := range requests {
		if r != url {
			t.Errorf("the page requested %s", r)
		}
	}
	if len(requests) == 0 {
		t.Errorf("saw no request at all: the listener is not working")
	}
}
