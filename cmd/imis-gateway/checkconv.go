package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/conversation"
	"github.com/openimis/imis-gateway/providers/registry"
)

// conversationExt is how the files of a folder given to check-conversations end.
const conversationExt = ".txt"

// errConversationsFailed: check-conversations has printed which failed and why.
var errConversationsFailed = errors.New("conversations failed")

// checkConversations plays conversation files against a running gateway,
// one after the other (conversations from one phone may share its remembered
// language), and prints the first screen of each that differs.
func checkConversations(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "check-conversations",
		"  imis-gateway check-conversations [--url URL] DIR|FILE...\n\n"+
			"Play conversation files (a folder: its *"+conversationExt+" files, in name order) against a running gateway,\n"+
			"one after the other, in the wire format of the aggregator each file names, with a fresh session\n"+
			"id for each dial, and compare every screen with the file's. For the first screen of a file that\n"+
			"differs, print the file, the hop and a diff (- expected, + got); then a summary line. Exits\n"+
			"non-zero when any file fails. Record a file with 'imis-gateway sim --record FILE', or write one:\n\n"+
			"  # The family head checks his membership.   (a comment)\n"+
			"  phone: +255712111222\n"+
			"  provider: "+registry.Default().Name+"\n"+
			"  code: *384*1234#\n\n"+
			"  dial 1*101203401             (a new session, pre-dialled: *384*1234*1*101203401#)\n"+
			"  Juma Hassan Mrisho           (the screen expected, line by line)\n"+
			"  No. 101203401\n"+
			"  CHF Family Basic: covered until {date}    ({word}: any text)\n"+
			"  [end]                        (the gateway ends the session)\n"+
			"  ---                          (between hops)\n"+
			"  dial\n"+
			"  Health insurance\n"+
			"  1. Check membership\n"+
			"  2. Claim status\n"+
			"  3. Language\n"+
			"  ---\n"+
			"  > 1                          (an input)\n"+
			"  Enter the insurance number:\n"+
			"  0 Back 00 Menu\n\n"+
			"{receipt}, in inputs and screens, is a fresh receipt number each run. The whole format is in\n"+
			"docs/conversations.md of the source.",
		[][2]string{{"<NAME>_CALLBACK_TOKEN", "callback token of each provider when --token is not given (" + simTokenExample() + ")"}})
	base := fs.String("url", "http://localhost:8080", "base URL of the gateway")
	token := fs.String("token", "", "callback token for every file (default <NAME>_CALLBACK_TOKEN of the file's provider, else \""+devToken+"\")")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for each screen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "check-conversations: name a folder of conversation files (see --help)")
		return errUsage
	}
	paths, err := conversationFiles(fs.Args())
	if err != nil {
		return err
	}
	gateway := conversation.Gateway{BaseURL: *base, Client: &http.Client{Timeout: *timeout},
		Token: func(provider string) string { return callbackToken(env, provider, *token) }}
	start := time.Now()
	failed, hops := 0, 0
	for _, path := range paths {
		n, problem := checkConversation(ctx, gateway, path)
		hops += n
		if problem != "" {
			failed++
			fmt.Fprintf(env.stdout, "FAIL %s\n", problem)
			continue
		}
		fmt.Fprintf(env.stdout, "ok   %s (%s)\n", path, plural(n, "hop"))
	}
	fmt.Fprintf(env.stdout, "%s: %d passed, %d failed (%s, %s)\n",
		plural(len(paths), "conversation"), len(paths)-failed, failed, plural(hops, "hop"), time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return errConversationsFailed
	}
	return nil
}

// checkConversation plays the file at path and returns the hops played and
// what went wrong, "" for nothing, starting with the file's name.
func checkConversation(ctx context.Context, gateway conversation.Gateway, path string) (int, string) {
	text, err := os.ReadFile(path)
	if err != nil {
		return 0, err.Error()
	}
	c, err := conversation.Parse(path, string(text))
	if err != nil {
		return 0, err.Error()
	}
	n, mismatch, err := gateway.Play(ctx, c)
	switch {
	case err != nil:
		return n, err.Error()
	case mismatch != nil:
		return n, strings.TrimSuffix(mismatch.String(), "\n")
	}
	return n, ""
}

// conversationFiles lists the files args name: each folder's *.txt files
// in name order, and each file itself.
func conversationFiles(args []string) ([]string, error) {
	var paths []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			paths = append(paths, arg)
			continue
		}
		entries, err := os.ReadDir(arg)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), conversationExt) {
				found = append(found, filepath.Join(arg, e.Name()))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no *%s conversation files", arg, conversationExt)
		}
		slices.Sort(found)
		paths = append(paths, found...)
	}
	return paths, nil
}

// plural is "1 conversation", "2 conversations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
