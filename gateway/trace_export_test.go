package gateway

// WithheldInput is withheldInput, for the table test in package gateway_test.
var WithheldInput = withheldInput
