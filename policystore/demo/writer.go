package demo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

// writer inserts the demo rows inside Seed's transaction. PostgreSQL has no
// defaults for openIMIS columns (docs/openimis.md, "Current rows and ValidityTo"), so every NOT NULL
// column, and every boolean, is written explicitly.
type writer struct {
	tx    pgx.Tx
	cols  policystore.Columns
	today time.Time
	now   time.Time // "ValidityFrom" of current rows: the transaction's now()
	sum   *Summary

	location map[string]int32 // by code
	hf       map[string]int32
	product  map[string]int32
	officer  map[string]int32
	insuree  map[string]int32          // current row, by CHFID
	placed   map[string][]placedPolicy // by member's CHFID
	icds     []int32                   // "tblICDCodes" ids, where the table exists
}

// placedPolicy is a written policy, for the claims' deductible rows.
type placedPolicy struct {
	id                int32
	status            int16
	effective, expiry time.Time
}

type column struct {
	name  string
	value any
}

// insert writes one row and returns the value of the returning column (an
// integer key), or 0 when returning is empty.
func (w *writer) insert(ctx context.Context, table string, row []column, returning string) (int32, error) {
	names := make([]string, len(row))
	marks := make([]string, len(row))
	args := make([]any, len(row))
	for i, c := range row {
		names[i] = pgx.Identifier{c.name}.Sanitize()
		marks[i] = "$" + strconv.Itoa(i+1)
		args[i] = c.value
	}
	sql := "INSERT INTO " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(names, ", ") +
		") VALUES (" + strings.Join(marks, ", ") + ")"
	if returning == "" {
		if _, err := w.tx.Exec(ctx, sql, args...); err != nil {
			return 0, fmt.Errorf("demo: insert into %s: %w", table, err)
		}
		return 0, nil
	}
	var id int32
	if err := w.tx.QueryRow(ctx, sql+" RETURNING "+pgx.Identifier{returning}.Sanitize(), args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("demo: insert into %s: %w", table, err)
	}
	return id, nil
}

