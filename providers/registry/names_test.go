package registry

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// waived are the provider names still known outside their package, by file
// and name, each with the reason it stays; none today.
var waived = map[string]map[string]string{}

// TestNoProviderNameOutsideItsPackage: outside tests, only a provider's own
// package (and the test helpers below it) and this registry name it, in a
// string or by importing its package. Adding a provider is then its package
// and one line in the registry, and nothing else can depend on its wire.
func TestNoProviderNameOutsideItsPackage(t *testing.T) {
	root, module := moduleRoot(t)
	names := Names(All())
	mention := regexp.MustCompile(`(?i)\b(` + strings.Join(names, "|") + `)\b`)
	used := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || strings.HasPrefix(rel, "providers/registry/") {
			return nil
		}
		for _, use := range providerUses(t, path, module, mention) {
			switch {
			case strings.HasPrefix(rel, "providers/"+use.name+"/"):
			case waived[rel][use.name] != "":
				used[rel+" "+use.name] = true
			default:
				t.Errorf("%s:%d names provider %q (%s): only providers/%s and the registry may", rel, use.line, use.name, use.how, use.name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, byName := range waived {
		for name := range byName {
			if !used[file+" "+name] {
				t.Errorf("%s no longer names %s: drop its waiver", file, name)
			}
		}
	}
}

// use is one place a file names a provider.
type use struct {
	name, how string
	line      int
}

// providerUses lists the imports of provider packages and the string
// literals that name a provider in the Go file at path. Comments are prose
// and may name anything.
func providerUses(t *testing.T, path, module string, mention *regexp.Regexp) []use {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var uses []use
	imports := map[*ast.BasicLit]bool{}
	for _, imp := range f.Imports {
		imports[imp.Path] = true
		p, _ := strconv.Unquote(imp.Path.Value)
		rest, ok := strings.CutPrefix(p, module+"/providers/")
		if name, _, _ := strings.Cut(rest, "/"); ok {
			if _, isProvider := Lookup(name); isProvider {
				uses = append(uses, use{name, "imports " + p, fset.Position(imp.Pos()).Line})
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || imports[lit] {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			s = lit.Value
		}
		for _, m := range mention.FindAllString(s, -1) {
			uses = append(uses, use{strings.ToLower(m), "in " + lit.Value, fset.Position(lit.Pos()).Line})
		}
		return true
	})
	return uses
}

// moduleRoot finds the directory of go.mod above this test, and the module's
// path.
func moduleRoot(t *testing.T) (dir, module string) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			lines := bufio.NewScanner(f)
			for lines.Scan() {
				if m, ok := strings.CutPrefix(lines.Text(), "module "); ok {
					return dir, strings.TrimSpace(m)
				}
			}
			t.Fatal("go.mod names no module")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
