package projections

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// createdSeeds are plan.created events as the domain writes them, with
// text that needs escapes, non-ASCII text, optional fields left out,
// currencies of 0, 2 and 3 decimals and several options.
func createdSeeds(t testing.TB) [][]byte {
	t.Helper()
	cases := []domain.CreatePlan{
		{CustomerName: "Customer 42", CustomerEmail: "customer42@example.com", CustomerPhone: "+1-555-0100",
			Amount: "1234.56", Currency: "USD", InvoiceNumber: "INV-42", Description: "Past due consulting services",
			Intervals: []string{"monthly"}, Durations: []int{3}},
		{CustomerName: `Zoë "Q" <O'Brien> & Søn`, CustomerEmail: "zoe@example.com", Amount: "120000",
			Currency: "JPY", Intervals: []string{"weekly", "biweekly", "monthly"}, Durations: []int{2, 4}},
		{CustomerName: "Ali \\ back slash", CustomerEmail: "ali@example.com", Amount: "10.005", Currency: "KWD",
			InvoiceNumber: "№ 7 – ✓", SendIntroductionEmail: true},
		{CustomerName: "日本 太郎", CustomerEmail: "taro@example.com", Amount: "3.03", Durations: []int{3},
			FirstPaymentDate: "2027-01-31", Description: "line\u2028break"},
	}
	var out [][]byte
	for i, c := range cases {
		c.PlanID, c.AccountID, c.CustomerID, c.InvoiceID = int64(100+i), 7, int64(200+i), int64(300+i)
		for j := range domain.MaxOptions {
			c.OptionIDs = append(c.OptionIDs, int64(400+10*i+j))
		}
		c.PortalToken = strings.Repeat("t", 43)
		c.Now = time.Date(2026, 11, 3, 10, 4, 5, 123456000, time.UTC)
		var p domain.Plan
		evs, err := p.CreatePlan(c)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		_, data, err := domain.MarshalEvent(evs[0])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// checkCreatedDecode fails when the fast decoder takes data and gives
// anything but what encoding/json gives.
func checkCreatedDecode(t testing.TB, data []byte) (fast bool) {
	t.Helper()
	got, ok := decodeCreatedHead(data)
	if !ok {
		return false
	}
	var want createdHead
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode of %q\nfast:          %#v\nencoding/json: %#v", data, got, want)
	}
	return true
}

func TestDecodeCreatedHeadTakesWhatTheDomainWrites(t *testing.T) {
	t.Parallel()
	for _, data := range createdSeeds(t) {
		if !checkCreatedDecode(t, data) {
			t.Errorf("fast decoder refused the domain's own plan.created %s", data)
		}
	}
}

// TestDecodeCreatedHeadMutations is the fuzz test's property over many
// random edits of the seeds, in every test run: whatever the fast decoder
// takes, encoding/json decodes to the same value.
func TestDecodeCreatedHeadMutations(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	seeds := createdSeeds(t)
	fast, n := 0, 20000
	for range n {
		data := mutateJSON(rng, seeds[rng.IntN(len(seeds))])
		if checkCreatedDecode(t, data) {
			fast++
		}
	}
	t.Logf("%d of %d mutations decoded on the fast path", fast, n)
	if fast == 0 {
		t.Fatal("no mutation took the fast path: the property was not exercised")
	}
}

// mutateJSON edits data at a random place: a byte dropped, doubled or
// replaced by one of the characters that matter to JSON, or a key
// renamed, duplicated or respelled.
func mutateJSON(rng *rand.Rand, data []byte) []byte {
	b := append([]byte(nil), data...)
	specials := []string{`"`, `\`, `\u0000`, `\ud800`, `\n`, " ", "{", "}", "[", "]", ",", ":", "0", "-", "1e3", ".5",
		"null", "true", "\x00", "\xff", "é", `"plan_id":1,`, `"Plan_ID":2,`, `"customer":null,`, `"extra":1,`}
	for range 1 + rng.IntN(3) {
		if len(b) == 0 {
			break
		}
		i := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0:
			b = append(b[:i], b[i+1:]...)
		case 1:
			b = append(b[:i], append([]byte{b[i]}, b[i:]...)...)
		case 2:
			s := specials[rng.IntN(len(specials))]
			b = append(b[:i], append([]byte(s), b[i+1:]...)...)
		default:
			s := specials[rng.IntN(len(specials))]
			b = append(b[:i], append([]byte(s), b[i:]...)...)
		}
	}
	return b
}

func FuzzDecodeCreatedHead(f *testing.F) {
	for _, data := range createdSeeds(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"plan_id":1,"plan_options":[{"a":[1,-0.5e+3,"\u00e9\"",true,null,{}]}],"created_at":"2026-01-02T03:04:05Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCreatedDecode(t, data)
	})
}