func (w *writer) seed(ctx context.Context) error {
	w.location = map[string]int32{}
	w.hf = map[string]int32{}
	w.product = map[string]int32{}
	w.officer = map[string]int32{}
	w.insuree = map[string]int32{}
	w.placed = map[string][]placedPolicy{}

	steps := []func(context.Context) error{
		w.locations, w.healthFacilities, w.products, w.officers, w.families, w.claims,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) locations(ctx context.Context) error {
	for _, l := range locations {
		var parent any
		if l.parent != "" {
			parent = w.location[l.parent]
		}
		id, err := w.insert(ctx, "tblLocations", []column{
			{"LocationUUID", uuidOf("location", l.code)},
			{"LocationCode", l.code},
			{"LocationName", l.name},
			{"LocationType", l.kind},
			{"ParentLocationId", parent},
			{"ValidityFrom", w.now},
			{"AuditUserId", auditUser},
		}, "LocationId")
		if err != nil {
			return err
		}
		w.location[l.code] = id
		w.sum.Locations++
	}
	return nil
}

func (w *writer) healthFacilities(ctx context.Context) error {
	for _, h := range healthFacilities {
		id, err := w.insert(ctx, "tblHF", []column{
			{"HfUUID", uuidOf("hf", h.code)},
			{"HFCode", h.code},
			{"HFName", h.name},
			{"HFLevel", h.level},
			{"HFCareType", h.care},
			{"LegalForm", h.form},
			{"LocationId", w.location[h.district]},
			{"Phone", h.phone},
			{"OffLine", false},
			{"ValidityFrom", w.now},
			{"AuditUserID", auditUser},
		}, "HfID")
		if err != nil {
			return err
		}
		w.hf[h.code] = id
		w.sum.HealthFacilities++
	}
	return nil
}

// orNull writes the zero value of a number as NULL.
func orNull[T int16 | int32 | int64](v T) any {
	if v == 0 {
		return nil
	}
	return v
}

func orNullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (w *writer) products(ctx context.Context) error {
	// Conversion targets first: CHF00 converts to FAM01, listed before it.
	for _, p := range products {
		var region, conversion any
		if p.region != "" {
			region = w.location[p.region]
		}
		if p.convertsTo != "" {
			conversion = w.product[p.convertsTo]
		}
		cycles := make([]any, 4)
		for i, c := range p.cycles {
			cycles[i] = c
		}
		year := w.today.Year()
		id, err := w.insert(ctx, "tblProduct", []column{
			{"ProdUUID", uuidOf("product", p.code)},
			{"ProductCode", p.code},
			{"ProductName", p.name},
			{"LocationId", region},
			{"DateFrom", time.Date(year-p.fromYears, time.January, 1, 0, 0, 0, 0, time.UTC)},
			{"DateTo", time.Date(year+p.toYears, time.December, 31, 0, 0, 0, 0, time.UTC)},
			{"ConversionProdID", conversion},
			{"InsurancePeriod", p.period},
			{"AdministrationPeriod", int32(0)},
			{"LumpSum", p.lumpSum},
			{"MemberCount", p.memberCount},
			{"Threshold", orNull(p.threshold)},
			{"PremiumAdult", p.adult},
			{"PremiumChild", p.child},
			{"GeneralAssemblyLumpSum", orNull(p.assembly)},
			{"GracePeriod", p.grace},
			{"GracePeriodRenewal", p.graceRenew},
			{"WaitingPeriod", orNull(p.waiting)},
			{"MaxInstallments", p.installs},
			{"RenewalDiscountPerc", orNull(p.renewPerc)},
			{"RenewalDiscountPeriod", orNull(p.renewPeriod)},
			{"StartCycle1", cycles[0]},
			{"StartCycle2", cycles[1]},
			{"StartCycle3", cycles[2]},
			{"StartCycle4", cycles[3]},
			{"MaxInsuree", orNull(p.maxInsuree)},
			{"MaxPolicy", orNull(p.maxPolicy)},
			{"MaxPolicyExtraMember", orNull(p.maxExtraMember)},
			{"MaxCeilingPolicy", orNull(p.maxCeiling)},
			{"MaxNoConsultation", orNull(p.maxConsultations)},
			{"MaxNoHospitalizaion", orNull(p.maxHospitalizations)}, // sic
			{"ValidityFrom", w.now},
			{"AuditUserID", auditUser},
		}, "ProdID")
		if err != nil {
			return err
		}
		w.product[p.code] = id
		w.sum.Products++
	}
	return nil
}

func (w *writer) officers(ctx context.Context) error {
	// EO002 is written before EO009, whose substitute it is.
	for _, o := range officers {
		var worksTo, substitute any
		if o.worksTo != nil {
			worksTo = (*o.worksTo)(w.today)
		}
		if o.substitute != "" {
			substitute = w.officer[o.substitute]
		}
		id, err := w.insert(ctx, "tblOfficer", []column{
			{"OfficerUUID", uuidOf("officer", o.Code)},
			{"Code", o.Code},
			{"LastName", o.last},
			{"OtherNames", o.other},
			{"Phone", o.Phone},
			{"PhoneCommunication", true},
			{"LocationId", w.location[o.district]},
			{"OfficerIDSubst", substitute},
			{"WorksTo", worksTo},
			{"HasLogin", false},
			{"ValidityFrom", w.now},
			{"AuditUserID", auditUser},
		}, "OfficerID")
		if err != nil {
			return err
		}
		w.officer[o.Code] = id
		w.sum.Officers++
		for _, v := range o.villages {
			if _, err := w.insert(ctx, "tblOfficerVillages", []column{
				{"OfficerId", id},
				{"LocationId", w.location[v]},
				{"ValidityFrom", w.now},
				{"AuditUserID", auditUser},
			}, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// families writes each family with its members, then its policies. The
// family row and its head reference each other; the foreign keys are
// deferred to the commit (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations"), so the family is written with a
// placeholder head that is set once the head exists.
func (w *writer) families(ctx context.Context) error {
	for _, f := range families {
		head := f.members[0]
		familyID, err := w.insert(ctx, "tblFamilies", []column{
			{"FamilyUUID", uuidOf("family", head.chfid)},
			{"InsureeID", int32(0)},
			{"LocationId", w.location[f.village]},
			{"Poverty", f.poverty},
			{"FamilyType", "H"},
			{"FamilyAddress", f.address},
			{"isOffline", false},
			{"ValidityFrom", w.now},
			{"AuditUserID", auditUser},
			{"Source", source},
		}, "FamilyID")
		if err != nil {
			return err
		}
		w.sum.Families++
		for i, m := range f.members {
			id, err := w.insertInsuree(ctx, familyID, m, i == 0)
			if err != nil {
				return err
			}
			w.insuree[m.chfid] = id
			if i == 0 {
				if _, err := w.tx.Exec(ctx, `UPDATE "tblFamilies" SET "InsureeID" = $1 WHERE "FamilyID" = $2`, id, familyID); err != nil {
					return fmt.Errorf("demo: set family head: %w", err)
				}
			}
		}
		// Older versions are written after the current rows, so they get the
		// higher keys, as openIMIS's history copies do.
		for _, m := range f.members {
			if m.history != nil {
				if err := w.insertInsureeHistory(ctx, familyID, m); err != nil {
					return err
				}
			}
		}
		if err := w.policies(ctx, f, familyID); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) insureeRow(familyID int32, m member, isHead bool) []column {
	var rel any
	if m.rel != relHead {
		rel = m.rel
	}
	row := []column{
		{"FamilyID", familyID},
		{"CHFID", m.chfid},
		{"LastName", m.last},
		{"OtherNames", m.other},
		{"DOB", m.born(w.today)},
		{"Gender", m.gender},
		{"Marital", orNullString(m.marital)},
		{"IsHead", isHead},
		{"Phone", m.phone},
		{"Email", orNullString(m.email)},
		{"CardIssued", !m.noCard},
		{"Relationship", rel},
		{"HFID", w.hf[m.fsp]},
		{"isOffline", false},
		{"AuditUserID", auditUser},
		{"Source", source},
	}
	if w.cols.InsureeStatus { // Django insuree migration 0017; absent from the 1.4.2 dump
		if m.died != nil {
			row = append(row, column{"status", "DE"}, column{"status_date", m.died(w.today)})
		} else {
			row = append(row, column{"status", "AC"})
		}
	}
	return row
}

func (w *writer) insertInsuree(ctx context.Context, familyID int32, m member, isHead bool) (int32, error) {
	row := append(w.insureeRow(familyID, m, isHead),
		column{"InsureeUUID", uuidOf("insuree", m.chfid)},
		column{"ValidityFrom", w.now},
	)
	id, err := w.insert(ctx, "tblInsuree", row, "InsureeID")
	if err != nil {
		return 0, err
	}
	w.sum.Insurees++
	return id, nil
}

// insertInsureeHistory writes the version of the row before an edit: same
// CHFID, its own key and UUID, "ValidityTo" the moment of the edit and
// "LegacyID" the current row's key (docs/openimis.md, "Current rows and ValidityTo").
func (w *writer) insertInsureeHistory(ctx context.Context, familyID int32, m member) error {
	old := m
	old.last, old.phone = m.history.last, m.history.phone
	row := append(w.insureeRow(familyID, old, true),
		column{"InsureeUUID", uuidOf("insuree-history", m.chfid)},
		column{"ValidityFrom", at(m.history.from(w.today), 9, 0)},
		column{"ValidityTo", at(m.history.edited(w.today), 14, 30)},
		column{"LegacyID", w.insuree[m.chfid]},
	)
	if _, err := w.insert(ctx, "tblInsuree", row, "InsureeID"); err != nil {
		return err
	}
	w.sum.HistoryRows++
	return nil
}

func (w *writer) productByCode(code string) product {
	for _, p := range products {
		if p.code == code {
			return p
		}
	}
	panic("demo: unknown product " + code) // the data above is wrong
}

func (w *writer) policies(ctx context.Context, f family, familyID int32) error {
	byKey := map[string]placedPolicy{}
	for _, p := range f.policies {
		prod := w.productByCode(p.product)
		var start, expiry, prevExpiry time.Time
		switch {
		case p.start != nil:
			start = p.start(w.today)
			expiry = addMonths(start, int(prod.period)).AddDate(0, 0, -1)
		case p.expiry != nil:
			expiry = p.expiry(w.today)
			start = addMonths(expiry.AddDate(0, 0, 1), -int(prod.period))
		default:
			prevExpiry = byKey[p.after].expiry
			start = prevExpiry.AddDate(0, 0, 1)
			expiry = addMonths(start, int(prod.period)).AddDate(0, 0, -1)
		}
		enroll := start.AddDate(0, 0, -p.enrolBefore)
		var effective any
		if p.status != openimis.PolicyIdle {
			effective = start
		}
		var covered []member
		for _, m := range f.members {
			if !m.addedLater {
				covered = append(covered, m)
			}
		}
		value := policyValue(prod, covered, w.today, enroll, p.stage, prevExpiry)

		policyRow := []column{
			{"FamilyID", familyID},
			{"ProdID", w.product[p.product]},
			{"OfficerID", w.officer[p.officer]},
			{"PolicyStage", p.stage},
			{"PolicyValue", value},
			{"EnrollDate", enroll},
			{"StartDate", start},
			{"ExpiryDate", expiry},
			{"isOffline", false},
			{"AuditUserID", auditUser},
			{"Source", source},
		}
		if w.cols.PolicyCreationDate { // Django policy migration 0009; absent from the dump
			policyRow = append(policyRow, column{"creationDate", enroll})
		}
		policyID, err := w.insert(ctx, "tblPolicy", slices.Concat(policyRow, []column{
			{"PolicyUUID", uuidOf("policy", p.key)},
			{"PolicyStatus", p.status},
			{"EffectiveDate", effective},
			{"ValidityFrom", w.now},
		}), "PolicyID")
		if err != nil {
			return err
		}
		w.sum.Policies++
		placed := placedPolicy{id: policyID, status: p.status, expiry: expiry}
		if t, ok := effective.(time.Time); ok {
			placed.effective = t
		}
		byKey[p.key] = placed
		for _, m := range f.members {
			w.placed[m.chfid] = append(w.placed[m.chfid], placed)
		}

		// One "tblInsureePolicy" row per covered member, with the policy's
		// dates; a death cuts the member's coverage short, as Django's
		// disable_policies_of_insuree does (docs/openimis.md, "The tables").
		memberRows := map[string]int32{}
		for _, m := range covered {
			memberExpiry := expiry
			if m.died != nil {
				if d := m.died(w.today); d.Before(memberExpiry) {
					memberExpiry = d
				}
			}
			id, err := w.insert(ctx, "tblInsureePolicy", []column{
				{"InsureeID", w.insuree[m.chfid]},
				{"PolicyId", policyID},
				{"EnrollmentDate", enroll},
				{"StartDate", start},
				{"EffectiveDate", effective},
				{"ExpiryDate", memberExpiry},
				{"isOffline", false},
				{"ValidityFrom", w.now},
				{"AuditUserID", auditUser},
			}, "InsureePolicyID")
			if err != nil {
				return err
			}
			memberRows[m.chfid] = id
			w.sum.InsureePolicies++
		}

		var payDate time.Time
		if p.pay != nil {
			payDate = enroll.AddDate(0, 0, p.pay.daysAfter)
			amount := value
			if p.pay.partial > 0 {
				amount = p.pay.partial
			}
			// "isPhotoFee" false, never NULL: paid sums skip NULL (docs/renewals.md, "The write set, in one transaction").
			if _, err := w.insert(ctx, "tblPremium", []column{
				{"PremiumUUID", uuidOf("premium", p.key)},
				{"PolicyID", policyID},
				{"PayerID", nil},
				{"Amount", amount},
				{"Receipt", p.pay.receipt},
				{"PayDate", payDate},
				{"PayType", p.pay.payType},
				{"isPhotoFee", false},
				{"isOffline", false},
				{"ValidityFrom", w.now},
				{"AuditUserID", auditUser},
				{"CreatedDate", payDate},
				{"Source", source},
			}, ""); err != nil {
				return err
			}
			w.sum.Premiums++
		}

		if p.idleHistory {
			// Before the payment the policy was Idle without an effective
			// date; activation kept that version as history rows.
			from, to := at(enroll, 9, 0), at(payDate, 11, 30)
			if _, err := w.insert(ctx, "tblPolicy", slices.Concat(policyRow, []column{
				{"PolicyUUID", uuidOf("policy-history", p.key)},
				{"PolicyStatus", int16(openimis.PolicyIdle)},
				{"EffectiveDate", nil},
				{"ValidityFrom", from},
				{"ValidityTo", to},
				{"LegacyID", policyID},
			}), "PolicyID"); err != nil {
				return err
			}
			w.sum.HistoryRows++
			for _, m := range covered {
				if _, err := w.insert(ctx, "tblInsureePolicy", []column{
					{"InsureeID", w.insuree[m.chfid]},
					{"PolicyId", policyID},
					{"EnrollmentDate", enroll},
					{"StartDate", start},
					{"EffectiveDate", nil},
					{"ExpiryDate", expiry},
					{"isOffline", false},
					{"ValidityFrom", from},
					{"ValidityTo", to},
					{"LegacyID", memberRows[m.chfid]},
					{"AuditUserID", auditUser},
				}, "InsureePolicyID"); err != nil {
					return err
				}
				w.sum.HistoryRows++
			}
		}

		if p.reminder {
			// What the renewal batch writes 14 days before expiry
			// (policy_renewal_interval, docs/renewals.md, "The previous policy").
			o := officers[0]
			for _, c := range officers {
				if c.Code == p.officer {
					o = c
				}
			}
			if _, err := w.insert(ctx, "tblPolicyRenewals", []column{
				{"RenewalUUID", uuidOf("renewal", p.key)},
				{"RenewalPromptDate", expiry.AddDate(0, 0, -14)},
				{"RenewalDate", expiry.AddDate(0, 0, 1)},
				{"NewOfficerID", w.officer[o.Code]},
				{"PhoneNumber", o.Phone},
				{"SMSStatus", int16(0)},
				{"InsureeID", w.insuree[f.members[0].chfid]},
				{"PolicyID", policyID},
				{"NewProdID", w.product[p.product]},
				{"RenewalWarnings", int16(0)},
				{"ValidityFrom", w.now},
				{"AuditCreateUser", auditUser},
				{"ResponseStatus", int32(0)},
			}, ""); err != nil {
				return err
			}
			w.sum.Renewals++
		}
	}
	return nil
}

// policyValue is the contribution due, by the Django formula
// (policy/values.py, docs/renewals.md, "The value"): a lump sum for up to Threshold
// members plus the premium of each member above it, or a premium per member;
// members related as "Others" always pay their own premium; plus the general
// assembly fee; minus the renewal discount for an early renewal. Adults are
// 18 or older on the enrolment date.
func policyValue(p product, members []member, today, enroll time.Time, stage string, prevExpiry time.Time) int64 {
	majority := addYears(enroll, -18)
	var adults, children, otherAdults, otherChildren int64
	for _, m := range members {
		adult := m.born(today).Before(majority)
		switch {
		case m.rel == openimis.RelationOthers && adult:
			otherAdults++
		case m.rel == openimis.RelationOthers:
			otherChildren++
		case adult:
			adults++
		default:
			children++
		}
	}
	var extraAdults, extraChildren int64
	if t := int64(p.threshold); t > 0 {
		extraAdults = max(0, adults-t)
		extraChildren = max(0, children+adults-extraAdults-t)
	}
	var total int64
	if p.lumpSum > 0 {
		total = p.lumpSum + extraAdults*p.adult + extraChildren*p.child
	} else {
		total = (adults-extraAdults)*p.adult + (children-extraChildren)*p.child
	}
	total += otherAdults*p.adult + otherChildren*p.child
	value := total + p.assembly
	if stage == "R" && p.renewPerc > 0 &&
		!enroll.After(addMonths(prevExpiry.AddDate(0, 0, 1), -int(p.renewPeriod))) {
		value = value * int64(100-p.renewPerc) / 100
	}
	return value
}

func (w *writer) claims(ctx context.Context) error {
	if err := w.readDiagnoses(ctx); err != nil {
		return err
	}
	for _, c := range claims {
		from := w.today.AddDate(0, 0, -c.from)
		to := from.AddDate(0, 0, c.days)
		claimed := to.AddDate(0, 0, c.claimedAfter)
		var processed, approved, valuated any
		if c.processedAfter >= 0 {
			processed = claimed.AddDate(0, 0, c.processedAfter)
		}
		if c.approved >= 0 {
			approved = c.approved
		}
		if c.status == openimis.ClaimValuated {
			valuated = c.approved
		}
		review := int16(2) // not selected for review or feedback
		if c.status == openimis.ClaimEntered {
			review = 1 // idle
		}
		id, err := w.insert(ctx, "tblClaim", []column{
			{"ClaimUUID", uuidOf("claim", c.code)},
			{"ClaimCode", c.code},
			{"InsureeID", w.insuree[c.chfid]},
			{"HFID", w.hf[c.hf]},
			{"ICDID", w.diagnosis(c.icd)},
			{"ClaimCategory", orNullString(c.category)},
			{"DateFrom", from},
			{"DateTo", to},
			{"DateClaimed", claimed},
			{"DateProcessed", processed},
			{"ClaimStatus", int16(c.status)},
			{"Claimed", c.claimed},
			{"Approved", approved},
			{"Valuated", valuated},
			{"Explanation", orNullString(c.explanation)},
			{"Adjustment", orNullString(c.adjustment)},
			{"RejectionReason", orNull(c.rejection)},
			{"Feedback", false},
			{"FeedbackStatus", review},
			{"ReviewStatus", review},
			{"VisitType", c.visit},
			{"ValidityFrom", w.now},
			{"AuditUserID", auditUser},
		}, "ClaimID")
		if err != nil {
			return err
		}
		w.sum.Claims++
		if c.status != openimis.ClaimValuated {
			continue
		}
		// A valuated claim consumes the ceiling of the policy that covered it.
		var policyID any
		for _, p := range w.placed[c.chfid] {
			if p.status == openimis.PolicyActive && !from.Before(p.effective) && !from.After(p.expiry) {
				policyID = p.id
			}
		}
		if _, err := w.insert(ctx, "tblClaimDedRem", []column{
			{"PolicyID", policyID},
			{"InsureeID", w.insuree[c.chfid]},
			{"ClaimID", id},
			{"DedG", int64(0)},
			{"RemG", c.approved},
			{"ValidityFrom", w.now},
			{"AuditUserID", auditUser},
		}, ""); err != nil {
			return err
		}
	}
	return nil
}

// readDiagnoses reads the ids of openIMIS's ICD table. A restored openIMIS
// database has one, with a foreign key from "tblClaim"; the development
// schema has none and takes the demo's own numbers.
func (w *writer) readDiagnoses(ctx context.Context) error {
	var exists bool
	if err := w.tx.QueryRow(ctx, `SELECT to_regclass('"tblICDCodes"') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return err
	}
	rows, err := w.tx.Query(ctx, `SELECT "ICDID" FROM "tblICDCodes" WHERE "ValidityTo" IS NULL ORDER BY "ICDID"`)
	if err != nil {
		return fmt.Errorf("demo: diagnoses: %w", err)
	}
	w.icds, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("demo: diagnoses: %w", err)
	}
	return nil
}

// diagnosis maps a demo diagnosis to one the database has.
func (w *writer) diagnosis(demo int32) int32 {
	if len(w.icds) == 0 {
		return demo
	}
	return w.icds[int(demo)%len(w.icds)]
}
