// Package openimis is the gateway's model of openIMIS: coverage, claims,
// officers, money and the renewal rules (which policy is renewed into which
// product, for what period and at what price, or why not), as plain types
// and pure functions of what was read, with no database and no text for
// people.
//
// policystore reads the openIMIS tables into these types and writes what
// the rules decide; menus words the answers. Both import this package,
// which imports neither.
package openimis
