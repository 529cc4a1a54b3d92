package menus

import (
	"context"
	"fmt"
	"strings"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/openimis"
)

// SMS commands (README.md, "SMS"): a keyword, case-insensitive, then its
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

// SMSRequest is one inbound SMS.
type SMSRequest struct {
	From string // the sender, E.164
	Text string
	// Key is "<provider>:<provider message id>", unique per message: RENEW
	// writes its renewal once under "sms:"+Key, however often the provider
	// delivers the message (Africa's Talking retries for 12 hours). Empty
	// means no key (the receipt alone then makes RENEW idempotent).
	Key string
	// Provider is the aggregator the SMS came through; the reply and a
	// renewal's confirmation SMS go out through it.
	Provider string
}

// smsCommand is one command of the grammar. A new command is one more entry
// in smsCommands: a keyword, how many arguments it takes, a help line in
// the catalogs, and its run.
type smsCommand struct {
	keyword          string // upper case
	minArgs, maxArgs int
	usage            msg // the command's help line
	// officers: only a current enrolment officer's phone may use it (and
	// sees it in the help); anyone else is refused politely, whatever the
	// arguments.
	officers bool
	// run answers the command; an error is an infrastructure failure, never
	// a user mistake, which gets a reply.
	run func(c *call, args []string) (string, error)
}

const (
	// maxSMSInput bounds the text parsed: a concatenated SMS carries at most
	// a few hundred characters, and no command is longer than a line.
	maxSMSInput = 1024
	anyArgs     = maxSMSInput // HELP takes (and ignores) any words
)

// smsCommands is the grammar, in the order HELP lists it (README.md, "SMS").
func (e *Engine) smsCommands() []smsCommand {
	var cmds []smsCommand
	if e.renewals() {
		cmds = append(cmds, smsCommand{keyword: "RENEW", minArgs: 3, maxArgs: 4, usage: msgSMSUsageRenew, officers: true, run: e.smsRenew})
	}
	if e.opt.Due != nil && e.opt.Officers != nil {
		cmds = append(cmds, smsCommand{keyword: "DUE", maxArgs: 0, usage: msgSMSUsageDue, officers: true, run: e.smsDue})
	}
	cmds = append(cmds, smsCommand{keyword: "CHECK", minArgs: 1, maxArgs: 1, usage: msgSMSUsageCheck, run: e.smsCheck})
	if e.opt.Claims != nil {
		cmds = append(cmds, smsCommand{keyword: "CLAIMS", minArgs: 1, maxArgs: 1, usage: msgSMSUsageClaims, run: e.smsClaims})
	}
	if e.opt.Languages != nil {
		cmds = append(cmds, smsCommand{keyword: "LANG", minArgs: 1, maxArgs: 1, usage: msgSMSUsageLang, run: e.smsLang})
	}
	return append(cmds, smsCommand{keyword: "HELP", maxArgs: anyArgs, usage: msgSMSUsageHelp, run: e.smsHelp})
}

// SMS answers one inbound SMS. On an infrastructure failure (PostgreSQL,
// Redis) it returns the error with the localised "unavailable" reply, which
// the caller may send or retry later.
func (e *Engine) SMS(ctx context.Context, m SMSRequest) (SMSReply, error) {
	lang, err := e.LanguageOf(ctx, m.From)
	c := e.newCall(ctx, Caller{Phone: m.From, Provider: m.Provider, Budget: smsBudget}, lang)
	c.smsKey = m.Key
	if err != nil {
		return c.smsReply("", c.t(msgUnavailable, nil)), fmt.Errorf("sms: %w", err)
	}
	cmd, args := e.parseSMS(m.Text)
	if cmd == nil {
		help, _ := e.smsHelp(c, nil)
		return c.smsReply("", help), nil
	}
	if cmd.officers {
		ok, err := c.isOfficer()
		if err != nil {
			return c.smsReply(cmd.keyword, c.t(msgUnavailable, nil)), fmt.Errorf("sms %s: %w", cmd.keyword, err)
		}
		if !ok {
			return c.smsReply(cmd.keyword, c.t(msgRenewNotOfficer, nil)), nil
		}
	}
	if len(args) < cmd.minArgs || len(args) > cmd.maxArgs {
		return c.smsReply(cmd.keyword, c.usage(cmd.usage)), nil
	}
	reply, err := cmd.run(c, args)
	if err != nil {
		return c.smsReply(cmd.keyword, c.t(msgUnavailable, nil)), fmt.Errorf("sms %s: %w", cmd.keyword, err)
	}
	return c.smsReply(cmd.keyword, reply), nil
}

