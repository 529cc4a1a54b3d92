package policystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openimis/imis-gateway/openimis"
)

// The renewal rules are openimis.PlanRenewal's and RenewalPlan.Pay's; this
// file reads what they decide on and writes what they decided, in one
// transaction.

// RenewalQuote resolves an insurance number to the renewal officer would
// write today (openimis.PlanRenewal): the family, its previous policy and
// the product, the new period and the amount due. Refusals are
// *openimis.RefusalError. The family's area is checked against the
// officer's as the officer index has it (Officer.Covers); Renew checks it
// again against the database as it is then.
func (s *Store) RenewalQuote(ctx context.Context, officer openimis.Officer, chfid, productCode string, today time.Time) (openimis.RenewalQuote, error) {
	chfid, productCode = strings.TrimSpace(chfid), strings.TrimSpace(productCode)
	if err := s.checkCHFID(chfid); err != nil {
		return openimis.RenewalQuote{}, err
	}
	if today.IsZero() {
		return openimis.RenewalQuote{}, openimis.Refuse(openimis.ReasonInvalidRequest, "no date")
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	fam, _, err := s.loadFamily(ctx, s.pool, chfid, productCode, false)
	if err != nil {
		return openimis.RenewalQuote{}, err
	}
	p, err := openimis.PlanRenewal(fam, officer, chfid, productCode, today)
	if err != nil {
		return openimis.RenewalQuote{}, err
	}
	return p.Quote, nil
}

// checkCHFID refuses what cannot be an insurance number before it reaches
// PostgreSQL.
func (s *Store) checkCHFID(chfid string) error {
	if !s.validCHFID(chfid) {
		return openimis.Refuse(openimis.ReasonUnknownNumber, "not an insurance number")
	}
	return nil
}

// validCHFID tells whether chfid could be an insurance number at all.
// PostgreSQL rejects NUL bytes and invalid UTF-8 in text parameters, and no
// stored number is longer than the column: such input is an unknown number,
// not a database error.
func (s *Store) validCHFID(chfid string) bool {
	return chfid != "" && utf8.ValidString(chfid) && !strings.ContainsRune(chfid, 0) &&
		(s.cols.CHFIDMaxLen <= 0 || utf8.RuneCountInString(chfid) <= s.cols.CHFIDMaxLen)
}

// Columns of the family queries. All three are keyed by the insurance
// number, so that they go to PostgreSQL in one batch (one round trip); the
// oldest current insuree with the number answers, as in Coverage.
const familyCTE = `
WITH q AS (
  SELECT "FamilyID" FROM "tblInsuree"
  WHERE "CHFID" = $1 AND "ValidityTo" IS NULL
  ORDER BY "InsureeID" LIMIT 1
)`

// membersSQL lists the family's current members; %s is the insuree status
// column where it exists ("tblInsuree"."status", Django insuree 0017).
const membersSQL = familyCTE + `
SELECT f."FamilyID", f."InsureeID", COALESCE(f."LocationId", 0), i."InsureeID", COALESCE(i."CHFID", ''), i."LastName", i."OtherNames",
       COALESCE(i."Phone", ''), i."IsHead", i."DOB", COALESCE(i."Relationship", 0), i."ValidityFrom", %s
FROM q
JOIN "tblFamilies" f ON f."FamilyID" = q."FamilyID" AND f."ValidityTo" IS NULL
JOIN "tblInsuree" i ON i."FamilyID" = f."FamilyID" AND i."ValidityTo" IS NULL
ORDER BY i."InsureeID"`

const policiesSQL = familyCTE + `
SELECT p."PolicyID", p."ProdID", COALESCE(p."PolicyStatus", 0), COALESCE(p."PolicyStage", ''),
       p."StartDate", p."ExpiryDate"
FROM q JOIN "tblPolicy" p ON p."FamilyID" = q."FamilyID" AND p."ValidityTo" IS NULL
ORDER BY p."PolicyID"`

// productsSQL reads the products of the family's policies and the product
// asked for by code, with everything they convert to. UNION (not UNION ALL)
// makes a conversion loop end.
const productsSQL = `
WITH RECURSIVE q AS (
  SELECT "FamilyID" FROM "tblInsuree"
  WHERE "CHFID" = $1 AND "ValidityTo" IS NULL
  ORDER BY "InsureeID" LIMIT 1
), reach(id) AS (
  SELECT p."ProdID" FROM q JOIN "tblPolicy" p ON p."FamilyID" = q."FamilyID" AND p."ValidityTo" IS NULL
  UNION
  SELECT "ProdID" FROM "tblProduct" WHERE $2 <> '' AND upper("ProductCode") = upper($2) AND "ValidityTo" IS NULL
  UNION
  SELECT pr."ConversionProdID" FROM reach JOIN "tblProduct" pr ON pr."ProdID" = reach.id
  WHERE pr."ConversionProdID" IS NOT NULL
)
SELECT pr."ProdID", pr."ProductCode", pr."ProductName", pr."ValidityTo" IS NULL, pr."DateFrom", pr."DateTo",
       COALESCE(pr."ConversionProdID", 0), pr."InsurancePeriod", pr."LumpSum", pr."MemberCount",
       COALESCE(pr."Threshold", 0), pr."PremiumAdult", pr."PremiumChild",
       pr."GeneralAssemblyLumpSum", pr."GeneralAssemblyFee", COALESCE(pr."GracePeriodRenewal", 0),
       COALESCE(pr."RenewalDiscountPerc", 0), COALESCE(pr."RenewalDiscountPeriod", 0),
       COALESCE(pr."StartCycle1", ''), COALESCE(pr."StartCycle2", ''),
       COALESCE(pr."StartCycle3", ''), COALESCE(pr."StartCycle4", '')
FROM reach JOIN "tblProduct" pr ON pr."ProdID" = reach.id
ORDER BY pr."ProdID"`

// activationSQL: "ActivationOption" 3 activates paid policies to Ready (16)
// instead of Active (docs/openimis.md, "The tables"; docs/renewals.md, "Idle, Active or Ready").
const activationSQL = `SELECT COALESCE((SELECT "ActivationOption" FROM "tblIMISDefaults" ORDER BY "DefaultID" LIMIT 1), 2)`

// querier is a pool or a transaction.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// loadFamily reads the family of chfid, its policies and the products
// involved (openimis.Family), and, when withActivation is set, the
// scheme's "ActivationOption", in one round trip. No current insuree with
// the number is refused as an unknown number.
func (s *Store) loadFamily(ctx context.Context, q querier, chfid, productCode string, withActivation bool) (openimis.Family, int, error) {
	status := "NULL::text"
	if s.cols.InsureeStatus {
		status = `i."status"`
	}
	b := &pgx.Batch{}
	fam := openimis.Family{Products: map[int]openimis.Product{}}
	activation := 2
	b.Queue(fmt.Sprintf(membersSQL, status), chfid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				m   openimis.FamilyMember
				dob *time.Time
				st  *string
				rel int16
			)
			if err := rows.Scan(&fam.ID, &fam.HeadID, &fam.Location, &m.InsureeID, &m.CHFID, &m.LastName, &m.OtherNames,
				&m.Phone, &m.IsHead, &dob, &rel, &m.ValidityFrom, &st); err != nil {
				return err
			}
			m.DOB = derefTime(dob)
			if st != nil {
				m.Status = strings.ToUpper(strings.TrimSpace(*st))
			}
			m.Relationship = int(rel)
			fam.Members = append(fam.Members, m)
		}
		return rows.Err()
	})
	b.Queue(policiesSQL, chfid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				p      openimis.FamilyPolicy
				status int16
				expiry *time.Time
			)
			if err := rows.Scan(&p.ID, &p.ProductID, &status, &p.Stage, &p.Start, &expiry); err != nil {
				return err
			}
			p.Status = int(status)
			p.Expiry = derefTime(expiry)
			fam.Policies = append(fam.Policies, p)
		}
		return rows.Err()
	})
	b.Queue(productsSQL, chfid, productCode).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				p                              openimis.Product
				period, memberCount            int16
				threshold, grace, perc, months int32
			)
			if err := rows.Scan(&p.ID, &p.Code, &p.Name, &p.Current, &p.DateFrom, &p.DateTo, &p.ConversionID,
				&period, &p.Pricing.LumpSum, &memberCount, &threshold, &p.Pricing.PremiumAdult, &p.Pricing.PremiumChild,
				&p.Pricing.GeneralAssemblyLumpSum, &p.Pricing.GeneralAssemblyFee, &grace, &perc, &months,
				&p.Cycles[0], &p.Cycles[1], &p.Cycles[2], &p.Cycles[3]); err != nil {
				return err
			}
			p.InsurancePeriod, p.GraceRenewal = int(period), int(grace)
			p.Pricing.MemberCount, p.Pricing.Threshold = int(memberCount), int(threshold)
			p.Pricing.RenewalDiscountPerc, p.Pricing.RenewalDiscountPeriod = int(perc), int(months)
			fam.Products[p.ID] = p
		}
		return rows.Err()
	})
	if withActivation {
		b.Queue(activationSQL).QueryRow(func(row pgx.Row) error {
			var v int16
			err := row.Scan(&v)
			activation = int(v)
			return err
		})
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return openimis.Family{}, 0, fmt.Errorf("policystore: read family of %s: %w", chfid, err)
	}
	if len(fam.Members) == 0 {
		return openimis.Family{}, 0, openimis.Refuse(openimis.ReasonUnknownNumber, "no current insuree %s", chfid)
	}
	return fam, activation, nil
}

