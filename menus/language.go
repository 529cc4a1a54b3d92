package menus

import (
	"context"
	"errors"
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

// Language is a language the gateway speaks: its code and its name in
// itself ("fr", "Français").
type Language struct{ Code, Name string }

// Languages lists the languages the engine speaks, in the Language menu's
// order, named by the engine's catalog.
func (e *Engine) Languages() []Language {
	out := make([]Language, len(languages))
	for i, lang := range languages {
		out[i] = Language{Code: lang, Name: e.cat.text(lang, msgLanguageName, nil)}
	}
	return out
}

// ErrNoLanguageStore is SetLanguageOf's error when the engine remembers no
// languages (Options.Languages is nil).
var ErrNoLanguageStore = errors.New("menus: no language store")

// SetLanguageOf remembers lang for phone (as the aggregator sends it), as
// the Language menu and SMS LANG do: the browser simulator's language picker
// uses it.
func (e *Engine) SetLanguageOf(ctx context.Context, phone, lang string) error {
	if e.opt.Languages == nil {
		return ErrNoLanguageStore
	}
	if !Supported(lang) {
		return fmt.Errorf("menus: language %q is not spoken", lang)
	}
	return e.setLanguage(e.newCall(ctx, Caller{Phone: phone}, lang), lang)
}
