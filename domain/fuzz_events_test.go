package domain_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/domain/domaintest"
)

// codecInput is what FuzzEventCodec puts into an event's fields: two free
// texts, an amount, a date and a time.
type codecInput struct {
	s1, s2 string
	money  domain.Money
	date   domain.Date
	at     time.Time
	n      int
	flag   bool
}

// Bounds of what the codec carries: Date and time.Time in years 1..9999
// (RFC 3339 has four-digit years), Money up to 18 decimals.
var (
	firstDate = domain.NewDate(1, time.January, 1)
	// lastDay is the number of days from 0001-01-01 to 9999-12-31.
	lastDay  = int64(domain.NewDate(9999, time.December, 31).Time().Sub(firstDate.Time()) / (24 * time.Hour))
	minUnix  = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix  = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC).Unix()
	maxScale = int32(18)
)

func newCodecInput(s1, s2 string, minor int64, scale uint8, day int64, unix int64, nanos uint32, n int32, flag bool) codecInput {
	if minor == math.MinInt64 {
		minor++ // its magnitude does not fit an int64: no Money is ever that far below zero
	}
	unix = minUnix + int64(uint64(unix)%uint64(maxUnix-minUnix+1))
	return codecInput{
		s1: s1, s2: s2,
		money: domain.MoneyFromMinor(minor, domain.Currency{MinorUnits: int32(scale) % (maxScale + 1)}),
		date:  firstDate.AddDays(int(uint64(day) % uint64(lastDay+1))),
		at:    time.Unix(unix, int64(nanos%1e9)).UTC(),
		n:     int(n),
		flag:  flag,
	}
}

func (in codecInput) schedule() []domain.Installment {
	return []domain.Installment{{Number: in.n, Amount: in.money, DueDate: in.date}, {Number: 2, Amount: in.money}}
}

func (in codecInput) consent() *domain.Consent {
	return &domain.Consent{At: in.at, IP: in.s1, UserAgent: in.s2}
}

