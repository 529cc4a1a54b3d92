package menus

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/openimis/imis-gateway/menus/gsm7"
)

// catalogFile parses one built-in catalog.
func catalogFile(t *testing.T, lang string) map[string]*i18n.Message {
	t.Helper()
	buf, err := locales.ReadFile("locales/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := i18n.ParseMessageFileBytes(buf, lang+".json", nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*i18n.Message{}
	for _, m := range f.Messages {
		out[m.ID] = m
	}
	return out
}

// codeIDs finds every msg constant in msgids.go.
func codeIDs(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "msgids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if typ, ok := spec.Type.(*ast.Ident); ok && typ.Name == "msg" {
			for _, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					ids = append(ids, strings.Trim(lit.Value, `"`))
				}
			}
		}
		return true
	})
	if len(ids) < 50 {
		t.Fatalf("found only %d msg constants; did msgids.go change shape?", len(ids))
	}
	return ids
}

// pluralForms are the CLDR plural forms of the catalogs' languages for
// integers (French "many" is for millions).
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"fr": {"many", "one", "other"},
	"sw": {"one", "other"},
	"ne": {"one", "other"},
}

// TestCatalogsComplete: the code's message IDs are exactly English's, every
// catalog has every English message and no other, with the same
// placeholders, and plural messages have every plural form of their
// language.
func TestCatalogsComplete(t *testing.T) {
	en := catalogFile(t, "en")
	ids := codeIDs(t)
	if got, want := slices.Sorted(maps.Keys(en)), slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
		t.Errorf("en.json has\n%q\nmsgids.go declares\n%q", got, want)
	}
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			cat := catalogFile(t, lang)
			for id, m := range en {
				tr, ok := cat[id]
				if !ok {
					t.Errorf("%q missing", id)
					continue
				}
				if err := checkTranslation(tr, m); err != nil {
					t.Error(err)
				}
				got := slices.Sorted(maps.Keys(forms(tr)))
				if _, plural := forms(m)["one"]; plural && !slices.Equal(got, pluralForms[lang]) {
					t.Errorf("%q: plural forms %q, want %q", id, got, pluralForms[lang])
				}
				if m.Description == "" && lang == "en" && !strings.HasPrefix(id, "month.") {
					t.Errorf("%q: no description for translators", id)
				}
			}
			for id := range cat {
				if _, ok := en[id]; !ok {
					t.Errorf("%q is not an English message", id)
				}
			}
		})
	}
}

// TestCatalogEncodings: English and Swahili are plain GSM-7, so their
// screens get the full GSM-7 budget; French becomes GSM-7 once
// transliterated; Nepali is Devanagari (UCS-2) but for the kept Latin bits.
func TestCatalogEncodings(t *testing.T) {
	for _, lang := range languages {
		for id, m := range catalogFile(t, lang) {
			for form, src := range forms(m) {
				s := action.ReplaceAllString(src, "") // placeholders are replaced by data
				switch lang {
				case "en", "sw":
					if _, ok := gsm7.Count(s); !ok || strings.ContainsAny(s, "^{}\\[~]|€") {
						t.Errorf("%s %q (%s): %q is not plain GSM-7", lang, id, form, s)
					}
				case "fr":
					if _, ok := gsm7.Count(gsm7.Substitute(s, true)); !ok {
						t.Errorf("fr %q (%s): %q is not GSM-7 even transliterated", id, form, s)
					}
				}
				if src != strings.TrimSpace(src) || strings.Contains(src, "  ") || strings.ContainsAny(src, "’“”…\u00a0\t") {
					t.Errorf("%s %q (%s): %q has stray spaces or typographic characters", lang, id, form, src)
				}
			}
		}
	}
}

