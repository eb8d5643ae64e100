package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"goodplan/projections"
	"goodplan/templates"
)

// The dashboard's CSV exports: GET /dashboard/plans/export.csv and
// GET /dashboard/payments/export.csv, with the plan list's filters (status,
// q). UTF-8, a header row, RFC 4180 quoting, amounts as exact decimals,
// times in RFC 3339 UTC. Rows are written as they are read, a batch of
// plans at a time (projections.Plans.EachListed), so an export of any size
// holds one batch in memory. A cell that a spreadsheet would read as a
// formula (starting with = + - @, a tab or a carriage return) is prefixed
// with an apostrophe (CSV injection).

var planCSVHeader = []string{"plan_id", "status", "customer_name", "customer_email", "invoice_number",
	"currency", "amount", "outstanding", "created_at"}

var paymentCSVHeader = []string{"plan_id", "plan_status", "customer_name", "customer_email", "invoice_number",
	"currency", "payment_id", "payment_status", "amount", "confirmed_amount", "paid_on", "method", "reference",
	"source", "reported_at", "confirmed_at", "rejected_at", "reject_reason"}

// dashboardExportPlans is GET /dashboard/plans/export.csv?status=&q=.
func (s *Server) dashboardExportPlans(w http.ResponseWriter, r *http.Request) {
	s.exportCSV(w, r, "plans", planCSVHeader, func(q projections.PlanListQuery, write func([]string) error) error {
		return s.plans.EachListed(r.Context(), q, func(p projections.PlanListRow) error {
			return write(append(planCSVCells(p), p.CustomerName, p.CustomerEmail, p.InvoiceNumber,
				p.Currency, p.Amount, p.Outstanding, csvTime(&p.CreatedAt)))
		})
	})
}

// dashboardExportPayments is GET /dashboard/payments/export.csv?status=&q=:
// every payment of the plans the filters select.
func (s *Server) dashboardExportPayments(w http.ResponseWriter, r *http.Request) {
	s.exportCSV(w, r, "payments", paymentCSVHeader, func(q projections.PlanListQuery, write func([]string) error) error {
		return s.plans.EachPayment(r.Context(), q, func(row projections.PaymentListRow) error {
			p, pay := row.Plan, row.Payment
			confirmed := ""
			if pay.ConfirmedAmount != nil {
				confirmed = pay.ConfirmedAmount.String()
			}
			return write(append(planCSVCells(p), p.CustomerName, p.CustomerEmail, p.InvoiceNumber, p.Currency,
				strconv.FormatInt(pay.ID, 10), string(pay.Status), pay.Amount.String(), confirmed, pay.PaidOn.String(),
				string(pay.Method), pay.Reference, pay.Source, csvTime(&pay.ReportedAt), csvTime(pay.ConfirmedAt),
				csvTime(pay.RejectedAt), pay.RejectReason))
		})
	})
}

// planCSVCells are the first cells of a plan's row: its id and status.
func planCSVCells(p projections.PlanListRow) []string {
	return []string{strconv.FormatInt(p.PlanID, 10), p.Status}
}

// csvTime is t in RFC 3339 UTC, "" for none.
func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// exportCSV answers an export named name ("plans": plans-2026-12-03.csv)
// with header and the rows each calls write with, for the list's filters.
// A bad filter is the 400 page. Once rows are being sent a failure cannot
// change the status any more: it is logged and the response is cut off
// (http.ErrAbortHandler), so the download fails rather than looking
// complete.
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request, name string, header []string,
	each func(projections.PlanListQuery, func([]string) error) error) {
	u := dashboardUserOf(r)
	q, bad := planListFilter(r, u.AccountID, s.now())
	if bad != "" {
		s.dashboardMessage(w, r, http.StatusBadRequest, templates.DashboardBadRequest)
		return
	}
	q.After, q.Before = 0, 0
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+"-"+s.now().UTC().Format("2006-01-02")+`.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	rc := http.NewResponseController(w)
	rows := 0
	write := func(cells []string) error {
		for i, c := range cells {
			cells[i] = csvSafe(c)
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
		if rows++; rows%500 == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			_ = rc.Flush() // a writer that cannot flush sends at the end
		}
		return nil
	}
	err := write(append([]string(nil), header...))
	if err == nil {
		err = each(q, write)
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		if r.Context().Err() == nil { // not the client going away
			s.log.ErrorContext(r.Context(), "dashboard export", "export", name, "rows", rows, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// csvSafe is cell as a spreadsheet reads it as text: a cell starting with
// a character that makes it a formula (= + - @) or with a tab or carriage
// return gets an apostrophe in front (OWASP's CSV injection advice).
func csvSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