// codecEvents builds one event of every type with in's values in its string,
// amount, date and time fields.
func codecEvents(in codecInput) []domain.Event {
	id := int64(in.n)
	terms := domain.Terms{Installments: in.n, Interval: domain.Interval(in.s2), FirstPaymentDate: in.date}
	key := domain.NoticeKey{Kind: domain.NoticeKind(in.s2), Installment: in.n, DueDate: in.date}
	emailKey := domain.PlanEmailKey{Kind: domain.PlanEmailKind(in.s1), EventVersion: id}
	return append([]domain.Event{
		domain.PlanCreated{PlanID: id, AccountID: -id, PortalToken: in.s2,
			Customer: domain.Customer{ID: id, Name: in.s1, Email: in.s2, Phone: in.s1},
			Invoice:  domain.Invoice{ID: id, Amount: in.money, Currency: in.s2, InvoiceNumber: in.s1, Description: in.s2},
			Options: []domain.Option{{ID: id, Installments: in.n, Interval: domain.Interval(in.s1), PaymentAmount: in.money,
				FirstPaymentDate: in.date, FinalPaymentDate: in.date, Schedule: in.schedule()}},
			SendIntroductionEmail: in.flag, CreatedAt: in.at},
		domain.IntroductionEmailSent{MessageID: in.s1, To: in.s2, SentAt: in.at},
		domain.IntroductionEmailFailed{Reason: in.s1, Attempts: in.n, FailedAt: in.at},
		domain.IntroductionEmailResendRequested{Resend: in.n, RequestedAt: in.at},
		domain.PlanActivated{OptionID: id, ProposalID: id, Interval: domain.Interval(in.s1), Schedule: in.schedule(),
			Consent: in.consent(), ActivatedAt: in.at},
		domain.PlanCompleted{CompletedAt: in.at},
		domain.PlanAbandoned{PendingSince: in.at, AbandonedAt: in.at.Add(time.Nanosecond)},
		domain.PlanCancelled{Reason: in.s1, Outstanding: in.money, CancelledAt: in.at},
		domain.PlanWrittenOff{Reason: in.s2, Outstanding: in.money, WrittenOffAt: in.at},
		domain.PlanReactivated{Status: domain.Status(in.s1), ReactivatedAt: in.at},
		domain.PortalLinkRegenerated{PortalToken: in.s1, RegeneratedAt: in.at},
		domain.InstallmentPaid{PaymentID: id, Installment: in.n, Amount: in.money, PaidOn: in.date,
			Method: domain.PaymentMethod(in.s2), Reference: in.s1, Source: in.s2, ReportedAt: in.at},
		domain.InstallmentConfirmed{PaymentID: id, Amount: in.money,
			Allocations: []domain.Allocation{{Installment: in.n, Amount: in.money}}, ConfirmedAt: in.at},
		domain.InstallmentExtensionGranted{Installment: in.n, ShiftFollowing: in.flag,
			Changes: []domain.DueDateChange{{Installment: in.n, From: in.date, To: in.date}}, GrantedAt: in.at},
		domain.InstallmentDeferred{Installment: in.n, From: in.date, To: in.date, DeferredAt: in.at},
		domain.PaymentRejected{PaymentID: id, Reason: in.s1, RejectedAt: in.at},
		domain.ProposalCreated{ProposalID: id, Terms: terms, Amount: in.money, Schedule: in.schedule(),
			Consent: in.consent(), CreatedAt: in.at},
		domain.ProposalApproved{ProposalID: id, Interval: domain.Interval(in.s1), Schedule: in.schedule(), ApprovedAt: in.at},
		domain.ProposalCountered{ProposalID: id, Terms: terms, Amount: in.money, Schedule: in.schedule(),
			Message: in.s1, CounteredAt: in.at},
		domain.ProposalDeclined{ProposalID: id, Reason: in.s2, DeclinedAt: in.at},
		domain.ProposalCounterAccepted{ProposalID: id, Interval: domain.Interval(in.s2), Schedule: in.schedule(),
			Consent: in.consent(), AcceptedAt: in.at},
		domain.NotificationRequested{NoticeKey: key, Amount: in.money, RequestedAt: in.at},
		domain.NotificationSent{NoticeKey: key, MessageID: in.s1, To: in.s2, SentAt: in.at},
		domain.NotificationFailed{NoticeKey: key, Reason: in.s1, Attempts: in.n, FailedAt: in.at},
		domain.PlanEmailRequested{PlanEmailKey: emailKey, To: []string{in.s1, in.s2}, RequestedAt: in.at},
		domain.PlanEmailSent{PlanEmailKey: emailKey, To: in.s2, MessageID: in.s1, SentAt: in.at},
		domain.PlanEmailFailed{PlanEmailKey: emailKey, To: in.s1, Reason: in.s2, Attempts: in.n, FailedAt: in.at},
	}, catalogCodecEvents(in)...)
}

// catalogCodecEvents builds one event of every catalog plan and plan
// group type with in's values.
func catalogCodecEvents(in codecInput) []domain.Event {
	id := int64(in.n)
	dec := domain.NewDecimal(in.money.Minor(), -in.money.Scale())
	tax, _ := json.Marshal(map[string]any{"rate": in.s1, "inclusive": in.flag, "n": in.n})
	meta := map[string]string{in.s1: in.s2}
	return []domain.Event{
		domain.CatalogPlanCreated{CatalogPlanID: id, AccountID: -id, PublicID: in.s1, Name: in.s2, Description: in.s1,
			InvoiceDisplayName: in.s2, CatalogItem: in.s1, Currency: in.s2, Amount: &dec,
			PricingMode: domain.PricingMode(in.s1), QuantityType: domain.QuantityType(in.s2),
			Interval: domain.BillingInterval(in.s1), IntervalCount: in.n,
			Tiers:    []domain.Tier{{MaxQty: &id, UnitCost: dec}, {MinQty: &id, UnitCost: dec}},
			Metadata: meta, Tax: tax,
			PaymentOptions: domain.PaymentOptions{OutOfBand: in.flag, PrePaid: !in.flag, Credits: in.s2},
			Prices:         []string{in.s1, in.s2}, Active: in.flag, CreatedAt: in.at,
			StandardPrice: &domain.Price{ID: in.s2, UnitAmount: dec, Currency: in.s1, CreatedAt: in.at}},
		domain.CatalogPlanUpdated{Name: &in.s1, Description: &in.s2, Metadata: &meta, Active: &in.flag, UpdatedAt: in.at},
		domain.CatalogPlanDeleted{DeletedAt: in.at},
		domain.PlanGroupCreated{PlanGroupID: id, AccountID: id, PublicID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(in.s1)), Name: in.s2,
			Members:   []domain.GroupMember{{Kind: domain.MemberKind(in.s1), ID: id, PublicID: in.s2}, {Kind: domain.PaymentPlanMember, ID: -id}},
			CreatedAt: in.at},
		domain.PlanGroupUpdated{Name: in.s1, Members: []domain.GroupMember{}, UpdatedAt: in.at},
		domain.PlanGroupDeleted{DeletedAt: in.at},
	}
}