func (c *call) usage(id msg) string { return c.t(msgSMSUsage, vars{"Usage": c.t(id, nil)}) }

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

func (c *call) smsReply(command, text string) SMSReply {
	out, enc, n := c.fit.encode(text)
	_, _, parts := gsm7.Parts(out)
	return SMSReply{Text: out, Lang: c.lang, Command: command, Encoding: enc, Length: n, Parts: parts}
}

func (e *Engine) smsCheck(c *call, args []string) (string, error) {
	chfid := args[0]
	if !validCHFID(chfid, e.opt.CHFIDMaxLen) {
		return c.chfidFormat(), nil
	}
	text, _, err := e.membership(c, chfid)
	return text, err
}

func (e *Engine) smsClaims(c *call, args []string) (string, error) {
	chfid := args[0]
	if !validCHFID(chfid, e.opt.CHFIDMaxLen) {
		return c.chfidFormat(), nil
	}
	claims, denial, _, err := c.claimsFor(chfid, true)
	switch {
	case err != nil:
		return "", err
	case denial != "":
		return denial, nil
	case len(claims) == 0:
		return c.noClaims(chfid, ""), nil
	}
	return claimsSMS(c, claims), nil
}

func (e *Engine) smsLang(c *call, args []string) (string, error) {
	lang := strings.ToLower(args[0])
	if !Supported(lang) {
		return c.usage(msgSMSUsageLang), nil
	}
	if err := e.setLanguage(c, lang); err != nil {
		return "", err
	}
	return c.t(msgLanguageSaved, nil), nil
}

// smsHelp lists the commands the sender may use, one per line: RENEW only
// to an officer (a failing look-up leaves it out).
func (e *Engine) smsHelp(c *call, _ []string) (string, error) {
	parts := []string{c.t(msgSMSHelp, nil)}
	for _, cmd := range e.commands {
		if cmd.officers && !officerCalls(c) {
			continue
		}
		parts = append(parts, c.t(cmd.usage, nil))
	}
	return lines(parts...), nil
}

// smsRenew is RENEW <insurance no> <amount> <receipt no> [<product code>]
// (README.md, "SMS"), from an officer's phone (SMS checked that): the
// renewal written at once, as a confirmed USSD renewal is, and its result
// or the reason it was refused.
func (e *Engine) smsRenew(c *call, args []string) (string, error) {
	chfid, amountText, receipt, product := args[0], args[1], args[2], ""
	if len(args) == 4 {
		product = args[3]
	}
	if !validCHFID(chfid, e.opt.CHFIDMaxLen) {
		return c.chfidFormat(), nil
	}
	amount, problem := c.parseAmount(amountText)
	if problem != "" {
		// The amount and the receipt may have been swapped: the command
		// line helps then, where it fits the part.
		text := c.t(problem, nil)
		if withUsage := lines(text, c.usage(msgSMSUsageRenew)); problem == msgRenewAmountFormat && c.fit.fits(withUsage) {
			text = withUsage
		}
		return text, nil
	}
	if !validReceipt(receipt) {
		return c.t(msgRenewReceiptFormat, vars{"Max": receiptMax}), nil
	}
	r := Renewal{CHFID: chfid, Product: product, Receipt: receipt, Amount: int64(amount)}
	if product != "" && !validProductCode(product) {
		text, _ := c.refusal(openimis.ErrUnknownProduct, r, "")
		return text, nil
	}
	key := ""
	if c.smsKey != "" {
		key = "sms:" + c.smsKey
	}
	res, err := e.opt.Renewals.Renew(c.ctx, c.renewalRequest(openimis.ChannelSMS, key, chfid, product, receipt, amount))
	if text, over, err := c.countRenewalLookup(err); over || err != nil {
		return text, err
	}
	if text, refused := c.refusal(err, r, ""); refused {
		return text, nil
	}
	if err != nil {
		return "", fmt.Errorf("renew: %w", err)
	}
	return c.renewalResult(res), nil
}
