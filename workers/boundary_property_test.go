package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"goodplan/api"
	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
	"goodplan/workers"
)

// The guarantee of the boundary, as a property: whatever the API or the
// portal accepts, every consumer can process. Random requests full of
// hostile text (every Unicode plane, controls, format characters, broken
// UTF-8, markup), extreme amounts and dates and maximum lengths go through
// the real router; for each accepted one, every new event is applied by the
// projection, encoded for NATS within its payload limit and decoded back,
// turned into its webhook body and, for a new plan, into its introduction
// email's MIME message; the plan reads back and its portal page renders.
// A refused request appends nothing. At the end replay rebuilds every plan
// without a difference.

// boundaryNow is the property test's clock.
var boundaryNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

const boundaryPublicURL = "https://pay.example.com"

// natsPayloadLimit is NATS's default max_payload, the smallest a goodplan
// installation runs with.
const natsPayloadLimit = 1 << 20

// printable are the pieces of text a careful API should accept: every
// plane, markup, quotes, joiners.
var printable = []string{
	"a", "Z", "0", " ", "é", "中", "ع", "😀", "𝔘", "\U0010FFFD", "\U000F0000", "e\u0301", "\u200d", "\u200c",
	"<script>", ">", "&amp;", `"`, "'", `\`, "%s", "{{.}}", "\\u0000", "\ufffd", "Ω", "ß", "ﬁ", "👩\u200d👩\u200d👧",
}

// pieces are what hostile strings are made of.
var pieces = []string{
	"a", "Z", "0", " ", "é", "中", "ع", "😀", "𝔘", "\U0010FFFF", "\U000F0000", "\U000E0001", "e\u0301",
	"\x00", "\x01", "\x1b", "\x1f", "\x7f", "\u0080", "\u0085", "\u009f",
	"\u200b", "\u200e", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u2028", "\ufffd",
	"\n", "\r\n", "\t", "<script>", ">", "&amp;", `"`, "'", `\`, "%s", "{{.}}", "\\u0000",
	"\xff", "\xc3", "\xed\xa0\x80", // broken UTF-8, a UTF-8-encoded surrogate
}

type gen struct{ *rand.Rand }

// text returns a string of at most n characters: printable text from
// every plane mostly, hostile text (controls, format characters, broken
// UTF-8) one time in eight.
func (g gen) text(n int) string {
	from := printable
	if g.IntN(8) == 0 {
		from = pieces
	}
	var b strings.Builder
	for runes := 0; runes < n; {
		p := "abcdefgh xyz.-_"[g.IntN(15):][:1]
		if g.IntN(5) == 0 {
			p = from[g.IntN(len(from))]
		}
		if k := utf8.RuneCountInString(p); runes+k <= n || k == 0 {
			b.WriteString(p)
			runes += max(k, 1)
		} else {
			b.WriteByte('a')
			runes++
		}
	}
	return b.String()
}

// header is a hostile header value of about n characters: what HTTP can
// carry (no line breaks, no NUL).
func (g gen) header(n int) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0 {
			return -1
		}
		return r
	}, g.text(n))
}

// size is a text length for a field of at most limit characters: often
// short, often the limit itself, now and then one past it.
func (g gen) size(limit int) int {
	switch g.IntN(10) {
	case 0:
		return limit + 1
	case 1, 2, 3:
		return limit
	default:
		return 1 + g.IntN(min(limit, 40))
	}
}

func (g gen) pick(s ...string) string { return s[g.IntN(len(s))] }

func (g gen) date() string {
	switch g.IntN(6) {
	case 0:
		return g.pick("9999-12-31", "9999-12-30", "9999-01-31", "1970-01-01", "1969-12-31", "0001-01-01", "10000-01-01", "2027-02-29", "2028-02-29")
	case 1:
		return g.text(g.IntN(12))
	default:
		return boundaryNow.AddDate(0, 0, g.IntN(400)-10).Format(time.DateOnly)
	}
}

