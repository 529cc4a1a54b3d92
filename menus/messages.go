package menus

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// languages are the languages the gateway speaks, in the order the
// Language menu shows them (README.md, "The USSD menu"). English comes first: it is the
// reference the other catalogs are checked against.
var languages = []string{"en", "fr", "sw", "ne"}

// Supported reports whether the gateway speaks lang: en, fr, sw or ne.
func Supported(lang string) bool { return slices.Contains(languages, lang) }

//go:embed locales/*.json
var locales embed.FS

// Catalog holds the messages of every language, in go-i18n bundles: the
// catalogs built into the binary (menus/locales), and an implementer's
// overrides on top. It is read-only once loaded and safe for concurrent use.
type Catalog struct {
	localizers map[string]*i18n.Localizer
	formats    map[string]formats
	// fixed holds the messages without placeholders, rendered once: most
	// of a screen, and go-i18n matches the language and runs a template
	// on every call. filled holds the other single-form messages, split
	// once around their placeholders.
	fixed  map[string]map[msg]string
	filled map[string]map[msg][]part
}

// part is a piece of a message: literal text, or the placeholder name.
type part struct {
	text, name string
}

// LoadCatalog returns the built-in catalogs with the overrides found in dir
// (MESSAGES_DIR; "" for none). An override file is named after its language
// (en.json, fr.json, sw.json, ne.json) and has the format of
// menus/locales/<lang>.json; it may hold any subset of the messages, and
// replaces those. Files that are not *.json are ignored. A file for another
// language, an unknown message, a placeholder English does not have (or a
// missing one), and an invalid date or number pattern are errors, so that a
// typo fails at start-up rather than on a phone.
func LoadCatalog(dir string) (*Catalog, error) {
	bundle := i18n.NewBundle(language.English)
	ref, err := loadMessages(bundle, locales, "locales/en.json", nil)
	if err != nil {
		return nil, fmt.Errorf("built-in catalog: %w", err)
	}
	for _, lang := range languages[1:] {
		if _, err := loadMessages(bundle, locales, "locales/"+lang+".json", ref); err != nil {
			return nil, fmt.Errorf("built-in catalog: %w", err)
		}
	}
	if dir != "" {
		if err := loadOverrides(bundle, dir, ref); err != nil {
			return nil, err
		}
	}
	c := &Catalog{localizers: map[string]*i18n.Localizer{}, formats: map[string]formats{},
		fixed: map[string]map[msg]string{}, filled: map[string]map[msg][]part{}}
	for _, lang := range languages {
		c.localizers[lang] = i18n.NewLocalizer(bundle, lang)
		c.fixed[lang] = map[msg]string{}
		c.filled[lang] = map[msg][]part{}
		for id, m := range ref {
			if len(forms(m)) != 1 {
				continue
			}
			names, _ := placeholders(m)
			if len(names) == 0 {
				c.fixed[lang][msg(id)] = c.localize(lang, &i18n.LocalizeConfig{MessageID: id})
				continue
			}
			c.filled[lang][msg(id)] = c.split(lang, id, names)
		}
		f, err := c.parseFormats(lang)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		c.formats[lang] = f
	}
	return c, nil
}

// builtinCatalog is the catalog of an Engine without Options.Catalog.
var builtinCatalog = sync.OnceValues(func() (*Catalog, error) { return LoadCatalog("") })

func loadOverrides(bundle *i18n.Bundle, dir string, ref map[string]*i18n.Message) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("messages directory: %w", err)
	}
	for _, ent := range entries {
		name := ent.Name()
		if ent.IsDir() || filepath.Ext(name) != ".json" {
			continue
		}
		if !Supported(strings.TrimSuffix(name, ".json")) {
			return fmt.Errorf("messages directory: %s: no such language; want one of %s.json",
				name, strings.Join(languages, ".json, "))
		}
		if _, err := loadMessages(bundle, os.DirFS(dir), name, ref); err != nil {
			return fmt.Errorf("messages directory: %w", err)
		}
	}
	return nil
}

// loadMessages parses one catalog file, checks it against the English
// reference ref (nil while loading English itself), and adds its messages to
// bundle, replacing earlier ones. It returns the file's messages by ID.
func loadMessages(bundle *i18n.Bundle, fsys fs.FS, path string, ref map[string]*i18n.Message) (map[string]*i18n.Message, error) {
	buf, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	// go-i18n takes the language from the file name: "fr.json" is French.
	file, err := i18n.ParseMessageFileBytes(buf, path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	byID := make(map[string]*i18n.Message, len(file.Messages))
	var problems []error
	for _, m := range file.Messages {
		byID[m.ID] = m
		if ref == nil {
			problems = append(problems, checkOwn(m))
			continue
		}
		want, ok := ref[m.ID]
		if !ok {
			problems = append(problems, fmt.Errorf("%q: no such message", m.ID))
			continue
		}
		problems = append(problems, checkTranslation(m, want))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := bundle.AddMessages(file.Tag, file.Messages...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return byID, nil
}

// text renders message id in lang with the values v.
func (c *Catalog) text(lang string, id msg, v vars) string {
	if s, ok := c.fixed[lang][id]; ok {
		return s
	}
	if parts, ok := c.filled[lang][id]; ok {
		return fill(parts, v)
	}
	return c.localize(lang, &i18n.LocalizeConfig{MessageID: string(id), TemplateData: v})
}

// placeholderMark surrounds a placeholder's name in a message rendered by
// split; catalog text never holds a NUL.
const placeholderMark = "\x00"

// split renders message id in lang once, with every placeholder replaced by
// its marked name, and cuts the result into parts. The catalogs allow no
// template action but {{.Name}} (checked when loaded), so filling the parts
// gives what go-i18n's template would, without running one per call.
func (c *Catalog) split(lang, id string, names []string) []part {
	marks := make(map[string]any, len(names))
	for _, name := range names {
		marks[name] = placeholderMark + name + placeholderMark
	}
	var parts []part
	rest := c.localize(lang, &i18n.LocalizeConfig{MessageID: id, TemplateData: marks})
	for rest != "" {
		text, after, found := strings.Cut(rest, placeholderMark)
		if text != "" {
			parts = append(parts, part{text: text})
		}
		if !found {
			break
		}
		name, after, _ := strings.Cut(after, placeholderMark)
		parts = append(parts, part{name: name})
		rest = after
	}
	return parts
}

// fill writes parts with the values v, as text/template prints them.
func fill(parts []part, v vars) string {
	var b strings.Builder
	for _, p := range parts {
		if p.name == "" {
			b.WriteString(p.text)
			continue
		}
		x := v[p.name]
		if str, isString := x.(string); isString {
			b.WriteString(str)
		} else if x != nil {
			fmt.Fprint(&b, x)
		} else {
			b.WriteString("<no value>") // a value left out, as text/template writes it
		}
	}
	return b.String()
}

// plural renders the plural form of message id for count n; v.Count is n.
func (c *Catalog) plural(lang string, id msg, n int, v vars) string {
	if v == nil {
		v = vars{}
	}
	v["Count"] = n
	return c.localize(lang, &i18n.LocalizeConfig{MessageID: string(id), TemplateData: v, PluralCount: n})
}

func (c *Catalog) localize(lang string, cfg *i18n.LocalizeConfig) string {
	loc, ok := c.localizers[lang]
	if !ok {
		loc = c.localizers["en"]
	}
	// go-i18n returns English, with an error, for a message a language
	// lacks; the catalog tests make sure none does.
	s, err := loc.Localize(cfg)
	if s == "" && err != nil {
		return cfg.MessageID // shows which message is missing, and never panics
	}
	return s
}
