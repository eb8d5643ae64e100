package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// A plan group's request body and its members: catalog plans named by
// their public id ("plans") and payment plans by their id
// ("payment_plans"), resolved in the caller's account before the command
// decides. A plan that does not exist there, or a catalog plan that was
// deleted, is a 422 naming plans.{i} or payment_plans.{i}.

// planGroupBody is a decoded create or replace body.
type planGroupBody struct {
	Name         string
	Plans        []string
	PaymentPlans []int64
}

// decodePlanGroup reads a plan group body; type errors are returned as a
// validation error, merged later with the domain's.
func decodePlanGroup(body []byte) (planGroupBody, *domain.ValidationError, error) {
	root, err := parseObject(body)
	if err != nil {
		return planGroupBody{}, nil, err
	}
	var f fieldReader
	b := planGroupBody{Name: f.str(root, "name", "name"), Plans: f.strings(root, "plans", "plans")}
	if raw := bytes.TrimSpace(root["payment_plans"]); !isNull(raw) {
		var nums []json.Number
		if err := json.Unmarshal(raw, &nums); err != nil {
			f.errs.Add("payment_plans", "The payment_plans must be an array of payment plan ids.")
		}
		for i, n := range nums {
			id, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil || id <= 0 {
				f.errs.Add("payment_plans."+strconv.Itoa(i), "The payment_plans."+strconv.Itoa(i)+" must be a payment plan id.")
			}
			b.PaymentPlans = append(b.PaymentPlans, id)
		}
	}
	return b, f.typeErrors(), nil
}

// resolveMembers resolves b's plans in account into the domain's member
// inputs; problems are added to ve (allocated when nil). Catalog plans
// are checked on their aggregate, so a plan deleted a moment ago is
// refused even when the read model has not seen the deletion.
func (s *Server) resolveMembers(ctx context.Context, account int64, b planGroupBody, ve **domain.ValidationError) ([]domain.MemberInput, error) {
	add := func(field, msg string) {
		if *ve == nil {
			*ve = &domain.ValidationError{}
		}
		if (*ve).Fields[field] == nil {
			(*ve).Add(field, msg)
		}
	}
	in := make([]domain.MemberInput, 0, len(b.Plans)+len(b.PaymentPlans))
	if len(b.Plans)+len(b.PaymentPlans) > domain.MaxGroupMembers {
		// The domain refuses the count: no lookups for it, but as many
		// inputs, for the domain to count.
		for _, ref := range b.Plans {
			in = append(in, domain.MemberInput{Kind: string(domain.CatalogPlanMember), Ref: ref})
		}
		for _, id := range b.PaymentPlans {
			in = append(in, domain.MemberInput{Kind: string(domain.PaymentPlanMember), Ref: strconv.FormatInt(id, 10)})
		}
		return in, nil
	}
	for i, ref := range b.Plans {
		field := "plans." + strconv.Itoa(i)
		m := domain.MemberInput{Kind: string(domain.CatalogPlanMember), Ref: ref}
		in = append(in, m)
		if ref == "" || len(ref) > domain.MaxCatalogTextLen || !utf8.ValidString(ref) || strings.ContainsRune(ref, 0) {
			add(field, "The "+field+" must be the id of a catalog plan.")
			continue
		}
		id, err := s.store.CatalogPlanIDOf(ctx, account, ref)
		if errors.Is(err, eventstore.ErrNotFound) {
			add(field, "The "+field+" names no catalog plan: "+strconv.Quote(ref)+".")
			continue
		}
		if err != nil {
			return nil, err
		}
		p, _, _, err := eventstore.CatalogPlanAggregate.Load(ctx, s.store, id)
		if err != nil {
			return nil, err
		}
		if p.Deleted() || p.AccountID() != account {
			add(field, "The "+field+" names a deleted catalog plan: "+strconv.Quote(ref)+".")
			continue
		}
		in[len(in)-1].ID = id
	}
	for i, id := range b.PaymentPlans {
		field := "payment_plans." + strconv.Itoa(i)
		in = append(in, domain.MemberInput{Kind: string(domain.PaymentPlanMember), Ref: strconv.FormatInt(id, 10)})
		if id <= 0 {
			continue // a type error already
		}
		p, _, err := s.store.CurrentPlan(ctx, id)
		if errors.Is(err, eventstore.ErrNotFound) || (err == nil && p.AccountID() != account) {
			add(field, "The "+field+" names no payment plan: "+strconv.FormatInt(id, 10)+".")
			continue
		}
		if err != nil {
			return nil, err
		}
		in[len(in)-1].ID = id
	}
	return in, nil
}

// groupFieldErrors renames the domain's member fields (plans.{k}.id over
// catalog and payment plans together) to the body's: plans.{i} for the
// first nCatalog members, payment_plans.{i} for the rest.
func groupFieldErrors(err error, nCatalog int) error {
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &domain.ValidationError{}
	for field, msgs := range ve.Fields {
		name := field
		if rest, ok := strings.CutPrefix(field, "plans."); ok {
			k, _, _ := strings.Cut(rest, ".")
			if n, err := strconv.Atoi(k); err == nil {
				if n < nCatalog {
					name = "plans." + strconv.Itoa(n)
				} else {
					name = "payment_plans." + strconv.Itoa(n-nCatalog)
				}
			}
		}
		for _, m := range msgs {
			out.Add(name, m)
		}
	}
	return out
}

// planGroupJSON is a plan group as the API shows it.
type planGroupJSON = projections.PlanGroupView

// renderGroups shows groups (see projections.PlanGroups.Render): a deleted
// catalog plan is left out.
func (s *Server) renderGroups(ctx context.Context, account int64, groups []projections.PlanGroup) ([]planGroupJSON, error) {
	return s.planGroups.Render(ctx, account, groups)
}

// groupPaymentPlans returns the payment plans ids of account from the plan
// read model; one the read model has not reached is folded from the store.
// An id of no plan of the account is missing from the map.
func (s *Server) groupPaymentPlans(ctx context.Context, account int64, ids []int64) (map[int64]projections.GroupPaymentPlan, error) {
	plans, err := s.planGroups.PaymentPlans(ctx, account, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := plans[id]; ok {
			continue
		}
		p, _, err := s.store.CurrentPlan(ctx, id)
		if errors.Is(err, eventstore.ErrNotFound) || (err == nil && p.AccountID() != account) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if plans[id], err = projections.GroupPaymentPlanOf(p); err != nil {
			return nil, err
		}
	}
	return plans, nil
}
