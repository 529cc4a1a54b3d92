package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// projectConversations are the project's own conversation files, examples
// for implementers and a test of the menus on the demo data.
const projectConversations = "testdata/conversations"

// TestConversations starts a real gateway on a freshly seeded demo
// database, plays the project's conversations against it, then files that
// fail in each way check-conversations reports, and one recorded by sim.
func TestConversations(t *testing.T) {
	vars := demoDatabase(t)
	enableEveryProvider(vars)
	base, stop := serveDev(t, vars)
	defer stop()
	ctx := context.Background()

	out, _, err := runCmd(t, ctx, vars, "", "check-conversations", "--url", base, projectConversations)
	files, _ := filepath.Glob(filepath.Join(projectConversations, "*.txt"))
	if err != nil || len(files) < 9 || !strings.Contains(out, fmt.Sprintf("%d conversations: %[1]d passed, 0 failed", len(files))) {
		t.Fatalf("the project's conversations: %v\n%s", err, out)
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		label string
		file  string
		want  string // the output, the summary line's duration as 0s
	}{
		{"a conversation that passes", `phone: +255700000001
provider: hubtel
code: *384*1234#

dial 1*101203401
J*** H*** M***
No. 101203401
CHF Family Basic: covered until {date}
[end]
`, "ok   {file} (1 hop)\n1 conversation: 1 passed, 0 failed (1 hop, 0s)\n"},

		{"a text that changed", `phone: +255700000001
provider: africastalking
code: *384*1234#

dial
Health insurance
1. Check membership
2. Claim status
3. Language
---
> 1
Enter the insurance number:
0 Back 00 Menu
---
> 101203401
J*** H*** M***
Number 101203401
CHF Family Basic: covered until {date}
[end]
`, `FAIL {file}:15: hop 3 (> 101203401) got another screen (- expected, + got):
      J*** H*** M***
    - Number 101203401
    + No. 101203401
      CHF Family Basic: covered until {date}
      [end]
1 conversation: 0 passed, 1 failed (3 hops, 0s)
`},

		{"a session that goes on", `phone: +255700000001
provider: africastalking
code: *384*1234#

dial
Health insurance
1. Check membership
2. Claim status
3. Language
---
> 1
Enter the insurance number:
[end]
`, `FAIL {file}:11: hop 2 (> 1) got another screen (- expected, + got):
      Enter the insurance number:
    - [end]
    + 0 Back 00 Menu
1 conversation: 0 passed, 1 failed (2 hops, 0s)
`},

		{"a malformed file", "phone: +255700000001\nprovider: africastalking\ncode: *384*1234#\n\n> 1\nx\n",
			"FAIL {file}:5: the first hop must be \"dial\": a conversation starts by dialling\n1 conversation: 0 passed, 1 failed (0 hops, 0s)\n"},

		{"a provider the gateway does not know", "phone: +255700000001\nprovider: acme\ncode: *384*1234#\n\ndial\nx\n",
			`FAIL {file}: unknown provider "acme" (known: africastalking, hubtel, nalo, arkesel, infobip, beem)` +
				"\n1 conversation: 0 passed, 1 failed (0 hops, 0s)\n"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.label, " ", "-")+".txt")
			if err := os.WriteFile(file, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _, err := runCmd(t, ctx, vars, "", "check-conversations", "--url", base, file)
			want := strings.ReplaceAll(tc.want, "{file}", file)
			if got := elapsed.ReplaceAllString(out, ", 0s)"); got != want {
				t.Errorf("output\n%s\nwant\n%s", got, want)
			}
			if passes := strings.HasPrefix(want, "ok"); passes != (err == nil) || !passes && !errors.Is(err, errConversationsFailed) {
				t.Errorf("error %v", err)
			}
		})
	}

	// What sim --record writes, check-conversations plays back as it was.
	recorded := filepath.Join(dir, "recorded.txt")
	if out, _, err := runCmd(t, ctx, vars, "1\n48213\n\n3\n2\n00\n3\n1\nq\n", "sim", "--url", base, "--phone", "+255744321987",
		"--provider", "infobip", "--record", recorded); err != nil {
		t.Fatalf("sim --record: %v\n%s", err, out)
	}
	out, _, err = runCmd(t, ctx, vars, "", "check-conversations", "--url", base, recorded)
	if err != nil || !strings.Contains(out, "1 conversation: 1 passed, 0 failed (9 hops,") {
		t.Errorf("the recorded conversation: %v\n%s", err, out)
	}
}

var elapsed = regexp.MustCompile(`, [0-9.]+[µnm]?s\)`)

func TestCheckConversationsNeedsFiles(t *testing.T) {
	_, errOut, err := runCmd(t, context.Background(), nil, "", "check-conversations")
	if !errors.Is(err, errUsage) || !strings.Contains(errOut, "name a folder of conversation files") {
		t.Errorf("no argument: %v %q", err, errOut)
	}
	empty := t.TempDir()
	if _, _, err := runCmd(t, context.Background(), nil, "", "check-conversations", empty); err == nil || !strings.Contains(err.Error(), "holds no *.txt conversation files") {
		t.Errorf("empty folder: %v", err)
	}
}
