package policystore

// Columns records the optional parts of the openIMIS schema found at start-up
// (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations"): the 1.4.2 dump and Django-migrated databases differ.
type Columns struct {
	InsureeStatus      bool // "tblInsuree"."status" (insuree migration 0017)
	PolicyCreationDate bool // "tblPolicy"."creationDate" (policy migration 0009)
	CHFIDMaxLen        int  // width of "tblInsuree"."CHFID": 12 in the dump, 50 after migration 0019
}
