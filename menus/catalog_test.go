package menus

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestCatalogComplete finds every msg constant in catalog.go and checks the
// English catalog has printable-ASCII text for it (GSM-7 without escapes), and
// that no other catalog has a message English lacks.
func TestCatalogComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "catalog.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []msg
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if typ, ok := spec.Type.(*ast.Ident); ok && typ.Name == "msg" {
			for _, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					ids = append(ids, msg(strings.Trim(lit.Value, `"`)))
				}
			}
		}
		return true
	})
	if len(ids) < 10 {
		t.Fatalf("found only %d msg constants; did catalog.go change shape?", len(ids))
	}
	for _, id := range ids {
		s, ok := english[id]
		if !ok {
			t.Errorf("%q has no English text", id)
			continue
		}
		for _, c := range []byte(s) {
			// '^{}\[~]|' are GSM-7 extension characters and cost two septets.
			if c < 0x20 || c > 0x7e || strings.IndexByte(`^{}\[~]|`, c) >= 0 {
				t.Errorf("%q: English text %q has %q, not plain GSM-7 ASCII", id, s, c)
			}
		}
	}
	if len(english) != len(ids) {
		t.Errorf("English has %d messages, catalog.go declares %d IDs", len(english), len(ids))
	}
	for lang, cat := range catalogs {
		for id := range cat {
			if _, ok := english[id]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, id)
			}
		}
	}
}

func TestTranslateFallsBack(t *testing.T) {
	if got := t2("xx", msgNav); got != "0 Back 00 Menu" {
		t.Errorf("unknown language: %q", got)
	}
	if got := t2("en", msgMore, 3); got != "+3 more" {
		t.Errorf("with an argument: %q", got)
	}
	if got := t2("en", msg("no.such.message")); got != "no.such.message" {
		t.Errorf("missing message: %q", got)
	}
}

// t2 is t under another name: inside tests, t is the *testing.T.
func t2(lang string, id msg, args ...any) string { return t(lang, id, args...) }