func (g gen) amount() string {
	switch g.IntN(8) {
	case 0:
		return g.pick("0.01", "1", "12.345", "99999999999.99", "999999999999999999999", "1e2", "-5", "0", "1.0000000001", "NaN", "0x10")
	case 1:
		digits := strings.Repeat("9", 1+g.IntN(25))
		return digits + g.pick("", ".9", ".99", ".999")
	default:
		return strconv.Itoa(1+g.IntN(5000)) + "." + fmt.Sprintf("%02d", g.IntN(100))
	}
}

// quote writes s as a JSON string but leaves broken UTF-8 as raw bytes, as a
// hostile client would send it.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (g gen) createBody() string {
	email := "c" + strconv.Itoa(g.IntN(1e6)) + "@example.com"
	if g.IntN(6) == 0 {
		email = g.text(g.IntN(30)) + "@example.com"
	}
	amount := g.amount()
	amountJSON := quote(amount)
	if g.IntN(2) == 0 && !strings.ContainsAny(amount, "xN") {
		amountJSON = amount
	}
	intervals := []string{quote(g.pick("weekly", "biweekly", "monthly"))}
	for _, iv := range []string{"weekly", "biweekly", "monthly"} {
		if g.IntN(3) == 0 {
			intervals = append(intervals, quote(iv))
		}
	}
	if g.IntN(10) == 0 {
		intervals = append(intervals, quote(g.text(8)))
	}
	durations := []string{}
	for range 1 + g.IntN(3) {
		d := []int{2, 3, 6, 12, 96}[g.IntN(5)]
		if g.IntN(25) == 0 {
			d = []int{0, 1, 97}[g.IntN(3)]
		}
		durations = append(durations, strconv.Itoa(d))
	}
	return fmt.Sprintf(`{"customer":{"name":%s,"email":%s,"phone":%s},`+
		`"invoice":{"amount":%s,"currency":%s,"invoice_number":%s,"description":%s},`+
		`"options":{"intervals":[%s],"durations":[%s],"first_payment_date":%s},"send_introduction_email":%v}`,
		quote(g.text(g.size(domain.MaxNameLen))), quote(email), quote(g.pick("", "+1-555-123-4567", "+44 20 7946 0958", "+1-555-123-4567", g.text(g.IntN(60)))),
		amountJSON, quote(g.pick("", "USD", "USD", "USD", "KWD", "EUR", "EUR", "JPY", "USD", "KWD", "JPY", "", "XXX", g.text(3))),
		quote(g.text(g.size(domain.MaxInvoiceNumberLen))), quote(g.text(g.size(domain.MaxDescriptionLen))),
		strings.Join(intervals, ","), strings.Join(durations, ","), quote(g.pick("", "", g.date())), g.IntN(2) == 0)
}

// command is a merchant command on plan id with a hostile body.
func (g gen) command(id int64) (path, body string) {
	base := "/api/v1/plans/" + strconv.FormatInt(id, 10)
	n := strconv.Itoa(1 + g.IntN(4))
	switch g.IntN(7) {
	case 0, 1:
		return base + "/payments", fmt.Sprintf(`{"amount":%s,"method":%s,"paid_on":%s,"reference":%s}`,
			quote(g.amount()), quote(g.pick("check", "cash", "bank_transfer", "card", "other", g.text(g.size(40)))),
			quote(g.date()), quote(g.text(g.size(domain.MaxReferenceLen))))
	case 2:
		return base + "/installments/" + n + "/extend", fmt.Sprintf(`{"due_date":%s,"shift_following":%v}`, quote(g.date()), g.IntN(2) == 0)
	case 3:
		return base + "/installments/" + n + "/defer", `{}`
	case 4:
		return base + g.pick("/cancel", "/write-off"), fmt.Sprintf(`{"reason":%s}`, quote(g.text(g.size(domain.MaxReasonLen))))
	case 5:
		return base + "/reactivate", `{}`
	default:
		return base + "/portal-link", ``
	}
}

// boundaryEnv is the router and every consumer, on one test database.
type boundaryEnv struct {
	t       *testing.T
	ctx     context.Context
	store   *eventstore.Store
	acct    eventstore.Account
	key     string
	srv     *api.Server
	plans   *projections.Plans
	fanout  *workers.WebhookFanout
	mailer  *workers.EmailWorker
	applied map[string]int64 // stream -> version applied by the projection
}