func TestLoadCatalogOverrides(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("overrides replace what they name", func(t *testing.T) {
		dir := write(t, map[string]string{
			"en.json":   `{"main.title": "CHF iCHF", "list.more": {"one": "{{.Count}} other", "other": "{{.Count}} others"}, "chfid.unknown": "No {{.Number}} here."}`,
			"sw.json":   `{"main.title": "CHF Iliyoboreshwa", "format.date": "dd/MM/y"}`,
			"ne.json":   `{"format.digits": "deva"}`,
			"README.md": "not a catalog",
		})
		c, err := LoadCatalog(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ got, want string }{
			{c.text("en", msgMainTitle, nil), "CHF iCHF"},
			{c.text("fr", msgMainTitle, nil), "Assurance maladie"},
			{c.text("sw", msgMainTitle, nil), "CHF Iliyoboreshwa"},
			{c.text("sw", msgItemCheck, nil), "Hakiki uanachama"},
			{c.text("en", msgNoInsuree, vars{"Number": "123"}), "No 123 here."},
			{c.plural("en", msgMore, 1, nil), "1 other"},
			{c.plural("en", msgMore, 4, nil), "4 others"},
			{c.date("sw", date(2026, 7, 1)), "01/07/2026"},
			{c.date("ne", date(2026, 7, 1)), "२०२६/०७/०१"},
			{c.amount("ne", 172500_00, "NPR"), "NPR १,७२,५००"},
		} {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		}
		e := New(newFake(), Options{Catalog: c})
		if _, scr, _ := e.Begin(t.Context(), stranger, nil); !strings.HasPrefix(scr.Text, "CHF iCHF\n") {
			t.Errorf("engine with overrides: %q", scr.Text)
		}
	})
	for name, files := range map[string]map[string]string{
		"unknown message":          {"fr.json": `{"main.tittle": "x"}`},
		"placeholder missing":      {"fr.json": `{"chfid.unknown": "Inconnu."}`},
		"placeholder renamed":      {"fr.json": `{"chfid.unknown": "Inconnu : {{.Chfid}}."}`},
		"template logic":           {"fr.json": `{"chfid.unknown": "{{if .Number}}x{{end}}{{.Number}}"}`},
		"unbalanced braces":        {"fr.json": `{"chfid.unknown": "{{.Number}"}`},
		"a NUL character":          {"fr.json": `{"chfid.unknown": "Inconnu\u0000 {{.Number}}"}`},
		"plural of a plain text":   {"fr.json": `{"main.title": {"one": "a", "other": "b"}}`},
		"no other form":            {"en.json": `{"list.more": {"one": "+{{.Count}}"}}`},
		"bad date pattern":         {"en.json": `{"format.date": "d MMMM y"}`},
		"date letters":             {"en.json": `{"format.date": "d MMM y 'h'"}`},
		"bad number pattern":       {"en.json": `{"format.number": "#,##0"}`},
		"same separators":          {"en.json": `{"format.number": "#.##0.00"}`},
		"bad digits":               {"en.json": `{"format.digits": "arab"}`},
		"another language":         {"de.json": `{"main.title": "Krankenversicherung"}`},
		"not JSON":                 {"en.json": `main.title = "x"`},
		"a single value, no names": {"en.json": `"x"`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadCatalog(write(t, files)); err == nil {
				t.Errorf("%v: no error", files)
			} else {
				t.Log(err)
			}
		})
	}
	if _, err := LoadCatalog(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing directory: no error")
	}
}

func TestLocalizeFallsBack(t *testing.T) {
	c, err := builtinCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.text("xx", msgNav, nil); got != "0 Back 00 Menu" {
		t.Errorf("unknown language: %q", got)
	}
	if got := c.plural("sw", msgMore, 3, nil); got != "+3 zaidi" {
		t.Errorf("with a count: %q", got)
	}
	if got := c.text("en", msg("no.such.message"), nil); got != "no.such.message" {
		t.Errorf("missing message: %q", got)
	}
	// French "one" covers 0 and 1.
	for n, want := range map[int]string{0: "+0 autre", 1: "+1 autre", 2: "+2 autres"} {
		if got := c.plural("fr", msgMore, n, nil); got != want {
			t.Errorf("fr %d: %q, want %q", n, got, want)
		}
	}
}

// TestFilledMessagesMatchTheirTemplates: a message filled from its parts
// reads exactly as go-i18n's template renders it, in every language, with
// strings, numbers and a value left out.
func TestFilledMessagesMatchTheirTemplates(t *testing.T) {
	c, err := builtinCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range languages {
		if len(c.filled[lang]) == 0 {
			t.Fatalf("%s: no message is filled from parts", lang)
		}
		for id := range c.filled[lang] {
			v := vars{}
			for i, name := range slices.Sorted(maps.Keys(placeholderNames(c, lang, id))) {
				switch i % 3 {
				case 0:
					v[name] = "«" + name + "»"
				case 1:
					v[name] = 1000 + i
				default:
					if i%2 == 0 {
						v[name] = nil
					} // else left out
				}
			}
			want := c.localize(lang, &i18n.LocalizeConfig{MessageID: string(id), TemplateData: v})
			if got := c.text(lang, id, v); got != want {
				t.Errorf("%s %q: filled %q, template %q", lang, id, got, want)
			}
		}
	}
}

func placeholderNames(c *Catalog, lang string, id msg) map[string]bool {
	names := map[string]bool{}
	for _, p := range c.filled[lang][id] {
		if p.name != "" {
			names[p.name] = true
		}
	}
	return names
}
