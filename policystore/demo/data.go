package demo

import (
	"strings"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// The demo data, as plain values. Everything is fixed except the dates that
// must stay true relative to the seeding day (policy periods, infants' birth
// dates, claims, the former officer's end of service).

// Relationship codes of "tblRelations" (openIMIS base data); 7 "Others"
// (openimis.RelationOthers) is left out of a lump sum's member count
// (docs/openimis.md, "The tables"; docs/renewals.md, "The value"). The head's relationship is NULL.
const (
	relParent int16 = 2 // Father/Mother
	relChild  int16 = 4 // Son/Daughter
	relSpouse int16 = 8 // Spouse
	relHead   int16 = 0 // the head: written as NULL
)

type location struct {
	code, name, kind, parent string // kind 'R','D','W','V'
}

var locations = []location{
	{"DOD", "Dodoma", "R", ""},
	{"DOD01", "Dodoma Mjini", "D", "DOD"},
	{"DOD0101", "Makole", "W", "DOD01"},
	{"DOD01011", "Makole Mashariki", "V", "DOD0101"},
	{"DOD01012", "Ipagala", "V", "DOD0101"},
	{"DOD0102", "Kikuyu Kusini", "W", "DOD01"},
	{"DOD01021", "Mwangaza", "V", "DOD0102"},
	{"DOD02", "Kondoa", "D", "DOD"},
	{"DOD0201", "Kolo", "W", "DOD02"},
	{"DOD02011", "Kolo", "V", "DOD0201"},
	{"DOD03", "Chamwino", "D", "DOD"},
	{"DOD0301", "Buigiri", "W", "DOD03"},
	{"DOD03011", "Buigiri", "V", "DOD0301"},
	{"DOD03012", "Chinangali", "V", "DOD0301"},
	{"MWZ", "Mwanza", "R", ""},
	{"MWZ01", "Ilemela", "D", "MWZ"},
	{"MWZ0101", "Buswelu", "W", "MWZ01"},
	{"MWZ01011", "Buswelu", "V", "MWZ0101"},
	{"MWZ01012", "Nyamadoke", "V", "MWZ0101"},
	{"MWZ0102", "Kirumba", "W", "MWZ01"},
	{"MWZ01021", "Kabuhoro", "V", "MWZ0102"},
	{"MWZ02", "Magu", "D", "MWZ"},
	{"MWZ0201", "Kisesa", "W", "MWZ02"},
	{"MWZ02011", "Kisesa", "V", "MWZ0201"},
	{"MWZ02012", "Ng'haya", "V", "MWZ0201"},
}

type healthFacility struct {
	code, name        string
	level, care, form string // level C/D/H; care I/O/B; legal form G government, C charity
	district, phone   string
}

var healthFacilities = []healthFacility{
	{"DDMRRH", "Dodoma Regional Referral Hospital", "H", "B", "G", "DOD01", "026 232 1851"},
	{"MKL001", "Makole Health Centre", "C", "B", "G", "DOD01", "026 232 4410"},
	{"KDA001", "Kondoa Town Council Health Centre", "C", "O", "G", "DOD02", "026 236 0121"},
	{"BSW001", "Buswelu Dispensary", "D", "O", "G", "MWZ01", "0282 570 311"},
	// 100 characters: the full width of "tblHF"."HFName".
	{"GDB001", "Hospitali Teule ya Rufaa ya Mtakatifu Gaspar Del Bufalo na Chuo cha Wauguzi na Wakunga, Kisesa, Magu", "H", "B", "C", "MWZ02", "0282 981 004"},
}

type product struct {
	code, name  string
	region      string // "" = national
	fromYears   int    // "DateFrom" = 1 January, this many years before the seeding year
	toYears     int    // "DateTo" = 31 December, this many years after (negative: before)
	convertsTo  string // "ConversionProdID"
	lumpSum     int64
	memberCount int16
	threshold   int32 // 0 = NULL
	adult       int64 // "PremiumAdult"
	child       int64 // "PremiumChild"
	assembly    int64 // "GeneralAssemblyLumpSum", 0 = NULL
	period      int16 // "InsurancePeriod", months
	grace       int32
	graceRenew  int32
	waiting     int32 // "WaitingPeriod" (payment grace), 0 = NULL
	installs    int32 // "MaxInstallments"
	renewPerc   int32 // "RenewalDiscountPerc", 0 = NULL
	renewPeriod int32 // "RenewalDiscountPeriod", months
	cycles      []string
	// ceilings and limits, 0 = NULL
	maxInsuree, maxPolicy, maxExtraMember, maxCeiling int64
	maxConsultations, maxHospitalizations             int32
}

// The marker of a seeded demo: the first product's UUID.
const markerProduct = "FAM01"

var products = []product{
	{
		code: "FAM01", name: "CHF Family Basic", fromYears: 3, toYears: 3,
		lumpSum: 30000, memberCount: 6, threshold: 4, adult: 5000, child: 3000, assembly: 2000,
		period: 12, grace: 1, graceRenew: 1, waiting: 2, installs: 3, renewPerc: 10, renewPeriod: 1,
		maxPolicy: 1500000, maxExtraMember: 250000, maxCeiling: 2500000,
		maxConsultations: 12, maxHospitalizations: 3,
	},
	{
		code: "IND01", name: "CHF Individual Plus", region: "MWZ", fromYears: 3, toYears: 3,
		lumpSum: 0, memberCount: 10, adult: 10000, child: 5000,
		period: 12, grace: 1, graceRenew: 2, installs: 1,
		cycles:     []string{"01-01", "01-07"},
		maxInsuree: 500000, maxConsultations: 8, maxHospitalizations: 2,
	},
	{
		// An old tariff, no longer sold: renewals move to FAM01.
		code: "CHF00", name: "CHF Family (old tariff)", fromYears: 7, toYears: -1, convertsTo: "FAM01",
		lumpSum: 20000, memberCount: 6, threshold: 6, adult: 4000, child: 2000,
		period: 12, grace: 1, graceRenew: 1, installs: 2,
		maxPolicy: 1000000,
	},
}

type officer struct {
	Officer
	last, other string
	district    string
	worksTo     *when // nil = NULL
	substitute  string
	villages    []string
}

func ptr[T any](v T) *T { return &v }

var officers = []officer{
	{
		Officer: Officer{Code: "EO001", Name: "Amina Mwakyusa", Phone: "0712 345 678", Current: true},
		last:    "Mwakyusa", other: "Amina", district: "DOD01",
		villages: []string{"DOD01011", "DOD01012", "DOD01021", "DOD03011", "DOD03012"},
	},
	{
		Officer: Officer{Code: "EO002", Name: "Baraka Joseph Massawe", Phone: "0754321098", Current: true},
		last:    "Massawe", other: "Baraka Joseph", district: "MWZ01",
		worksTo:  ptr(when(func(today time.Time) time.Time { return addYears(date(today), 2) })),
		villages: []string{"MWZ01011", "MWZ01012", "MWZ01021", "MWZ02011", "MWZ02012"},
	},
	{
		// Kolo only: renews family M (48213), is refused family F (604120019).
		Officer: Officer{Code: "EO003", Name: "Rose Upendo Komba", Phone: "+255 767 890 123", Current: true},
		last:    "Komba", other: "Rose Upendo", district: "DOD02",
		villages: []string{"DOD02011"},
	},
	{
		// No village: the whole of the Chamwino district, as openIMIS falls
		// back to the officer's location (families F and L).
		Officer: Officer{Code: "EO004", Name: "Daudi Elia Mollel", Phone: "0784 220 330", Current: true},
		last:    "Mollel", other: "Daudi Elia", district: "DOD03",
	},
	{
		// Left six months ago; EO002 took over his villages.
		Officer: Officer{Code: "EO009", Name: "Hamisi Rashidi Said", Phone: "0715 246 135", Current: false},
		last:    "Said", other: "Hamisi Rashidi", district: "MWZ02",
		worksTo:    ptr(monthsAgo(6)),
		substitute: "EO002",
	},
}

type member struct {
	chfid, other, last string
	gender, marital    string // marital "" = NULL
	born               when
	rel                int16 // relHead for the head
	phone              *string
	email              string
	noCard             bool   // "CardIssued" false
	fsp                string // first point of service, "tblInsuree"."HFID"
	died               when   // "status" 'DE' (where the column exists) and the coverage cut short
	addedLater         bool   // joined after the policies were made: no "tblInsureePolicy" rows
	history            *edit  // an older version of the row, kept with "ValidityTo" set
	show               *show  // listed in Catalogue
}

// edit is what the insuree's row said before an edit (docs/openimis.md, "Current rows and ValidityTo").
type edit struct {
	last   string
	phone  *string
	from   when
	edited when
}

// show is the member's Catalogue line.
type show struct {
	shows     string
	want      openimis.CoverageStatus
	hasPolicy bool
	product   string
}

type policy struct {
	key     string // unique within the family
	product string
	stage   string // 'N' new, 'R' renewal
	status  int16
	officer string
	// The period: start, or expiry, or after (the key of the policy this one
	// renews: start = its expiry + 1 day). The rest follows from the
	// product's insurance period.
	start, expiry when
	after         string
	enrolBefore   int // days between "EnrollDate" and "StartDate"
	pay           *payment
	idleHistory   bool // keep the Idle version from before activation as history rows
	reminder      bool // a pending "tblPolicyRenewals" row
}

type payment struct {
	receipt   string
	payType   string // C cash, M mobile phone, B bank
	partial   int64  // 0 = the full policy value
	daysAfter int    // "PayDate" = "EnrollDate" + daysAfter
}

type family struct {
	village, address string
	poverty          bool
	members          []member // the head first
	policies         []policy
}

var families = []family{
	{ // A: a covered family; claims in every status for the head
		village: "DOD01011", address: "Mtaa wa Uhuru, Nyumba Na. 14",
		members: []member{
			{chfid: "101203401", other: "Juma Hassan", last: "Mrisho", gender: "M", marital: "M", born: on(1979, time.March, 14),
				phone: ptr("0712 111 222"), fsp: "MKL001",
				show: &show{"active family policy; head of family, phone 0712 111 222; claims in every status", openimis.Covered, true, "FAM01"}},
			{chfid: "101203402", other: "Rehema Juma", last: "Mrisho", gender: "F", marital: "M", born: on(1984, time.July, 2), rel: relSpouse,
				phone: ptr("0765 432 109"), fsp: "MKL001",
				show: &show{"active family policy; spouse with her own phone 0765 432 109", openimis.Covered, true, "FAM01"}},
			{chfid: "101203403", other: "Hamisi Juma", last: "Mrisho", gender: "M", born: on(2009, time.November, 20), rel: relChild, fsp: "MKL001"},
			{chfid: "101203404", other: "Neema Juma", last: "Mrisho", gender: "F", born: on(2014, time.May, 8), rel: relChild, fsp: "MKL001",
				show: &show{"active family policy; child without a phone (the head's phone sees the name)", openimis.Covered, true, "FAM01"}},
			{chfid: "101203405", other: "Baraka Juma", last: "Mrisho", gender: "M", born: daysFromToday(-270), rel: relChild, fsp: "MKL001"},
			{chfid: "101203406", other: "Mwanaisha Ally", last: "Mrisho", gender: "F", marital: "W", born: on(1946, time.January, 1), rel: relParent, fsp: "DDMRRH"},
		},
		policies: []policy{
			{key: "a1", product: "FAM01", stage: "N", status: openimis.PolicyActive, officer: "EO001", start: monthsAgo(5), enrolBefore: 7,
				pay: &payment{receipt: "DOD/0417", payType: "C"}},
		},
	},
	{ // B: the policy ran out 10 days ago, but the nightly job has not flipped it to Expired
		village: "DOD01012", address: "Ipagala, karibu na Shule ya Msingi Ipagala",
		members: []member{
			{chfid: "20461301", other: "Emmanuel Joseph", last: "Kimaro", gender: "M", marital: "M", born: on(1971, time.September, 30),
				phone: ptr("+255 713 111 333"), fsp: "DDMRRH",
				show: &show{"expired 10 days ago although PolicyStatus is still Active (2); head, phone +255 713 111 333; renewal reminder pending", openimis.Expired, true, "FAM01"}},
			{chfid: "20461302", other: "Agnes Emmanuel", last: "Kimaro", gender: "F", marital: "M", born: on(1975, time.February, 17), rel: relSpouse, fsp: "DDMRRH"},
			{chfid: "20461303", other: "Glory Emmanuel", last: "Kimaro", gender: "F", marital: "S", born: on(2003, time.June, 25), rel: relChild,
				phone: ptr("0621 300 400"), email: "glory.kimaro@example.co.tz", fsp: "DDMRRH"},
			{chfid: "20461304", other: "Frank Emmanuel", last: "Kimaro", gender: "M", born: on(2012, time.October, 10), rel: relChild, fsp: "DDMRRH"},
		},
		policies: []policy{
			{key: "b1", product: "FAM01", stage: "N", status: openimis.PolicyActive, officer: "EO001", expiry: daysFromToday(-10), enrolBefore: 3,
				pay: &payment{receipt: "QHB3K7XN2P", payType: "M"}, reminder: true},
		},
	},
	{ // C: expired (status 8) on a product no longer sold, enrolled by an officer who has left
		village: "MWZ02011", address: "Kisesa, Kitongoji cha Bujora",
		members: []member{
			{chfid: "310482215", other: "Paulo Masanja", last: "Magesa", gender: "M", marital: "M", born: on(1966, time.December, 5),
				phone: ptr("255714111444"), fsp: "GDB001",
				show: &show{"expired (status 8) on the old product CHF00, which renews as FAM01; head, phone 255714111444", openimis.Expired, true, "CHF00"}},
			{chfid: "310482223", other: "Kabula Paulo", last: "Magesa", gender: "F", marital: "M", born: on(1970, time.April, 19), rel: relSpouse, fsp: "GDB001"},
			{chfid: "310482231", other: "Shija Paulo", last: "Magesa", gender: "M", born: on(2007, time.August, 8), rel: relChild, fsp: "GDB001",
				show: &show{"expired policy; a claim rejected as not covered", openimis.Expired, true, "CHF00"}},
		},
		policies: []policy{
			{key: "c1", product: "CHF00", stage: "N", status: openimis.PolicyExpired, officer: "EO009", expiry: monthsAgo(4), enrolBefore: 14,
				pay: &payment{receipt: "MGU/0311", payType: "C"}},
		},
	},
	{ // D: newly enrolled, only part of the contribution paid: Idle
		village: "DOD02011", address: "Kolo, Kitongoji cha Mnenia", poverty: true,
		members: []member{
			{chfid: "402771106", other: "Saidi Omari", last: "Kheri", gender: "M", marital: "M", born: on(1988, time.January, 23),
				phone: ptr(""), fsp: "KDA001", noCard: true,
				show: &show{"idle policy (status 1, partly paid, no effective date); head with an empty phone", openimis.NotYetActive, true, "FAM01"}},
			{chfid: "402771114", other: "Zuhura Saidi", last: "Kheri", gender: "F", marital: "M", born: on(1991, time.October, 2), rel: relSpouse,
				phone: ptr("0754 987 650"), fsp: "KDA001", noCard: true,
				show: &show{"idle policy; spouse with her own phone 0754 987 650", openimis.NotYetActive, true, "FAM01"}},
			{chfid: "402771122", other: "Ramadhani Saidi", last: "Kheri", gender: "M", born: on(2016, time.March, 3), rel: relChild, fsp: "KDA001", noCard: true},
			{chfid: "402771130", other: "Asha Saidi", last: "Kheri", gender: "F", born: daysFromToday(-730), rel: relChild, fsp: "KDA001", noCard: true},
		},
		policies: []policy{
			{key: "d1", product: "FAM01", stage: "N", status: openimis.PolicyIdle, officer: "EO003", start: daysFromToday(-3),
				pay: &payment{receipt: "KND/0102", payType: "C", partial: 10000}},
		},
	},
	{ // E: suspended
		village: "DOD01021", address: "Mwangaza, Mtaa wa Sokoine",
		members: []member{
			{chfid: "503910017", other: "Godfrey Peter", last: "Mushi", gender: "M", marital: "M", born: on(1983, time.August, 15),
				phone: ptr("0715 303 404"), fsp: "DDMRRH",
				show: &show{"suspended policy (status 4) within its period; head, phone 0715 303 404", openimis.Suspended, true, "FAM01"}},
			{chfid: "503910025", other: "Lucy Godfrey", last: "Mushi", gender: "F", marital: "M", born: on(1986, time.December, 1), rel: relSpouse, fsp: "DDMRRH"},
			{chfid: "503910033", other: "Daudi Godfrey", last: "Mushi", gender: "M", born: on(2011, time.February, 14), rel: relChild, fsp: "DDMRRH"},
		},
		policies: []policy{
			{key: "e1", product: "FAM01", stage: "N", status: openimis.PolicySuspended, officer: "EO001", start: monthsAgo(8), enrolBefore: 10,
				pay: &payment{receipt: "DOD/0388", payType: "C"}},
		},
	},
	{ // F: covered, expiring in 9 days, with a renewal reminder: the family to renew
		village: "DOD03011", address: "Buigiri, Kitongoji cha Mission",
		members: []member{
			{chfid: "604120019", other: "Tumaini Anyisile", last: "Mwakalinga", gender: "M", marital: "M", born: on(1975, time.May, 5),
				phone: ptr("0754 100 200"), fsp: "DDMRRH",
				show: &show{"active, expires in 9 days (renewal reminder pending): try Renew as EO001 or EO004 (EO003 is refused: not her area); head, phone 0754 100 200", openimis.Covered, true, "FAM01"}},
			{chfid: "604120027", other: "Upendo Tumaini", last: "Mwakalinga", gender: "F", marital: "M", born: on(1979, time.September, 9), rel: relSpouse, fsp: "DDMRRH"},
			{chfid: "604120035", other: "Joyce Tumaini", last: "Mwakalinga", gender: "F", marital: "S", born: on(2005, time.January, 30), rel: relChild, fsp: "DDMRRH"},
			{chfid: "604120043", other: "Elia Tumaini", last: "Mwakalinga", gender: "M", born: on(2013, time.July, 21), rel: relChild, fsp: "DDMRRH"},
			{chfid: "604120051", other: "Tabitha", last: "Sanga", gender: "F", marital: "S", born: on(1998, time.March, 12), rel: openimis.RelationOthers, fsp: "DDMRRH",
				show: &show{`active, expires in 9 days; a household member related as "Others" (7)`, openimis.Covered, true, "FAM01"}},
		},
		policies: []policy{
			{key: "f1", product: "FAM01", stage: "N", status: openimis.PolicyActive, officer: "EO001", expiry: daysFromToday(9), enrolBefore: 5,
				pay: &payment{receipt: "QFC8L2MW4T", payType: "M"}, reminder: true},
		},
	},
	{ // G: two products: the family plan now, the individual plan before
		village: "MWZ01011", address: "Buswelu, Mtaa wa Nyamhongolo",
		members: []member{
			{chfid: "705338812", other: "Charles Masunga", last: "Ngusa", gender: "M", marital: "M", born: on(1980, time.October, 10),
				phone: ptr("+255754300400"), fsp: "BSW001",
				show: &show{"two products: FAM01 active, IND01 expired; head, phone +255754300400", openimis.Covered, true, "FAM01"}},
			{chfid: "705338820", other: "Veronika Charles", last: "Ngusa", gender: "F", marital: "M", born: on(1985, time.June, 6), rel: relSpouse, fsp: "BSW001"},
			{chfid: "705338838", other: "Kulwa Charles", last: "Ngusa", gender: "M", born: on(2015, time.April, 4), rel: relChild, fsp: "BSW001",
				show: &show{"two products (FAM01 active, IND01 expired); a twin", openimis.Covered, true, "FAM01"}},
			{chfid: "705338846", other: "Doto Charles", last: "Ngusa", gender: "M", born: on(2015, time.April, 4), rel: relChild, fsp: "BSW001"},
		},
		policies: []policy{
			{key: "g1", product: "IND01", stage: "N", status: openimis.PolicyExpired, officer: "EO002", start: cycle(3), enrolBefore: 20,
				pay: &payment{receipt: "QGX4M1TZ8B", payType: "M"}},
			{key: "g2", product: "FAM01", stage: "N", status: openimis.PolicyActive, officer: "EO002", start: monthsAgo(2), enrolBefore: 4,
				pay: &payment{receipt: "MWZ/1204", payType: "C"}},
		},
	},
	{ // H: a baby born after the policy was made, not yet added to it
		village: "DOD01011", address: "Mtaa wa Kilimani, Nyumba Na. 3",
		members: []member{
			{chfid: "806245517", other: "Faraja Michael", last: "Lyimo", gender: "F", marital: "D", born: on(1990, time.February, 28),
				phone: ptr("0712 909 808"), fsp: "MKL001",
				show: &show{"active family policy; the head is a woman, phone 0712 909 808", openimis.Covered, true, "FAM01"}},
			{chfid: "806245525", other: "Brian Faraja", last: "Lyimo", gender: "M", born: on(2018, time.August, 18), rel: relChild, fsp: "MKL001"},
			{chfid: "806245533", other: "Imani Faraja", last: "Lyimo", gender: "F", born: daysFromToday(-49), rel: relChild, fsp: "MKL001",
				noCard: true, addedLater: true,
				show: &show{"newborn added to the family after the policy was made: no policy line (not covered)", openimis.NotYetActive, false, ""}},
		},
		policies: []policy{
			{key: "h1", product: "FAM01", stage: "N", status: openimis.PolicyActive, officer: "EO001", start: monthsAgo(6), enrolBefore: 3,
				pay: &payment{receipt: "DOD/0362", payType: "C"}},
		},
	},
	{ // I: registered, never insured
		village: "MWZ01021", address: "Kabuhoro, Mtaa wa Kirumba",
		members: []member{
			{chfid: "907712214", other: "Mwita Chacha", last: "Marwa", gender: "M", marital: "M", born: on(1995, time.November, 11),
				phone: ptr("0769 111 000"), fsp: "BSW001", noCard: true,
				show: &show{"registered family without any policy; head, phone 0769 111 000", openimis.NotYetActive, false, ""}},
			{chfid: "907712222", other: "Rhobi Mwita", last: "Marwa", gender: "F", marital: "M", born: on(1997, time.December, 12), rel: relSpouse, fsp: "BSW001", noCard: true},
		},
	},
	{ // J: edited rows: an insuree history row with the same number, an Idle policy version and its member rows as history
		village: "MWZ01012", address: "Nyamadoke, Kitongoji cha Kahama",
		members: []member{
			{chfid: "110034517", other: "Naserian Lomayani", last: "Laizer", gender: "F", marital: "W", born: on(1987, time.April, 4),
				phone: ptr("0757 246 810"), fsp: "BSW001",
				history: &edit{last: "Lazier", phone: ptr("0757 000 111"), from: monthsAgo(40), edited: monthsAgo(7)},
				show:    &show{"per-member product IND01 (start cycles) active; name and phone were corrected, the old row is history", openimis.Covered, true, "IND01"}},
			{chfid: "110034525", other: "Lengai Lomayani", last: "Laizer", gender: "M", born: on(2012, time.December, 12), rel: relChild, fsp: "BSW001"},
		},
		policies: []policy{
			{key: "j1", product: "IND01", stage: "N", status: openimis.PolicyActive, officer: "EO002", start: cycle(0), enrolBefore: 25,
				pay: &payment{receipt: "QJD5N8PR1V", payType: "M", daysAfter: 15}, idleHistory: true},
		},
	},
	{ // K: a large household on the per-member product, with an "Others" member and a death
		village: "MWZ02012", address: "Ng'haya, Kitongoji cha Ihayabuyaga",
		members: []member{
			{chfid: "120507718", other: "Makoye Kija", last: "Budeba", gender: "M", marital: "M", born: on(1962, time.June, 1),
				phone: ptr("0688-123-456"), fsp: "GDB001",
				show: &show{"IND01 active, large household of 7; head, phone 0688-123-456", openimis.Covered, true, "IND01"}},
			{chfid: "120507726", other: "Ng'walu Makoye", last: "Budeba", gender: "F", marital: "M", born: on(1968, time.March, 8), rel: relSpouse, fsp: "GDB001",
				show: &show{"IND01 active; an apostrophe in the name; one claim entered", openimis.Covered, true, "IND01"}},
			{chfid: "120507734", other: "Nkwabi Makoye", last: "Budeba", gender: "M", marital: "S", born: on(1999, time.September, 9), rel: relChild,
				phone: ptr("0621 777 888"), email: "nkwabi.budeba@example.co.tz", fsp: "GDB001",
				show: &show{"IND01 active; adult son with his own phone 0621 777 888; valuated and checked claims", openimis.Covered, true, "IND01"}},
			{chfid: "120507742", other: "Shija Makoye", last: "Budeba", gender: "F", born: on(2008, time.August, 8), rel: relChild, fsp: "GDB001"},
			{chfid: "120507750", other: "Mhoja Makoye", last: "Budeba", gender: "M", born: on(2017, time.January, 17), rel: relChild, fsp: "GDB001"},
			{chfid: "120507768", other: "Kija Lutema", last: "Budeba", gender: "M", marital: "W", born: on(1936, time.February, 2), rel: relParent, fsp: "GDB001",
				died: daysFromToday(-60),
				show: &show{"died 60 days ago: coverage cut at the date of death (status DE where the column exists)", openimis.Expired, true, "IND01"}},
			{chfid: "120507776", other: "Grace", last: "Nyanda", gender: "F", born: on(2012, time.May, 5), rel: openimis.RelationOthers, fsp: "GDB001"},
		},
		policies: []policy{
			{key: "k1", product: "IND01", stage: "N", status: openimis.PolicyActive, officer: "EO002", start: cycle(1), enrolBefore: 20,
				pay: &payment{receipt: "MGU/0377", payType: "C"}},
		},
	},
	{ // L: 12-digit numbers; paid, but the scheme activates to Ready (16)
		village: "DOD03012", address: "Chinangali, Mtaa wa Mlimwa",
		members: []member{
			{chfid: "202405170001", other: "Joseph Daniel", last: "Chilongola", gender: "M", marital: "M", born: on(1992, time.September, 19),
				phone: ptr("+255-716-555-777"), fsp: "DDMRRH",
				show: &show{"12-digit number; paid policy in status Ready (16), not yet active; head, phone +255-716-555-777", openimis.NotYetActive, true, "FAM01"}},
			{chfid: "202405170002", other: "Esther Joseph", last: "Chilongola", gender: "F", marital: "M", born: on(1994, time.January, 11), rel: relSpouse,
				phone: ptr("0716 555 778"), fsp: "DDMRRH"},
			{chfid: "202405170003", other: "Daniel Joseph", last: "Chilongola", gender: "M", born: daysFromToday(-425), rel: relChild, fsp: "DDMRRH",
				show: &show{"12-digit number; a toddler in a Ready (16) policy", openimis.NotYetActive, true, "FAM01"}},
		},
		policies: []policy{
			{key: "l1", product: "FAM01", stage: "N", status: openimis.PolicyReady, officer: "EO001", start: monthsAgo(1), enrolBefore: 6,
				pay: &payment{receipt: "QLA2P9XD6K", payType: "M"}},
		},
	},
	{ // M: 5-digit legacy numbers; renewed early (renewal discount), so an expired and an active policy
		village: "DOD02011", address: "Kolo, Mtaa wa Msikitini",
		members: []member{
			{chfid: "48213", other: "Halima Abdallah", last: "Salum", gender: "F", marital: "W", born: on(1958, time.July, 7), fsp: "KDA001",
				show: &show{"5-digit number; renewed: active renewal first, the expired policy second; head without a phone (NULL); EO003 may renew it again", openimis.Covered, true, "FAM01"}},
			{chfid: "48214", other: "Omari Salum", last: "Abdallah", gender: "M", marital: "M", born: on(1984, time.December, 24), rel: relChild,
				phone: ptr("0744321987"), fsp: "KDA001",
				show: &show{"5-digit number; adult son with phone 0744321987", openimis.Covered, true, "FAM01"}},
			{chfid: "48215", other: "Mariamu Salum", last: "Abdallah", gender: "F", marital: "S", born: on(2006, time.June, 6), rel: relChild, fsp: "KDA001"},
		},
		policies: []policy{
			{key: "m1", product: "FAM01", stage: "N", status: openimis.PolicyExpired, officer: "EO003", expiry: monthsAgo(3), enrolBefore: 10,
				pay: &payment{receipt: "KND/0051", payType: "C"}},
			{key: "m2", product: "FAM01", stage: "R", status: openimis.PolicyActive, officer: "EO003", after: "m1", enrolBefore: 42,
				pay: &payment{receipt: "KND/0187", payType: "C"}},
		},
	},
}

type claim struct {
	code, chfid, hf string
	status          openimis.ClaimStatus
	icd             int32
	category        string // set on submission (Checked and beyond); "" = NULL
	visit           string // E emergency, R referral, O other
	from, days      int    // "DateFrom" = today - from; "DateTo" = "DateFrom" + days
	claimedAfter    int    // "DateClaimed" = "DateTo" + claimedAfter
	processedAfter  int    // "DateProcessed" = "DateClaimed" + processedAfter; -1 = NULL
	claimed         int64
	approved        int64 // -1 = NULL
	rejection       int16 // 0 = NULL
	explanation     string
	adjustment      string
}

// Amounts follow the workflow (docs/openimis.md, "Claims: statuses and what may be shown"): Approved from Checked on,
// Valuated only at Valuated; Processed claims await the batch valuation.
var claims = []claim{
	{code: "DRH00871", chfid: "101203401", hf: "DDMRRH", status: openimis.ClaimValuated, icd: 4101, category: "H", visit: "E",
		from: 120, days: 3, claimedAfter: 2, processedAfter: 25, claimed: 185000, approved: 172500,
		explanation: "Malaria kali, amelazwa siku 3", adjustment: "Dawa moja haiko kwenye orodha ya bei"},
	{code: "DRH01022", chfid: "101203401", hf: "DDMRRH", status: openimis.ClaimProcessed, icd: 2210, category: "C", visit: "R",
		from: 60, claimedAfter: 1, processedAfter: 29, claimed: 45000, approved: 42000},
	{code: "MKH00318", chfid: "101203401", hf: "MKL001", status: openimis.ClaimChecked, icd: 1187, category: "O", visit: "O",
		from: 21, claimedAfter: 3, processedAfter: -1, claimed: 28500, approved: 28500},
	{code: "MKH00290", chfid: "101203401", hf: "MKL001", status: openimis.ClaimRejected, icd: 1187, category: "O", visit: "O",
		from: 40, claimedAfter: 2, processedAfter: 3, claimed: 15000, approved: 0, rejection: 6,
		explanation: "Ziara hiyo hiyo imedaiwa mara mbili"},
	{code: "MKH00342", chfid: "101203401", hf: "MKL001", status: openimis.ClaimEntered, icd: 1187, visit: "O",
		from: 5, claimedAfter: 1, processedAfter: -1, claimed: 15000, approved: -1},
	{code: "BUF00412", chfid: "310482231", hf: "GDB001", status: openimis.ClaimRejected, icd: 3050, category: "O", visit: "O",
		from: 20, claimedAfter: 2, processedAfter: 6, claimed: 22000, approved: 0, rejection: 3,
		explanation: "Hakuna bima hai siku ya huduma"},
	{code: "BUF00398", chfid: "120507734", hf: "GDB001", status: openimis.ClaimValuated, icd: 5120, category: "S", visit: "R",
		from: 95, days: 6, claimedAfter: 4, processedAfter: 30, claimed: 640000, approved: 600000},
	{code: "BSW00127", chfid: "120507734", hf: "BSW001", status: openimis.ClaimChecked, icd: 1187, category: "O", visit: "O",
		from: 12, claimedAfter: 1, processedAfter: -1, claimed: 12000, approved: 12000},
	{code: "BSW00131", chfid: "120507726", hf: "BSW001", status: openimis.ClaimEntered, icd: 2210, visit: "O",
		from: 3, claimedAfter: 0, processedAfter: -1, claimed: 8500, approved: -1},
}

// Officer is a demo enrolment officer.
type Officer struct {
	Code    string
	Name    string
	Phone   string // as stored, free text
	Current bool   // "WorksTo" NULL or not past: may renew
	// Area says where the officer may renew: the villages, or, for an
	// officer without any, every village of the district.
	Area string
}

// Officers lists the demo enrolment officers, the current ones first.
var Officers = func() []Officer {
	names := map[string]string{}
	for _, l := range locations {
		names[l.code] = l.name
	}
	out := make([]Officer, 0, len(officers))
	for _, o := range officers {
		oo := o.Officer
		if len(o.villages) == 0 {
			oo.Area = "all of " + names[o.district] + " district (no villages)"
		} else {
			var vs []string
			for _, v := range o.villages {
				vs = append(vs, names[v])
			}
			oo.Area = "village " + vs[0]
			if len(vs) > 1 {
				oo.Area = "villages " + strings.Join(vs, ", ")
			}
		}
		out = append(out, oo)
	}
	return out
}()

// Case is one demo insurance number worth trying, and what it shows.
type Case struct {
	CHFID string
	Name  string // other names, then last name
	Phone string // the insuree's own phone as stored; "" when none
	Shows string
	// Want is the coverage status of the first policy line (meaningless
	// without a policy).
	Want      openimis.CoverageStatus
	HasPolicy bool
	Product   string // product code of the first policy line
}

// Catalogue lists every demo insurance number a README reader should try.
var Catalogue = func() []Case {
	var out []Case
	for _, f := range families {
		for _, m := range f.members {
			if m.show == nil {
				continue
			}
			c := Case{
				CHFID: m.chfid, Name: m.other + " " + m.last, Shows: m.show.shows,
				Want: m.show.want, HasPolicy: m.show.hasPolicy, Product: m.show.product,
			}
			if m.phone != nil {
				c.Phone = *m.phone
			}
			out = append(out, c)
		}
	}
	return out
}()