// Renew writes a renewal confirmed by an officer, exactly once, in one
// transaction with the family's row locked (docs/renewals.md, "The write set, in one transaction"):
//
//   - "tblPolicy": stage 'R', status and "EffectiveDate" as
//     openimis.RenewalPlan.Pay decides (Active, Ready or Idle); new
//     lower-case UUID; "Source" the channel;
//   - "tblInsureePolicy": one row per covered member, with the policy's dates;
//   - "tblPremium": the payment, "PayType" 'C', "isPhotoFee" false;
//   - "tblPolicyRenewals": the previous policy's reminders closed
//     ("ResponseStatus" 1, "ResponseDate" and "ValidityTo" now);
//   - imis_gateway.renewal: the gateway's log, which makes the write
//     idempotent;
//   - imis_gateway.outbox: the confirmation SMS to the officer and, when a
//     phone is on record, to the family head, worded by req.Messages.
//
// The same RequestKey, or the same receipt for the same family and product,
// returns the earlier result with Repeated set and writes nothing. A receipt
// already on a current premium of the product (docs/renewals.md, "Idle, Active or Ready") refuses
// with ErrReceiptUsed, as does every other refusal of RenewalQuote, and
// ErrNotOfficer when OfficerPhone is no current officer's. The officer and
// the area are checked against the database inside the transaction, with
// the family locked, before an earlier result is looked for: an officer
// whose villages were withdrawn a moment ago gets ErrOutsideArea, and
// neither the renewal nor the family's names. An amount above the value by
// more than MaxOverpayment refuses with ErrAmountTooHigh, which carries the
// value (RefusalError.Due). A request without Messages is an error, and
// nothing is written.
func (s *Store) Renew(ctx context.Context, req openimis.RenewalRequest) (openimis.RenewalResult, error) {
	if err := s.checkRequest(&req); err != nil {
		return openimis.RenewalResult{}, err
	}
	officer, ok, err := s.OfficerByPhone(ctx, req.OfficerPhone, req.Today)
	if err != nil {
		return openimis.RenewalResult{}, err
	}
	if !ok {
		return openimis.RenewalResult{}, openimis.Refuse(openimis.ReasonNotOfficer, "no current officer has the phone")
	}

	// The family lock may queue behind other renewals of the family; two
	// query timeouts bound the whole transaction.
	ctx, cancel := context.WithTimeout(ctx, 2*s.queryTimeout)
	defer cancel()
	res, plan, err := s.renewTx(ctx, req, officer)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" &&
		(pgErr.ConstraintName == "renewal_request_key_key" || pgErr.ConstraintName == "renewal_family_product_receipt_key") {
		// A concurrent request with the same key (for another family, so
		// not serialised by the family lock) committed first.
		if earlier, found, lerr := s.earlierRenewal(ctx, s.pool, req.RequestKey, plan.Quote.FamilyID, plan.Quote.ProductID, req.Receipt); lerr == nil && found {
			return earlier, nil
		}
		return openimis.RenewalResult{}, openimis.Refuse(openimis.ReasonReceiptUsed, "receipt %q: %s", req.Receipt, pgErr.ConstraintName)
	}
	return res, err
}

