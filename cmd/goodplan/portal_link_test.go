package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"goodplan/eventstore/pgtest"
)

// TestPortalLinkWorksAtOnce: merchants redirect customers to the
// customer_portal_url straight from the 201, so a GET of it right after the
// create is a 200, every time, while other plans are being created
// concurrently (the read model busy and behind).
func TestPortalLinkWorksAtOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	acct := createAccount(t, db, "--name", "Redirect & Co", "--rate-limit", "0")
	key := createKey(t, db, acct)
	// One test client opens every link: the per-IP limit is for strangers.
	srv := startServer(t, db, "IP_RATE_LIMIT=0", "IP_BURST=0")

	const total, workers = 1000, 8
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > total {
					return
				}
				if err := createAndOpen(t.Context(), srv.URL, key, n); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// createAndOpen creates plan n and opens its portal link at once.
func createAndOpen(ctx context.Context, base, key string, n int64) error {
	body := fmt.Sprintf(`{"customer":{"name":"Customer %d","email":"c%d@example.com"},"invoice":{"amount":%d.25},"send_introduction_email":false}`, n, n, 100+n)
	status, b, err := sendRequest(ctx, "POST", base+"/api/v1/plans", key, body)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("plan %d: create %d %s", n, status, b)
	}
	var c createdPlan
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	link := strings.Replace(c.CustomerPortalURL, "http://portal.test", base, 1)
	status, page, err := sendRequest(ctx, "GET", link, "", "")
	if err != nil {
		return err
	}
	if status != http.StatusOK || !strings.Contains(string(page), "data-option-id") {
		return fmt.Errorf("plan %d: GET %s right after the 201: %d\n%.300s", c.PlanID, link, status, page)
	}
	return nil
}
