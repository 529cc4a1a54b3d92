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
		"Arguments: folders (their *"+conversationExt+" files, in name order) and conversation files.\n\n"+
			"Play each conversation file against a running gateway, in the aggregator's wire format the\n"+
			"file names, with a fresh session id for each dial, and compare every screen with the file's.\n"+
			"For the first screen of a file that differs, print the file, the hop and a diff (- expected,\n"+
			"+ got); then a summary line. Exits non-zero when any file fails.\n"+
			"A file is written by hand or recorded with 'imis-gateway sim --record FILE'; its format, and the\n"+
			"placeholders {receipt} (a fresh receipt number per run) and {date} (any text), are in\n"+
			"docs/conversations.md.",
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