func (e *boundaryEnv) do(method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(e.ctx, method, path, strings.NewReader(body))
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+e.key)
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

func (e *boundaryEnv) eventCount() int64 {
	var n int64
	if err := e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// check runs a request and holds it to the property: a 2xx's new events are
// processed by every consumer; a 4xx appended nothing; never a 5xx.
func (e *boundaryEnv) check(what, method, path, body string, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	before := e.eventCount()
	res := e.do(method, path, body, header...)
	switch {
	case res.Code >= 500:
		e.t.Fatalf("%s: %d %s\nbody sent: %q", what, res.Code, res.Body, body)
	case res.Code >= 400:
		if after := e.eventCount(); after != before {
			e.t.Fatalf("%s: refused with %d but %d events were appended\nbody sent: %q", what, res.Code, after-before, body)
		}
	default:
		e.consume(what, body)
	}
	return res
}

// consume hands every event not yet applied to every consumer.
func (e *boundaryEnv) consume(what, body string) {
	e.t.Helper()
	rows, err := e.store.Pool().Query(e.ctx, `SELECT DISTINCT stream_id FROM events`)
	if err != nil {
		e.t.Fatal(err)
	}
	var streams []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		streams = append(streams, s)
	}
	if rows.Err() != nil {
		e.t.Fatal(rows.Err())
	}
	for _, stream := range streams {
		recs, _, err := e.store.Load(e.ctx, stream)
		if err != nil {
			e.t.Fatalf("%s: load %s: %v\nbody sent: %q", what, stream, err, body)
		}
		for _, rec := range recs {
			if rec.Version <= e.applied[stream] {
				continue
			}
			e.consumeOne(what, body, rec)
			e.applied[stream] = rec.Version
		}
	}
}

func (e *boundaryEnv) consumeOne(what, body string, rec eventstore.Record) {
	e.t.Helper()
	fail := func(step string, err error) {
		e.t.Fatalf("%s: %s of %s v%d (%s): %v\nbody sent: %q\nevent data: %.1000s\nmetadata: %.1000s",
			what, step, rec.StreamID, rec.Version, rec.Type, err, body, rec.Data, rec.Metadata)
	}
	msg, err := workers.EncodeRecord(rec)
	if err != nil {
		fail("NATS encoding", err)
	}
	if len(msg) > natsPayloadLimit-4096 {
		fail("NATS encoding", fmt.Errorf("%d bytes, NATS takes %d", len(msg), natsPayloadLimit))
	}
	back, err := workers.DecodeRecord(msg)
	if err != nil || back.EventID != rec.EventID || !bytes.Equal(back.Data, rec.Data) || !bytes.Equal(back.Metadata, rec.Metadata) {
		fail("NATS decoding", fmt.Errorf("%v (round trip differs: %v)", err, err == nil))
	}
	if err := e.plans.Apply(e.ctx, rec); err != nil {
		fail("projection", err)
	}
	if domain.IsWebhookEventType(rec.Type) {
		payload, err := e.fanout.WebhookPayloadOf(e.ctx, rec)
		if err == nil && !json.Valid(payload) {
			err = fmt.Errorf("payload is not JSON: %.200s", payload)
		}
		if err != nil {
			fail("webhook payload", err)
		}
	}
	if rec.Type == domain.EventPlanCreated {
		id, _ := eventstore.PlanIDOf(rec.StreamID)
		p, _, _, err := e.store.LoadPlan(e.ctx, id)
		if err == nil {
			err = e.mailer.IntroductionMIME(p, e.acct, io.Discard)
		}
		if err != nil {
			fail("introduction email", err)
		}
	}
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formIDRe = regexp.MustCompile(`name="form_id" value="([^"]+)"`)
	optionRe = regexp.MustCompile(`data-option-id="(\d+)"`)
)

