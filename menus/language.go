package menus

import (
	"context"
	"fmt"
	"strings"
)

// "Language" (README.md, "The USSD menu"): the languages listed each in its own name,
// the choice remembered for the phone number (LanguageStore) and applied at
// once to the rest of the session (State.Lang).

func (e *Engine) languageView(c *call, _ *State) (view, error) {
	items := make([]string, len(languages))
	for i, lang := range languages {
		items[i] = c.item(i+1, e.cat.text(lang, msgLanguageName, nil))
	}
	return view{title: c.t(msgLanguageTitle, nil), body: strings.Join(items, "\n"), nav: c.t(msgNav, nil)}, nil
}

func (e *Engine) languageInput(c *call, _ State, in string) (step, error) {
	choice := menuChoice(in)
	if choice < 1 || choice > len(languages) {
		return step{notice: c.t(msgInvalidChoice, nil)}, nil
	}
	if err := e.setLanguage(c, languages[choice-1]); err != nil {
		return step{}, err
	}
	return step{home: true, notice: c.t(msgLanguageSaved, nil)}, nil
}

// setLanguage remembers lang for the call's phone and switches the call
// to it. A phone number that is no possible number (never one an aggregator
// sends) keeps the choice for the session only.
func (e *Engine) setLanguage(c *call, lang string) error {
	if key, ok := phoneKey(c.caller.Phone, e.opt.PhoneRegion); ok {
		if err := e.opt.Languages.SetLanguage(c.ctx, key, lang); err != nil {
			return fmt.Errorf("set language: %w", err)
		}
	}
	c.setLang(lang)
	return nil
}

// LanguageOf returns the language remembered for phone (as the aggregator
// sends it), or the default language when there is none, no LanguageStore,
// or a stored code this release does not speak. On a store failure it
// returns the default language and the error, so that the caller can log
// it and carry on: a language is a preference, not worth a failed session.
func (e *Engine) LanguageOf(ctx context.Context, phone string) (string, error) {
	key, ok := phoneKey(phone, e.opt.PhoneRegion)
	if e.opt.Languages == nil || !ok {
		return e.opt.DefaultLang, nil
	}
	lang, ok, err := e.opt.Languages.Language(ctx, key)
	if err != nil {
		return e.opt.DefaultLang, fmt.Errorf("language of caller: %w", err)
	}
	if !ok || !Supported(lang) {
		return e.opt.DefaultLang, nil
	}
	return lang, nil
}
