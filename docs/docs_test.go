// Package docs holds the maintainers' reference; its test keeps the
// repository's citations and links pointing at what is in the repository.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

const root = ".."

// sourceFile reports whether path is a file whose comments or text may cite documents.
func sourceFile(path string) bool {
	switch filepath.Ext(path) {
	case ".go", ".sh", ".sql", ".md", ".json", ".yaml", ".yml":
		return true
	}
	return filepath.Base(path) == "Makefile"
}

// repositoryFiles lists the files under root that may cite documents, skipping
// version control and local state.
func repositoryFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".local", "bin", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if sourceFile(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Notes kept outside the repository are dead links for anyone who clones it.
// Inside docs/, openimis.md is this directory's own page.
var (
	outsideNotes = regexp.MustCompile(`\b(protocols|DESIGN|peers|STYLE)\.md\b`)
	bareOpenIMIS = regexp.MustCompile(`(^|[^/\w])openimis\.md\b`)
)

func TestNothingCitesNotesOutsideTheRepository(t *testing.T) {
	for _, path := range repositoryFiles(t) {
		if path == filepath.Join(root, "docs", "docs_test.go") {
			continue
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inDocs := filepath.Dir(path) == filepath.Join(root, "docs")
		for i, line := range strings.Split(string(text), "\n") {
			if outsideNotes.MatchString(line) || (!inDocs && bareOpenIMIS.MatchString(line)) {
				t.Errorf("%s:%d cites a document that is not in the repository: %s", path, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// citation is `docs/providers.md, "Replay keys"` (more headings of the same
// page follow as `; "Timeouts"`); comment markers between lines are allowed.
var (
	citation      = regexp.MustCompile(`\b(docs/[a-z]+\.md|README\.md),\s*"([^"\n]+)"((?:;\s*"[^"\n]+")*)`)
	moreHeadings  = regexp.MustCompile(`"([^"\n]+)"`)
	commentBreaks = regexp.MustCompile(`\n\s*(//|#|--)\s*`)
)

func TestCitedHeadingsExist(t *testing.T) {
	headings := map[string][]string{}
	for _, path := range repositoryFiles(t) {
		if filepath.Ext(path) == ".md" {
			continue // Markdown links are checked by TestMarkdownLinksResolve
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		joined := commentBreaks.ReplaceAllString(string(text), " ")
		for _, m := range citation.FindAllStringSubmatch(joined, -1) {
			page := m[1]
			if _, ok := headings[page]; !ok {
				headings[page] = headingsOf(t, filepath.Join(root, page))
			}
			cited := []string{m[2]}
			for _, h := range moreHeadings.FindAllStringSubmatch(m[3], -1) {
				cited = append(cited, h[1])
			}
			for _, h := range cited {
				if !slices.Contains(headings[page], h) {
					t.Errorf("%s cites %s, %q: no such heading", path, page, h)
				}
			}
		}
	}
}

// markdownLink is a relative link: [text](a file, then an optional #anchor).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestMarkdownLinksResolve(t *testing.T) {
	for _, path := range repositoryFiles(t) {
		if filepath.Ext(path) != ".md" {
			continue
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			resolved := path
			if file != "" {
				resolved = filepath.Join(filepath.Dir(path), file)
			}
			if _, err := os.Stat(resolved); err != nil {
				t.Errorf("%s links to %s: %v", path, target, err)
				continue
			}
			if anchor == "" || filepath.Ext(resolved) != ".md" {
				continue
			}
			var anchors []string
			for _, h := range headingsOf(t, resolved) {
				anchors = append(anchors, anchorOf(h))
			}
			if !slices.Contains(anchors, anchor) {
				t.Errorf("%s links to %s: no heading with that anchor", path, target)
			}
		}
	}
}

// headingsOf lists the Markdown headings of a file, outside code blocks.
func headingsOf(t *testing.T, path string) []string {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	inCode := false
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if !inCode && strings.HasPrefix(line, "#") {
			out = append(out, strings.TrimSpace(strings.TrimLeft(line, "#")))
		}
	}
	return out
}

// anchorOf is GitHub's anchor for a heading: lower case, spaces to '-',
// punctuation other than '-' and '_' dropped.
func anchorOf(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
