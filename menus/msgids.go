package menus

// msg identifies one user-facing text. Every text the phone shows lives in
// the catalogs (locales/<lang>.json) and nowhere else; locales/en.json
// describes each message for translators.
type msg string

const (
	msgUnavailable  msg = "unavailable"
	msgSessionError msg = "session.error"
	msgNav          msg = "nav"
	msgNavMore      msg = "nav.more"

	msgLanguageName  msg = "language.name"
	msgLanguageTitle msg = "language.title"
	msgLanguageSaved msg = "language.saved"

	msgMainTitle     msg = "main.title"
	msgMainItem      msg = "main.item"
	msgInvalidChoice msg = "main.invalid"
	msgItemCheck     msg = "main.check"
	msgItemClaims    msg = "main.claims"
	msgItemRenew     msg = "main.renew"
	msgItemLanguage  msg = "main.language"

	msgAskCHFID    msg = "chfid.ask"
	msgCHFIDFormat msg = "chfid.format"
	msgNoInsuree   msg = "chfid.unknown"

	msgNumber     msg = "membership.number"
	msgMaskedWord msg = "membership.masked"
	msgNoPolicy   msg = "membership.nopolicy"
	msgMore       msg = "list.more"

	msgCovered          msg = "policy.covered"
	msgCoveredUntil     msg = "policy.covered.until"
	msgNotYetActive     msg = "policy.idle"
	msgNotYetActiveFrom msg = "policy.idle.from"
	msgExpired          msg = "policy.expired"
	msgExpiredOn        msg = "policy.expired.on"
	msgSuspended        msg = "policy.suspended"
	msgNotCovered       msg = "policy.unknown"

	msgNoClaims        msg = "claims.none"
	msgClaimsHeader    msg = "claims.header"
	msgClaimEntry      msg = "claims.entry"
	msgClaimRejected   msg = "claim.status.1"
	msgClaimEntered    msg = "claim.status.2"
	msgClaimChecked    msg = "claim.status.4"
	msgClaimProcessed  msg = "claim.status.8"
	msgClaimValuated   msg = "claim.status.16"
	msgClaimStatusCode msg = "claim.status.other"
	msgClaimApproved   msg = "claim.approved"
	msgClaimValued     msg = "claim.valued"
	msgClaimsPrivate   msg = "claims.private"

	msgLookupLimit msg = "lookup.limit"
	msgWaitMinutes msg = "wait.minutes"
	msgWaitHours   msg = "wait.hours"

	msgRenewAsk           msg = "renew.ask"
	msgRenewNoPolicy      msg = "renew.nopolicy"
	msgRenewExists        msg = "renew.exists"
	msgRenewNotRenewable  msg = "renew.notrenewable"
	msgRenewNoProduct     msg = "renew.noproduct"
	msgRenewNoMembers     msg = "renew.nomembers"
	msgRenewNotOfficer    msg = "renew.notofficer"
	msgRenewReceiptUsed   msg = "renew.receiptused"
	msgRenewOutsideArea   msg = "renew.outsidearea"
	msgRenewInvalid       msg = "renew.invalid"
	msgRenewLost          msg = "renew.lost"
	msgRenewExpires       msg = "renew.expires"
	msgRenewExpired       msg = "renew.expired"
	msgRenewDue           msg = "renew.due"
	msgRenewDueFor        msg = "renew.due.for"
	msgRenewReceiptAsk    msg = "renew.receipt.ask"
	msgRenewReceiptFormat msg = "renew.receipt.format"
	msgRenewReceipt       msg = "renew.receipt"
	msgRenewAmountAsk     msg = "renew.amount.ask"
	msgRenewAmountFormat  msg = "renew.amount.format"
	msgRenewAmountZero    msg = "renew.amount.positive"
	msgRenewAmountLarge   msg = "renew.amount.large"
	msgRenewAmountHigh    msg = "renew.amount.high"
	msgRenewConfirmTitle  msg = "renew.confirm.title"
	msgRenewConfirm       msg = "renew.confirm"
	msgRenewPolicy        msg = "renew.policy"
	msgRenewPaid          msg = "renew.paid"
	msgRenewPartial       msg = "renew.partial"
	msgRenewDone          msg = "renew.done"
	msgRenewRepeated      msg = "renew.repeated"
	msgRenewPeriod        msg = "renew.period"
	msgRenewActive        msg = "renew.status.active"
	msgRenewReady         msg = "renew.status.ready"
	msgRenewIdle          msg = "renew.status.idle"

	msgRenewSMSOfficerActive msg = "renew.sms.officer.active"
	msgRenewSMSOfficerReady  msg = "renew.sms.officer.ready"
	msgRenewSMSOfficerIdle   msg = "renew.sms.officer.idle"
	msgRenewSMSHeadActive    msg = "renew.sms.head.active"
	msgRenewSMSHeadReady     msg = "renew.sms.head.ready"
	msgRenewSMSHeadIdle      msg = "renew.sms.head.idle"

	msgSMSHelp        msg = "sms.help"
	msgSMSUsage       msg = "sms.usage"
	msgSMSUsageRenew  msg = "sms.usage.renew"
	msgSMSUsageCheck  msg = "sms.usage.check"
	msgSMSUsageClaims msg = "sms.usage.claims"
	msgSMSUsageLang   msg = "sms.usage.lang"
	msgSMSUsageHelp   msg = "sms.usage.help"
	msgSMSUsageDue    msg = "sms.usage.due"

	msgReminderFamily  msg = "reminder.family"
	msgReminderDue     msg = "reminder.due"
	msgReminderDueLine msg = "reminder.due.line"
	msgReminderDueNone msg = "reminder.due.none"

	msgFormatDate   msg = "format.date"
	msgFormatNumber msg = "format.number"
	msgFormatAmount msg = "format.amount"
	msgFormatDigits msg = "format.digits"

	msgJan msg = "month.1"
	msgFeb msg = "month.2"
	msgMar msg = "month.3"
	msgApr msg = "month.4"
	msgMay msg = "month.5"
	msgJun msg = "month.6"
	msgJul msg = "month.7"
	msgAug msg = "month.8"
	msgSep msg = "month.9"
	msgOct msg = "month.10"
	msgNov msg = "month.11"
	msgDec msg = "month.12"
)

var monthMsgs = [12]msg{msgJan, msgFeb, msgMar, msgApr, msgMay, msgJun, msgJul, msgAug, msgSep, msgOct, msgNov, msgDec}

// vars are the named values a message's placeholders ({{.Name}}) take.
type vars map[string]any