// errNoMessages: the store words no SMS itself; errNoSMSProvider: nor does
// it know who sends them.
var (
	errNoMessages    = errors.New("policystore: renew: the request has no Messages to word its confirmation SMS")
	errNoSMSProvider = errors.New("policystore: renew: the request names no SMSProvider to send its confirmation SMS")
)

func (s *Store) checkRequest(req *openimis.RenewalRequest) error {
	if req.Messages == nil {
		return errNoMessages
	}
	req.CHFID = strings.TrimSpace(req.CHFID)
	if err := s.checkCHFID(req.CHFID); err != nil {
		return err
	}
	if err := req.Normalize(); err != nil {
		return err
	}
	if req.SMSProvider == "" {
		return errNoSMSProvider
	}
	return nil
}

// lockFamilySQL locks the family of the insurance number: renewals of one
// family queue here, and each sees what the previous one committed. It
// reads the family's village for the officer's area.
const lockFamilySQL = `
SELECT f."FamilyID", COALESCE(f."LocationId", 0)
FROM "tblInsuree" i JOIN "tblFamilies" f ON f."FamilyID" = i."FamilyID" AND f."ValidityTo" IS NULL
WHERE i."CHFID" = $1 AND i."ValidityTo" IS NULL
ORDER BY i."InsureeID" LIMIT 1
FOR UPDATE OF f`

