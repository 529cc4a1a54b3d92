package menus_test

import (
	"context"
	"fmt"
	"time"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
)

type sourceFunc func(ctx context.Context, chfid string, today time.Time) (openimis.Coverage, error)

func (f sourceFunc) Coverage(ctx context.Context, chfid string, today time.Time) (openimis.Coverage, error) {
	return f(ctx, chfid, today)
}

func Example() {
	src := sourceFunc(func(_ context.Context, chfid string, _ time.Time) (openimis.Coverage, error) {
		if chfid != "101000001" {
			return openimis.Coverage{}, openimis.ErrInsureeNotFound
		}
		return openimis.Coverage{CHFID: chfid, OtherNames: "Amina", LastName: "Juma", Holder: openimis.Holder{Phone: "0712 345 678"},
			Policies: []openimis.PolicyCoverage{{ProductCode: "BASIC", ProductName: "Basic Cover",
				Status: openimis.Covered, ExpiryDate: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}}}, nil
	})
	e := menus.New(src, menus.Options{PhoneRegion: "TZ", CHFIDMaxLen: 12})
	ctx := context.Background()
	caller := menus.Caller{Phone: "+255712345678", Lang: "en"}

	show := func(st menus.State, scr menus.Screen, err error) menus.State {
		if err != nil {
			fmt.Println("error:", err)
		}
		kind := "CON"
		if scr.End {
			kind = "END"
		}
		fmt.Printf("[%s %s, %d chars]\n%s\n\n", kind, st.Node, len([]rune(scr.Text)), scr.Text)
		return st
	}
	st := show(e.Begin(ctx, caller, nil))
	st = show(e.Next(ctx, caller, st, "1"))
	st = show(e.Next(ctx, caller, st, "101000002"))
	show(e.Next(ctx, caller, st, "101000001"))
	// Output:
	// [CON main, 36 chars]
	// Health insurance
	// 1. Check membership
	//
	// [CON membership.ask, 42 chars]
	// Enter the insurance number:
	// 0 Back 00 Menu
	//
	// [CON membership.ask, 75 chars]
	// No insuree has number 101000002.
	// Enter the insurance number:
	// 0 Back 00 Menu
	//
	// [END membership.ask, 63 chars]
	// Amina Juma
	// No. 101000001
	// Basic Cover: covered until 31 Dec 2026
}

type claimsFunc func(ctx context.Context, chfid string, limit int) (openimis.ClaimList, error)

func (f claimsFunc) Claims(ctx context.Context, chfid string, limit int) (openimis.ClaimList, error) {
	return f(ctx, chfid, limit)
}

func ExampleEngine_SMS() {
	// The insuree's claims, asked from the insuree's own phone.
	claims := claimsFunc(func(_ context.Context, chfid string, _ int) (openimis.ClaimList, error) {
		return openimis.ClaimList{Holder: openimis.Holder{Phone: "0712 345 678"},
			Claims: []openimis.Claim{{Code: "DRH00871", FacilityName: "Dodoma Regional Referral Hospital",
				DateClaimed: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), Status: openimis.ClaimValuated,
				Valuated: openimis.Amount{Cents: 17250000, Valid: true}}}}, nil
	})
	e := menus.New(nil, menus.Options{Claims: claims, DefaultLang: "fr"})
	r, err := e.SMS(context.Background(), menus.SMSRequest{From: "+255712345678", Text: "claims 101203401", Key: "africastalking:ATXid_1"})
	if err != nil {
		fmt.Println("error:", err)
	}
	fmt.Printf("[%s, %s, %d septets, %d part]\n%s\n", r.Command, r.Encoding, r.Length, r.Parts, r.Text)
	// Output:
	// [CLAIMS, GSM-7, 100 septets, 1 part]
	// Dernière prestation :
	// DRH00871 du 20 févr. 2026
	// Dodoma Regional Referral ...
	// Valorisée : 172 500 TZS
}
