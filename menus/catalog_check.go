package menus

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Checks on catalog files, for the built-in catalogs (tests) and for an
// implementer's overrides (at start-up).

// action matches a template action, placeholder the only kind a catalog may
// use ({{.Name}}): a catalog never runs template logic.
var (
	action      = regexp.MustCompile(`\{\{(.*?)\}\}`)
	placeholder = regexp.MustCompile(`^\.[A-Z][A-Za-z0-9]*$`)
)

// forms returns the plural forms a message defines, by CLDR name.
func forms(m *i18n.Message) map[string]string {
	all := map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other}
	maps.DeleteFunc(all, func(_, v string) bool { return v == "" })
	return all
}

// placeholders returns the names of the {{.Name}} placeholders of all forms
// of m, sorted, or an error for any other template action.
func placeholders(m *i18n.Message) ([]string, error) {
	set := map[string]bool{}
	for form, src := range forms(m) {
		if strings.ContainsRune(src, 0) {
			return nil, fmt.Errorf("%q (%s): a NUL character", m.ID, form) // it marks placeholders (Catalog.split)
		}
		for _, a := range action.FindAllStringSubmatch(src, -1) {
			name := strings.TrimSpace(a[1])
			if !placeholder.MatchString(name) {
				return nil, fmt.Errorf("%q (%s): %q: only placeholders like {{.Name}} are allowed", m.ID, form, a[0])
			}
			set[name[1:]] = true
		}
		if rest := action.ReplaceAllString(src, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
			return nil, fmt.Errorf("%q (%s): unbalanced {{ }}", m.ID, form)
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// checkOwn checks an English message on its own.
func checkOwn(m *i18n.Message) error {
	if m.Other == "" {
		return fmt.Errorf("%q: no text (\"other\")", m.ID)
	}
	if _, err := placeholders(m); err != nil {
		return err
	}
	return checkFormat(m)
}

// checkTranslation checks a translated (or overriding) message against the
// English one: the same placeholders, plural forms only where English has
// them, and a valid pattern for the format.* messages.
func checkTranslation(m, en *i18n.Message) error {
	if m.Other == "" {
		return fmt.Errorf("%q: no text (\"other\")", m.ID)
	}
	if _, plural := forms(en)["one"]; !plural && len(forms(m)) > 1 {
		return fmt.Errorf("%q: has plural forms, but the message takes no count", m.ID)
	}
	got, err := placeholders(m)
	if err != nil {
		return err
	}
	want, _ := placeholders(en)
	if !slices.Equal(got, want) {
		return fmt.Errorf("%q: placeholders %s, want %s (as in English)", m.ID, braces(got), braces(want))
	}
	return checkFormat(m)
}

func braces(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return "{{." + strings.Join(names, "}} {{.") + "}}"
}

// checkFormat validates the patterns of the format.* messages.
func checkFormat(m *i18n.Message) error {
	var err error
	switch msg(m.ID) {
	case msgFormatDate:
		_, err = parseDatePattern(m.Other)
	case msgFormatNumber:
		_, err = parseNumberPattern(m.Other)
	case msgFormatDigits:
		if m.Other != digitsLatin && m.Other != digitsDevanagari {
			err = fmt.Errorf("want %q or %q", digitsLatin, digitsDevanagari)
		}
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("%q: %q: %w", m.ID, m.Other, err)
	}
	return nil
}
