package menus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/policystore"
)

// SMS commands (DESIGN.md §2.4): a keyword, case-insensitive, then its
// arguments, separated by any whitespace. Anything unrecognised gets the
// help text. Replies are in the sender's language and aim at one SMS part.

// SMSReply is the answer to one inbound SMS.
type SMSReply struct {
	Text string // as it is to be sent (already transliterated where that keeps it GSM-7)
	Lang string
	// Command is the keyword answered ("CHECK", ...), or "" when the help
	// text answers something unrecognised; for logs and metrics.
	Command  string
	Encoding gsm7.Encoding
	Length   int // in septets (GSM-7) or UTF-16 units (UCS-2)
	Parts    int // SMS parts the text takes (153 septets or 67 units each when more than one)
}

// smsCommand is one command of the grammar. A new command is one more entry
// in smsCommands; RENEW <insurance no> <amount> <receipt no> [<product
// code>], for instance, is keyword "RENEW", 3 to 4 arguments, a help line
// in the catalogs, and a run that first checks that the sender's phone is a
// current enrolment officer's.
type smsCommand struct {
	keyword          string // upper case
	minArgs, maxArgs int
	usage            msg // the command's help line
	// run answers the command; an error is an infrastructure failure, never
	// a user mistake, which gets a reply.
	run func(h *hop, args []string) (string, error)
}

const (
	// maxSMSInput bounds the text parsed: a concatenated SMS carries at most
	// a few hundred characters, and no command is longer than a line.
	maxSMSInput = 1024
	anyArgs     = maxSMSInput // HELP takes (and ignores) any words
)

func (e *Engine) smsCommands() []smsCommand {
	cmds := []smsCommand{{keyword: "CHECK", minArgs: 1, maxArgs: 1, usage: msgSMSUsageCheck, run: e.smsCheck}}
	if e.opt.Claims != nil {
		cmds = append(cmds, smsCommand{keyword: "CLAIMS", minArgs: 1, maxArgs: 1, usage: msgSMSUsageClaims, run: e.smsClaims})
	}
	if e.opt.Languages != nil {
		cmds = append(cmds, smsCommand{keyword: "LANG", minArgs: 1, maxArgs: 1, usage: msgSMSUsageLang, run: e.smsLang})
	}
	return append(cmds, smsCommand{keyword: "HELP", maxArgs: anyArgs, usage: msgSMSUsageHelp, run: e.smsHelp})
}

// SMS answers the SMS text received from the phone number from. On an
// infrastructure failure (PostgreSQL, Redis) it returns the error with the
// localised "unavailable" reply, which the caller may send or retry later.
func (e *Engine) SMS(ctx context.Context, from, text string) (SMSReply, error) {
	lang, err := e.LanguageOf(ctx, from)
	h := e.newHop(ctx, Caller{Phone: from, Budget: smsBudget}, lang)
	if err != nil {
		return h.smsReply("", h.t(msgUnavailable, nil)), fmt.Errorf("sms: %w", err)
	}
	cmd, args := e.parseSMS(text)
	if cmd == nil {
		help, _ := e.smsHelp(h, nil)
		return h.smsReply("", help), nil
	}
	if len(args) < cmd.minArgs || len(args) > cmd.maxArgs {
		return h.smsReply(cmd.keyword, h.t(msgSMSUsage, vars{"Usage": h.t(cmd.usage, nil)})), nil
	}
	reply, err := cmd.run(h, args)
	if err != nil {
		return h.smsReply(cmd.keyword, h.t(msgUnavailable, nil)), fmt.Errorf("sms %s: %w", cmd.keyword, err)
	}
	return h.smsReply(cmd.keyword, reply), nil
}

// parseSMS finds the command and its arguments; nil when there is none.
func (e *Engine) parseSMS(text string) (*smsCommand, []string) {
	if len(text) > maxSMSInput {
		return nil, nil
	}
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil, nil
	}
	for i := range e.commands {
		if strings.EqualFold(fields[0], e.commands[i].keyword) {
			return &e.commands[i], fields[1:]
		}
	}
	return nil, nil
}

func (h *hop) smsReply(command, text string) SMSReply {
	out, enc, n := h.fit.encode(text)
	_, _, parts := gsm7.Parts(out)
	return SMSReply{Text: out, Lang: h.lang, Command: command, Encoding: enc, Length: n, Parts: parts}
}

func (e *Engine) smsCheck(h *hop, args []string) (string, error) {
	chfid := args[0]
	if !validCHFID(chfid, e.opt.CHFIDMaxLen) {
		return h.chfidFormat(), nil
	}
	text, err := e.membership(h, chfid)
	if errors.Is(err, policystore.ErrInsureeNotFound) {
		return h.noInsuree(chfid), nil
	}
	return text, err
}

func (e *Engine) smsClaims(h *hop, args []string) (string, error) {
	chfid := args[0]
	if !validCHFID(chfid, e.opt.CHFIDMaxLen) {
		return h.chfidFormat(), nil
	}
	claims, err := h.loadClaims(chfid)
	switch {
	case errors.Is(err, policystore.ErrInsureeNotFound):
		return h.noInsuree(chfid), nil
	case err != nil:
		return "", err
	case len(claims) == 0:
		return h.noClaims(chfid, ""), nil
	}
	return claimsSMS(h, claims), nil
}

func (e *Engine) smsLang(h *hop, args []string) (string, error) {
	lang := strings.ToLower(args[0])
	if !Supported(lang) {
		return h.t(msgSMSUsage, vars{"Usage": h.t(msgSMSUsageLang, nil)}), nil
	}
	if err := e.setLanguage(h, lang); err != nil {
		return "", err
	}
	return h.t(msgLanguageSaved, nil), nil
}

// smsHelp lists the commands, one per line.
func (e *Engine) smsHelp(h *hop, _ []string) (string, error) {
	parts := []string{h.t(msgSMSHelp, nil)}
	for _, c := range e.commands {
		parts = append(parts, h.t(c.usage, nil))
	}
	return lines(parts...), nil
}
