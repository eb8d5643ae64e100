package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// TestPaygenticSeedExampleThroughServe runs the Paygentic seed's create
// example (placeholders filled, paymentOptions as printed) against a
// started server, with merchantId "org_" + the id `goodplan accounts
// create` printed: 201 in the seed's shape; the plan reaches the list
// through the relay and the catalog projection; it is soft deleted and
// stays readable; replay and verify accept the events with their prices.
func TestPaygenticSeedExampleThroughServe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Paygentic Co", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL)
	body := `{
  "name": "Pro",
  "invoiceDisplayName": "Pro plan",
  "description": "Everything",
  "billingInterval": "P3M",
  "currency": "usd",
  "merchantId": "org_` + strconv.FormatInt(acct, 10) + `",
  "productId": "prod_123",
  "tax": {"rate": "20%"},
  "prices": [],
  "price": "10.99",
  "paymentOptions": {"outOfBand": true, "payAsYouGo": true, "prePaid": false, "postPaid": false, "credits": ""}
}`
	status, created := call(t, http.MethodPost, srv.URL+"/v0/plans", key, body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, created)
	}
	requireKeys(t, "plan", created, "id", "object", "name", "paymentOptions", "invoiceDisplayName", "description",
		"billingInterval", "currency", "merchantId", "productId", "walletNamespaceId", "tax", "prices",
		"createdAt", "updatedAt", "deletedAt")
	var p struct {
		ID, Object, BillingInterval, Currency, MerchantID string
		PaymentOptions                                    json.RawMessage
		Tax                                               json.RawMessage
		Prices                                            []json.RawMessage
		DeletedAt                                         *string
	}
	if err := json.Unmarshal(created, &p); err != nil {
		t.Fatal(err)
	}
	if p.Object != "plan" || p.BillingInterval != "P3M" || p.Currency != "USD" || p.MerchantID != "org_"+strconv.FormatInt(acct, 10) ||
		string(p.PaymentOptions) != `{"outOfBand":true,"payAsYouGo":true,"prePaid":false,"postPaid":false,"credits":""}` ||
		string(p.Tax) != `{"rate":"20%"}` || len(p.Prices) != 1 || p.DeletedAt != nil {
		t.Fatalf("created %s", created)
	}
	requireKeys(t, "price", p.Prices[0], "id", "object", "billableMetricId", "model", "invoiceDisplayName", "properties",
		"description", "unitAmount", "currency", "createdAt", "updatedAt")
	if !strings.Contains(string(p.Prices[0]), `"object":"price","billableMetricId":null,"model":"standard",`) ||
		!strings.Contains(string(p.Prices[0]), `"unitAmount":"10.99","currency":"USD",`) {
		t.Fatalf("price %s", p.Prices[0])
	}
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the catalog read model to list the plan", func() error {
		status, b := call(t, http.MethodGet, srv.URL+"/v0/plans", key, "")
		if status != http.StatusOK {
			t.Fatalf("list: %d %s", status, b)
		}
		if !strings.Contains(string(b), `{"data":[`+string(created)+`],"pagination":{"limit":20,"offset":0,"total":1}}`) {
			return errors.New("not listed yet: " + string(b))
		}
		return nil
	})
	status, deleted := call(t, http.MethodDelete, srv.URL+"/v0/plans/"+p.ID, key, "")
	if status != http.StatusOK || strings.Contains(string(deleted), `"deletedAt":null`) {
		t.Fatalf("delete: %d %s", status, deleted)
	}
	if status, got := call(t, http.MethodGet, srv.URL+"/v0/plans/"+p.ID, key, ""); status != http.StatusOK || string(got) != string(deleted) {
		t.Fatalf("GET after delete: %d %s, want %s", status, got, deleted)
	}
	// Another merchant's id is refused.
	other := strings.Replace(body, `"org_`+strconv.FormatInt(acct, 10)+`"`, `"org_`+strconv.FormatInt(acct+1000, 10)+`"`, 1)
	if status, b := call(t, http.MethodPost, srv.URL+"/v0/plans", key, other); status != http.StatusForbidden ||
		!strings.HasPrefix(string(b), `{"error":{"code":"forbidden",`) {
		t.Fatalf("another merchant: %d %s", status, b)
	}
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the list to drop the deleted plan", func() error {
		if _, b := call(t, http.MethodGet, srv.URL+"/v0/plans", key, ""); !strings.Contains(string(b), `"total":0`) {
			return errors.New("still listed: " + string(b))
		}
		return nil
	})
	if res := runCLI(t, dbURL, "replay", "--wait", "5s"); res.code != 0 {
		t.Fatalf("replay: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := runCLI(t, dbURL, "verify"); res.code != 0 || !strings.Contains(res.stdout, ", 1 prices with the plans that mint them") {
		t.Fatalf("verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