// TestCodecEventsCoverEveryType keeps FuzzEventCodec complete: it must
// build an event of every type UnmarshalEvent knows.
func TestCodecEventsCoverEveryType(t *testing.T) {
	var got []string
	for _, e := range codecEvents(newCodecInput("a", "b", 1, 2, 3, 4, 5, 6, true)) {
		got = append(got, e.EventType())
	}
	slices.Sort(got)
	if want := domain.EventTypeNames(); !slices.Equal(got, want) {
		t.Fatalf("codecEvents builds %v\nUnmarshalEvent knows %v", got, want)
	}
}

// FuzzEventCodec: for every event type, decode(encode(x)) == x and encodes
// to the same bytes again, whatever text, amount (any scale up to 18), date
// and time (years 1..9999) its fields hold. Text must be valid UTF-8: JSON
// cannot carry anything else, and the commands keep it out of events.
func FuzzEventCodec(f *testing.F) {
	f.Add("John Doe", "john@example.com", int64(40000), uint8(2), int64(739223), int64(1764206130), uint32(0), int32(3), true)
	f.Add("", "", int64(0), uint8(0), int64(0), int64(0), uint32(0), int32(0), false)
	f.Add("Zoë \"quoted\" \\ </script> \u2028", "line\nbreak\ttab", int64(-1), uint8(3), int64(-1), int64(-1), uint32(999999999), int32(-7), false)
	f.Add("\x00\x01\x7f", "\ufeff\u200b\U0001F600", int64(math.MaxInt64), uint8(18), int64(1<<62), int64(math.MinInt64), uint32(1), int32(math.MaxInt32), true)
	f.Add("1200.00", "2025-12-04", int64(math.MinInt64), uint8(255), int64(math.MaxInt64), int64(math.MaxInt64), uint32(math.MaxUint32), int32(math.MinInt32), true)
	f.Fuzz(func(t *testing.T, s1, s2 string, minor int64, scale uint8, day, unix int64, nanos uint32, n int32, flag bool) {
		if !utf8.ValidString(s1) || !utf8.ValidString(s2) {
			return // encoding/json writes U+FFFD for invalid UTF-8; see FuzzCreatePlan for how none gets in
		}
		for _, e := range codecEvents(newCodecInput(s1, s2, minor, scale, day, unix, nanos, n, flag)) {
			if err := domaintest.CheckRoundTrip(e); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzInstallmentJSON: Installment.UnmarshalJSON never panics, and its
// hand-written fast path agrees with encoding/json on everything it takes.
func FuzzInstallmentJSON(f *testing.F) {
	for _, s := range []string{`{"number":1,"amount":"400.00","due_date":"2025-12-04"}`,
		`{"due_date":null,"number":12,"amount":"0.001"}`, ` { "number" : 3 , "amount" : "-1" , "due_date" : "2025-02-28" } `,
		`{"number":01,"amount":"1","due_date":null}`, `{"number":1,"amount":"1","amount":"2"}`,
		`{"number":1,"amount":"1","due_date":"2025-02-29"}`, `{"number":1,"amount":"1\u0030","due_date":null}`,
		`{"Number":1,"amount":"1","due_date":null}`, `{"number":999999999,"amount":"9223372036854775807","due_date":null}`,
		`{"number":1,"amount":1,"due_date":null}`, `{"number":1,"amount":"1","due_date":null}x`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	type plain struct {
		Number  int          `json:"number"`
		Amount  domain.Money `json:"amount"`
		DueDate domain.Date  `json:"due_date"`
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in domain.Installment
		err := json.Unmarshal(b, &in)
		fast, ok := domain.ParseInstallmentFast(b)
		if !ok {
			return
		}
		var p plain
		if perr := json.Unmarshal(b, &p); perr != nil || domain.Installment(p) != fast {
			t.Fatalf("fast path read %q as %+v; encoding/json reads %+v (%v)", b, fast, p, perr)
		}
		if err != nil || in != fast {
			t.Fatalf("UnmarshalJSON(%q) = %+v, %v; fast path %+v", b, in, err, fast)
		}
	})
}