// Receipts are unique per product among current premiums (docs/renewals.md, "Idle, Active or Ready").
// Two families paying with the same receipt are not serialised by the family
// lock, so the check holds a transaction lock on the product and receipt.
const (
	lockReceiptSQL = `SELECT pg_advisory_xact_lock(hashtextextended('imis_gateway.receipt:' || $1::int || ':' || $2::text, 0))`
	receiptSQL     = `
SELECT EXISTS (
  SELECT 1 FROM "tblPremium" pr JOIN "tblPolicy" pl ON pl."PolicyID" = pr."PolicyID"
  WHERE pr."Receipt" = $1 AND pr."ValidityTo" IS NULL AND pl."ProdID" = $2)`
)

const insertPolicySQL = `
INSERT INTO "tblPolicy" ("PolicyUUID", "FamilyID", "ProdID", "OfficerID", "PolicyStage", "PolicyStatus",
  "PolicyValue", "EnrollDate", "StartDate", "EffectiveDate", "ExpiryDate", "isOffline", "ValidityFrom",
  "AuditUserID", "Source", "SourceVersion"%s)
VALUES ($1, $2, $3, $4, 'R', $5, $6, $7, $8, $9, $10, false, now(), $11, $12, $13%s)
RETURNING "PolicyID"`

const insertInsureePoliciesSQL = `
INSERT INTO "tblInsureePolicy" ("InsureeID", "PolicyId", "EnrollmentDate", "StartDate", "EffectiveDate",
  "ExpiryDate", "isOffline", "ValidityFrom", "AuditUserID")
SELECT m, $2::int, $3::date, $4::date, $5::date, $6::date, false, now(), $7::int
FROM unnest($1::int[]) AS m ORDER BY m`

const insertPremiumSQL = `
INSERT INTO "tblPremium" ("PremiumUUID", "PolicyID", "PayerID", "Amount", "Receipt", "PayDate", "PayType",
  "isPhotoFee", "isOffline", "ValidityFrom", "AuditUserID", "CreatedDate", "Source", "SourceVersion")
VALUES ($1, $2, NULL, $3, $4, $5, 'C', false, false, now(), $6, $5, $7, $8)`

const closeRemindersSQL = `
UPDATE "tblPolicyRenewals" SET "ResponseStatus" = 1, "ResponseDate" = now(), "ValidityTo" = now()
WHERE "PolicyID" = $1 AND "ValidityTo" IS NULL`