// portal opens plan's link with a hostile user agent, chooses an option and
// reports a payment with hostile fields.
func (e *boundaryEnv) portal(g gen, portalURL string) {
	e.t.Helper()
	path := strings.TrimPrefix(portalURL, boundaryPublicURL)
	agent := g.header([]int{10, 512, 600, 4000}[g.IntN(4)])
	page := e.do("GET", path, "", "User-Agent", agent)
	if page.Code != http.StatusOK {
		e.t.Fatalf("portal page of an accepted plan: %d\n%.500s", page.Code, page.Body)
	}
	form := func(body string, fields ...string) url.Values {
		csrf, fid := csrfRe.FindStringSubmatch(body), formIDRe.FindStringSubmatch(body)
		if csrf == nil || fid == nil {
			e.t.Fatalf("portal page without csrf or form_id:\n%.500s", body)
		}
		v := url.Values{"csrf": {csrf[1]}, "form_id": {fid[1]}}
		for i := 0; i+1 < len(fields); i += 2 {
			v.Set(fields[i], fields[i+1])
		}
		return v
	}
	post := func(what, to string, v url.Values) {
		e.check(what, "POST", to, v.Encode(), "Content-Type", "application/x-www-form-urlencoded",
			"User-Agent", agent, "Origin", boundaryPublicURL)
	}
	if m := optionRe.FindStringSubmatch(page.Body.String()); m != nil {
		post("portal select", path+"/select", form(page.Body.String(), "option_id", m[1]))
	}
	page = e.do("GET", path, "", "User-Agent", agent)
	if page.Code != http.StatusOK {
		e.t.Fatalf("portal page after a choice: %d\n%.500s", page.Code, page.Body)
	}
	if strings.Contains(page.Body.String(), `name="reference"`) {
		post("portal payment", path+"/payments", form(page.Body.String(), "amount", g.amount(), "paid_on", g.date(),
			"method", g.pick("check", "cash", "bank_transfer", g.text(g.size(40))), "reference", g.text(g.size(domain.MaxReferenceLen))))
	}
}

func TestEveryAcceptedInputIsProcessedByEveryConsumer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: `Property <&> "Co" 😀`})
	if err != nil {
		t.Fatal(err)
	}
	key, err := store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return boundaryNow }
	e := &boundaryEnv{t: t, ctx: ctx, store: store, acct: acct, key: key,
		srv:     api.New(api.Config{Store: store, PublicURL: boundaryPublicURL, Now: now}),
		plans:   projections.NewPlans(store),
		fanout:  &workers.WebhookFanout{Store: store, PublicURL: boundaryPublicURL},
		mailer:  &workers.EmailWorker{Store: store, PublicURL: boundaryPublicURL, Now: now},
		applied: map[string]int64{},
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	g := gen{rand.New(rand.NewPCG(seed, 9))}
	rounds, accepted := 300, 0
	if testing.Short() {
		rounds = 60
	}
	for i := range rounds {
		body := g.createBody()
		requestID := g.header([]int{10, 128, 129, 4000}[g.IntN(4)])
		res := e.check(fmt.Sprintf("create #%d", i), "POST", "/api/v1/plans", body, "X-Request-Id", requestID)
		if res.Code != http.StatusCreated {
			continue
		}
		accepted++
		var created struct {
			PlanID            int64  `json:"plan_id"`
			CustomerPortalURL string `json:"customer_portal_url"`
		}
		if err := json.Unmarshal(res.Body.Bytes(), &created); err != nil {
			t.Fatal(err)
		}
		if g.IntN(2) == 0 {
			e.portal(g, created.CustomerPortalURL)
		}
		for range g.IntN(6) {
			path, body := g.command(created.PlanID)
			e.check("command "+path, "POST", path, body)
		}
		if got := e.do("GET", "/api/v1/plans/"+strconv.FormatInt(created.PlanID, 10), ""); got.Code != http.StatusOK {
			t.Fatalf("read plan %d: %d %s", created.PlanID, got.Code, got.Body)
		}
	}
	t.Logf("%d of %d random creates accepted", accepted, rounds)
	if accepted < rounds/20 {
		t.Fatalf("only %d of %d random creates accepted: the generator is too hostile to test consumers", accepted, rounds)
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if len(res.Diffs) != 0 {
		t.Fatalf("replay found %d differences, first: %s", len(res.Diffs), res.Diffs[0])
	}
}
