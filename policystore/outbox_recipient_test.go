package policystore_test

import (
	"context"
	"slices"
	"testing"
)

func TestOutboxTo(t *testing.T) {
	s := obxStore(t)
	// One message per provider and recipient (obxEnqueue's dedup key).
	ids := obxEnqueue(t, s, obxProvider, "+255700000001", "+255700000002")
	ids = append(ids, obxEnqueue(t, s, "twilio", "+255700000001")...)
	ids = append(ids, obxEnqueue(t, s, "beem", "+255700000001")...)
	for _, c := range []struct {
		name      string
		recipient string
		limit     int
		want      []int64
	}{
		{"newest first", "+255700000001", 10, []int64{ids[3], ids[2], ids[0]}},
		{"at most limit", "+255700000001", 2, []int64{ids[3], ids[2]}},
		{"another recipient", "+255700000002", 10, []int64{ids[1]}},
		{"none", "+255700000009", 10, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			entries, err := s.OutboxTo(context.Background(), c.recipient, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range entries {
				got = append(got, e.ID)
				if e.Status != "queued" || e.Provider == "" || e.Body == "" || e.CreatedAt.IsZero() {
					t.Errorf("entry %+v", e)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("ids %v, want %v", got, c.want)
			}
		})
	}
}
