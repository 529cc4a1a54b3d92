package policystore

// The look-up queries, for the plan tests.
const (
	CoverageSQL = coverageSQL
	ClaimsSQL   = claimsSQL
)