const insertLogSQL = `
INSERT INTO imis_gateway.renewal (policy_id, policy_uuid, previous_policy_id, family_id, product_id,
  officer_id, chfid, receipt, amount, value, start_date, expiry_date, status, channel, request_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

// renewTx is Renew's transaction. It returns the plan too, for mapping a
// unique violation to the earlier renewal.
func (s *Store) renewTx(ctx context.Context, req openimis.RenewalRequest, officer openimis.Officer) (openimis.RenewalResult, openimis.RenewalPlan, error) {
	var none openimis.RenewalResult
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return none, openimis.RenewalPlan{}, fmt.Errorf("policystore: renew: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	// A caller that gives up closes its connection, but a statement already
	// running would go on holding the family lock: bound it on the server.
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", (2*s.queryTimeout).Milliseconds())); err != nil {
		return none, openimis.RenewalPlan{}, fmt.Errorf("policystore: renew: %w", err)
	}

	var familyID, location int
	if err := tx.QueryRow(ctx, lockFamilySQL, req.CHFID).Scan(&familyID, &location); errors.Is(err, pgx.ErrNoRows) {
		return none, openimis.RenewalPlan{}, openimis.Refuse(openimis.ReasonUnknownNumber, "no current insuree %s", req.CHFID)
	} else if err != nil {
		return none, openimis.RenewalPlan{}, fmt.Errorf("policystore: renew: lock family: %w", err)
	}
	officer, err = s.officerNow(ctx, tx, officer, familyID, location, req.Today)
	if err != nil {
		return none, openimis.RenewalPlan{}, err
	}

	// An earlier request wrote this renewal: answer as it did.
	if earlier, found, err := s.earlierForRequest(ctx, tx, req, familyID); err != nil || found {
		return earlier, openimis.RenewalPlan{}, err
	}

	fam, activation, err := s.loadFamily(ctx, tx, req.CHFID, req.ProductCode, true)
	if err != nil {
		return none, openimis.RenewalPlan{}, err
	}
	if fam.ID != familyID {
		return none, openimis.RenewalPlan{}, fmt.Errorf("policystore: renew: %s moved from family %d to %d meanwhile", req.CHFID, familyID, fam.ID)
	}
	plan, err := openimis.PlanRenewal(fam, officer, req.CHFID, req.ProductCode, req.Today)
	if err != nil {
		return none, openimis.RenewalPlan{}, err
	}
	q := plan.Quote
	pay, err := plan.Pay(req.Amount, req.MaxOverpayment, activation, req.Today)
	if err != nil {
		return none, plan, err
	}

	if _, err := tx.Exec(ctx, lockReceiptSQL, q.ProductID, req.Receipt); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: lock receipt: %w", err)
	}
	var used bool
	if err := tx.QueryRow(ctx, receiptSQL, req.Receipt, q.ProductID).Scan(&used); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: check receipt: %w", err)
	}
	if used {
		return none, plan, openimis.Refuse(openimis.ReasonReceiptUsed, "receipt %q is on a current premium of %s", req.Receipt, q.ProductCode)
	}

	res := openimis.RenewalResult{
		PolicyUUID: uuid.NewString(), CHFID: req.CHFID, FamilyID: q.FamilyID, HeadName: q.HeadName,
		ProductCode: q.ProductCode, ProductName: q.ProductName, Start: q.Start, Expiry: q.Expiry,
		Value: q.Value, Amount: req.Amount, Receipt: req.Receipt, Status: pay.Status, Active: pay.Status == openimis.PolicyActive,
	}
	var effective *time.Time
	if !pay.Effective.IsZero() {
		effective = &pay.Effective
	}

	creationCol, creationVal := "", ""
	if s.cols.PolicyCreationDate { // Django policy 0009; not in the 1.4.2 dump
		creationCol, creationVal = `, "creationDate"`, ", $7"
	}
	err = tx.QueryRow(ctx, fmt.Sprintf(insertPolicySQL, creationCol, creationVal),
		res.PolicyUUID, q.FamilyID, q.ProductID, officer.ID, int16(res.Status), q.Value, req.Today, q.Start,
		effective, q.Expiry, int32(req.AuditUserID), req.Channel, req.SourceVersion).Scan(&res.PolicyID)
	if err != nil {
		return none, plan, fmt.Errorf("policystore: renew: insert policy: %w", err)
	}
	ids := make([]int32, len(plan.Covered))
	for i, id := range plan.Covered {
		ids[i] = int32(id)
	}
	if _, err := tx.Exec(ctx, insertInsureePoliciesSQL, ids, res.PolicyID, req.Today, q.Start, effective, q.Expiry, int32(req.AuditUserID)); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: insert insuree policies: %w", err)
	}
	if _, err := tx.Exec(ctx, insertPremiumSQL, uuid.NewString(), res.PolicyID, req.Amount, req.Receipt, req.Today,
		int32(req.AuditUserID), req.Channel, req.SourceVersion); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: insert premium: %w", err)
	}
	if _, err := tx.Exec(ctx, closeRemindersSQL, q.PreviousPolicyID); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: close reminders: %w", err)
	}
	var key any
	if req.RequestKey != "" {
		key = req.RequestKey
	}
	if _, err := tx.Exec(ctx, insertLogSQL, res.PolicyID, res.PolicyUUID, q.PreviousPolicyID, q.FamilyID, q.ProductID,
		officer.ID, req.CHFID, req.Receipt, req.Amount, q.Value, q.Start, q.Expiry, int16(res.Status), req.Channel, key); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: log: %w", err)
	}
	if err := s.enqueueConfirmations(ctx, tx, req, res, officer.E164, q.HeadPhone); err != nil {
		return none, plan, err
	}
	if err := tx.Commit(ctx); err != nil {
		return none, plan, fmt.Errorf("policystore: renew: commit: %w", err)
	}
	return res, plan, nil
}

// officerNow re-reads the officer inside the transaction, the index being
// up to a refresh old, and refuses one who left or changed phone since
// (ErrNotOfficer), or whose area does not hold the family's village now
// (ErrOutsideArea). It returns the officer as the database says now: its
// phone in E.164, its last working day, and of its area, the family's
// village when it is in it.
func (s *Store) officerNow(ctx context.Context, tx pgx.Tx, officer openimis.Officer, familyID, location int, today time.Time) (openimis.Officer, error) {
	var (
		phone   string
		worksTo *time.Time
		covers  bool
	)
	err := tx.QueryRow(ctx, officerSQL, officer.ID, location).Scan(&phone, &worksTo, &covers)
	if errors.Is(err, pgx.ErrNoRows) {
		return openimis.Officer{}, openimis.Refuse(openimis.ReasonNotOfficer, "officer %s is no longer current", officer.Code)
	} else if err != nil {
		return openimis.Officer{}, fmt.Errorf("policystore: renew: read officer: %w", err)
	}
	e164, ok := openimis.NormalizePhone(phone, s.PhoneRegion())
	officer.WorksTo = derefTime(worksTo)
	if !ok || e164 != officer.E164 || !officer.Active(today) {
		return openimis.Officer{}, openimis.Refuse(openimis.ReasonNotOfficer, "officer %s changed phone or left", officer.Code)
	}
	if !covers {
		return openimis.Officer{}, openimis.OutsideArea(officer, familyID, location)
	}
	officer.Area = []int{location}
	return officer, nil
}

// enqueueConfirmations queues the SMS to the officer (unless the renewal
// came by SMS: the reply to the officer's RENEW says it all) and, when the
// head has a phone on record that is not the officer's, to the head, as
// req.Messages words them. An empty text fails the renewal.
func (s *Store) enqueueConfirmations(ctx context.Context, tx pgx.Tx, req openimis.RenewalRequest, res openimis.RenewalResult, officerE164, headPhone string) error {
	var msgs []OutboundSMS
	if req.Channel != openimis.ChannelSMS {
		msgs = append(msgs, OutboundSMS{
			Provider: req.SMSProvider, Recipient: officerE164, Body: req.Messages(res, openimis.RecipientOfficer),
			Purpose: "renewal.officer", DedupKey: "renewal:" + res.PolicyUUID + ":officer",
		})
	}
	if head, ok := openimis.NormalizePhone(headPhone, s.PhoneRegion()); ok && head != officerE164 {
		msgs = append(msgs, OutboundSMS{
			Provider: req.SMSProvider, Recipient: head, Body: req.Messages(res, openimis.RecipientHead),
			Purpose: "renewal.head", DedupKey: "renewal:" + res.PolicyUUID + ":head",
		})
	}
	for _, m := range msgs {
		if err := EnqueueSMS(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// earlierSQL reads a logged renewal with the names to show; %s is the
// filter.
const earlierSQL = `
SELECT r.policy_id, r.policy_uuid, r.chfid, r.family_id, r.receipt, r.amount, r.value, r.start_date,
       r.expiry_date, r.status, COALESCE(pr."ProductCode", ''), COALESCE(pr."ProductName", ''),
       COALESCE(h."OtherNames", ''), COALESCE(h."LastName", '')
