package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
)

// benchUserAgent is sent by the load generator and written into the
// metadata of generated events.
const benchUserAgent = "goodplan-bench/1"

// planSpec picks the distinct content of plan n.
type planSpec struct {
	n         int64
	durations []int // monthly options
	sendIntro bool
	now       time.Time
}

// amountOf is a distinct amount per n: 100.00 to 99,999.99.
func amountOf(n int64) string {
	cents := 10000 + (n*7919)%9989999
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// createPlanEvent decides a real domain CreatePlan for spec, with ids from
// nextID, and returns the plan.created event and its stored JSON bytes.
func createPlanEvent(spec planSpec, accountID int64, nextID func() int64) (domain.PlanCreated, []byte, error) {
	cmd := domain.CreatePlan{
		AccountID:     accountID,
		PortalToken:   portalToken(spec.n),
		Now:           spec.now,
		CustomerName:  "Customer " + strconv.FormatInt(spec.n, 10),
		CustomerEmail: "customer" + strconv.FormatInt(spec.n, 10) + "@example.com",
		CustomerPhone: "+1-555-0100",
		Amount:        amountOf(spec.n),
		Currency:      "USD",
		InvoiceNumber: "INV-" + strconv.FormatInt(spec.n, 10),
		Description:   "Past due consulting services",
		Intervals:     []string{"monthly"},
		Durations:     spec.durations,

		SendIntroductionEmail: spec.sendIntro,
	}
	cmd.PlanID, cmd.CustomerID, cmd.InvoiceID = nextID(), nextID(), nextID()
	for range cmd.OptionCount() {
		cmd.OptionIDs = append(cmd.OptionIDs, nextID())
	}
	var p domain.Plan
	evs, err := p.CreatePlan(cmd)
	if err != nil {
		return domain.PlanCreated{}, nil, fmt.Errorf("create plan %d: %w", spec.n, err)
	}
	_, data, err := domain.MarshalEvent(evs[0])
	if err != nil {
		return domain.PlanCreated{}, nil, err
	}
	return evs[0].(domain.PlanCreated), data, nil
}

// portalToken is a distinct 43-character URL-safe token, as long as the
// API's (which are random).
func portalToken(n int64) string {
	return fmt.Sprintf("bench%038d", n)
}

// apiMetadata is the metadata the API writes for a merchant's request.
func apiMetadata(accountID int64) []byte {
	b, _ := json.Marshal(eventstore.Metadata{
		AccountID: accountID, Actor: "merchant", CommandID: uuid.NewString(),
		IP: "127.0.0.1", UserAgent: benchUserAgent,
	})
	return b
}

// planBody is the POST /api/v1/plans body of plan n: distinct customer,
// invoice number and amount, three monthly options, no email.
func planBody(n int64) []byte {
	s := strconv.FormatInt(n, 10)
	return []byte(`{"customer":{"name":"Customer ` + s + `","email":"customer` + s + `@example.com","phone":"+1-555-0100"},` +
		`"invoice":{"amount":"` + amountOf(n) + `","invoice_number":"INV-` + s + `","description":"Past due consulting services"},` +
		`"options":{"intervals":["monthly"],"durations":[3,6,12]},"send_introduction_email":false}`)
}

// planIDFromBody reads plan_id from a 201 body without a full JSON decode
// (the load generator shares the CPUs with the server).
func planIDFromBody(b []byte) (int64, bool) {
	const key = `"plan_id":`
	for i := 0; i+len(key) <= len(b); i++ {
		if string(b[i:i+len(key)]) != key {
			continue
		}
		j := i + len(key)
		k := j
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			k++
		}
		id, err := strconv.ParseInt(string(b[j:k]), 10, 64)
		return id, err == nil
	}
	return 0, false
}
