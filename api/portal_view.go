package api

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"goodplan/domain"
	"goodplan/templates"
)

// portalState is what a page shows besides the plan: a notice after a
// form, a refusal, and refused forms as they were filled in.
type portalState struct {
	notice, alert     string
	payment, proposal templates.PortalForm
}

// renderPortalPlan writes the plan page for p with status.
func (s *Server) renderPortalPlan(w http.ResponseWriter, r *http.Request, p *domain.Plan, token string, status int, st portalState) {
	ctx := r.Context()
	acct, err := s.store.AccountByID(ctx, p.AccountID())
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	csrf, err := s.portalCSRF(ctx, token)
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	v := portalView(p, st, s.now())
	v.Action, v.CSRF, v.Merchant = s.portalPath(token), csrf, acct.Name
	if v.Proposal != nil && v.Proposal.Counter != nil {
		v.Proposal.AcceptAction = v.Action + "/proposals/" + strconv.FormatInt(v.Proposal.ID, 10) + "/accept"
	}
	var b bytes.Buffer
	if err := templates.RenderPortalPlan(&b, v); err != nil {
		s.portalFail(w, r, err)
		return
	}
	writeHTML(w, status, b.Bytes())
}

// portalPath is the path of the page of token as customers reach it: under
// the path of PUBLIC_URL, like the links in emails.
func (s *Server) portalPath(token string) string {
	base := ""
	if u, err := url.Parse(s.publicURL); err == nil {
		base = strings.TrimRight(u.Path, "/")
	}
	return base + "/plan/" + url.PathEscape(token)
}

// portalView renders p as the page's view at now (what is overdue, which
// dates a form takes).
func portalView(p *domain.Plan, st portalState, now time.Time) templates.PortalPlan {
	inv := p.Invoice()
	today := domain.DateOf(now)
	v := templates.PortalPlan{
		FormID:        newFormID(),
		Customer:      p.Customer().Name,
		Amount:        inv.Amount.String(),
		Currency:      inv.Currency,
		InvoiceNumber: inv.InvoiceNumber,
		Description:   inv.Description,
		Status:        string(p.Status()),
		Notice:        st.notice,
		Alert:         st.alert,
		PaymentForm:   st.payment,
		ProposalForm:  st.proposal,
		Intervals:     []string{string(domain.Weekly), string(domain.Biweekly), string(domain.Monthly)},
		Today:         today.String(),
		MaxPaidOn:     domain.LatestPaidOn(today).String(),
		MaxFirstDate:  domain.LatestFirstPaymentDate(today).String(),
	}
	for _, m := range domain.PaymentMethods {
		v.Methods = append(v.Methods, string(m))
	}
	if v.ProposalForm.Values == nil {
		v.ProposalForm.Values = map[string]string{"interval": string(domain.Monthly)}
	}
	switch p.Status() {
	case domain.StatusCompleted:
		v.StatusSince = domain.DateOf(p.CompletedAt()).String()
	case domain.StatusCancelled, domain.StatusWrittenOff, domain.StatusAbandoned:
		if at, _ := p.Closed(); !at.IsZero() {
			v.StatusSince = domain.DateOf(at).String()
		}
	case domain.StatusPending:
		for _, o := range p.Options() {
			v.Options = append(v.Options, portalOption(o))
		}
	}
	for _, in := range p.Installments() {
		pi := templates.PortalInstallment{Number: in.Number, DueDate: in.DueDate.String(), Amount: in.Amount.String(),
			Paid: in.Paid.String(), Outstanding: in.Outstanding.String(), Status: string(in.Status),
			Overdue: p.Overdue(in, today)}
		v.Schedule = append(v.Schedule, pi)
		if v.NextDue == nil && in.Status.Open() {
			v.NextDue = &pi
		}
	}
	l := p.Ledger()
	v.Ledger = templates.PortalLedger{Total: l.Total.String(), Paid: l.Paid.String(), Reported: l.Reported.String(),
		Outstanding: l.Outstanding.String(), HasReported: !l.Reported.IsZero()}
	if l.Total.Minor() > 0 {
		v.Ledger.PaidPercent = int(min(100, max(0, l.Paid.Minor()*100/l.Total.Minor())))
	}
	pays := p.Payments()
	for i := len(pays) - 1; i >= 0; i-- {
		pay := pays[i]
		pp := templates.PortalPayment{Amount: pay.Amount.String(), PaidOn: pay.PaidOn.String(), Method: string(pay.Method),
			Reference: pay.Reference, Status: string(pay.Status)}
		if pay.ConfirmedAmount != nil {
			pp.ConfirmedAmount = pay.ConfirmedAmount.String()
		}
		v.Payments = append(v.Payments, pp)
	}
	if prs := p.Proposals(); len(prs) > 0 {
		v.Proposal = portalProposal(prs[len(prs)-1])
	}
	v.CanPropose = p.CanProposeSchedule()
	return v
}

func portalOption(o domain.Option) templates.PortalOption {
	po := templates.PortalOption{ID: o.ID, Installments: o.Installments, Interval: string(o.Interval),
		PaymentAmount: o.PaymentAmount.String(), FirstPaymentDate: o.FirstPaymentDate.String(),
		FinalPaymentDate: o.FinalPaymentDate.String(), Schedule: portalSchedule(o.Schedule)}
	if n := len(o.Schedule); n > 1 && o.Schedule[n-1].Amount.Cmp(o.PaymentAmount) != 0 {
		po.OtherAmount = o.Schedule[n-1].Amount.String()
	}
	return po
}

func portalSchedule(s []domain.Installment) []templates.PortalInstallment {
	out := make([]templates.PortalInstallment, len(s))
	for i, in := range s {
		out[i] = templates.PortalInstallment{Number: in.Number, DueDate: in.DueDate.String(), Amount: in.Amount.String()}
	}
	return out
}

func portalTerms(t domain.Terms) templates.PortalTerms {
	return templates.PortalTerms{Installments: t.Installments, Interval: string(t.Interval),
		FirstPaymentDate: t.FirstPaymentDate.String()}
}

// portalProposal renders a proposal; a countered one shows the counter's
// amount, the sum of its schedule.
func portalProposal(pr domain.Proposal) *templates.PortalProposal {
	v := &templates.PortalProposal{ID: pr.ID, Status: string(pr.Status), Terms: portalTerms(pr.Terms),
		Amount: pr.Amount.String(), Message: pr.Message}
	if pr.Counter != nil {
		t := portalTerms(*pr.Counter)
		v.Counter, v.CounterSchedule = &t, portalSchedule(pr.CounterSchedule)
		if len(pr.CounterSchedule) > 0 {
			sum := pr.CounterSchedule[0].Amount
			for _, in := range pr.CounterSchedule[1:] {
				sum = sum.Add(in.Amount)
			}
			v.Amount = sum.String()
		}
	}
	return v
}