FROM imis_gateway.renewal r
LEFT JOIN "tblProduct" pr ON pr."ProdID" = r.product_id
LEFT JOIN "tblFamilies" f ON f."FamilyID" = r.family_id AND f."ValidityTo" IS NULL
LEFT JOIN "tblInsuree" h ON h."InsureeID" = f."InsureeID"
WHERE %s
ORDER BY r.id LIMIT 1`

// The same receipt for the same family: the earlier renewal, if it was of
// the product asked for (by its code, or by the code of the policy it
// renewed, say an old product that converts).
var (
	earlierByKeySQL     = fmt.Sprintf(earlierSQL, `r.request_key = $1`)
	earlierByReceiptSQL = fmt.Sprintf(earlierSQL, `r.family_id = $1 AND r.receipt = $2 AND ($3 = ''
  OR upper(pr."ProductCode") = upper($3)
  OR EXISTS (SELECT 1 FROM "tblPolicy" pp JOIN "tblProduct" ppr ON ppr."ProdID" = pp."ProdID"
             WHERE pp."PolicyID" = r.previous_policy_id AND upper(ppr."ProductCode") = upper($3)))`)
	earlierByProductSQL = fmt.Sprintf(earlierSQL, `r.family_id = $1 AND r.product_id = $2 AND r.receipt = $3`)
)

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) earlierForRequest(ctx context.Context, q rowQuerier, req openimis.RenewalRequest, familyID int) (openimis.RenewalResult, bool, error) {
	if req.RequestKey != "" {
		if res, found, err := s.readEarlier(ctx, q, earlierByKeySQL, req.RequestKey); err != nil || found {
			return res, found, err
		}
	}
	return s.readEarlier(ctx, q, earlierByReceiptSQL, familyID, req.Receipt, req.ProductCode)
}

// earlierRenewal finds the renewal that beat this one to a unique constraint.
func (s *Store) earlierRenewal(ctx context.Context, q rowQuerier, key string, familyID, productID int, receipt string) (openimis.RenewalResult, bool, error) {
	if key != "" {
		if res, found, err := s.readEarlier(ctx, q, earlierByKeySQL, key); err != nil || found {
			return res, found, err
		}
	}
	return s.readEarlier(ctx, q, earlierByProductSQL, familyID, productID, receipt)
}

func (s *Store) readEarlier(ctx context.Context, q rowQuerier, sql string, args ...any) (openimis.RenewalResult, bool, error) {
	var (
		r           openimis.RenewalResult
		status      int16
		other, last string
	)
	err := q.QueryRow(ctx, sql, args...).Scan(&r.PolicyID, &r.PolicyUUID, &r.CHFID, &r.FamilyID, &r.Receipt,
		&r.Amount, &r.Value, &r.Start, &r.Expiry, &status, &r.ProductCode, &r.ProductName, &other, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return openimis.RenewalResult{}, false, nil
	}
	if err != nil {
		return openimis.RenewalResult{}, false, fmt.Errorf("policystore: renew: read earlier renewal: %w", err)
	}
	r.Status = int(status)
	r.Active = r.Status == openimis.PolicyActive
	r.HeadName = openimis.PersonName(other, last)
	r.Repeated = true
	return r, true, nil
}
