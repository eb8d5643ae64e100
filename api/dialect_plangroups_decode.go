package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"goodplan/domain"
)

// The plan groups dialect's request body, {"name", "plans": [{"id"},
// {"id": "42", "type": "payment_plan"}]}, decoded into the native
// planGroupBody (catalog plans, then payment plans) with the order the
// body wrote them in, so that the group keeps it and every problem is
// named as the body names the plan: plans.{k}.id.

// dataPlans maps a dialect body's plans onto planGroupBody's lists.
type dataPlans struct {
	// slot[k] is plans[k]'s position among the resolved inputs (catalog
	// plans first, then payment plans).
	slot []int
	// catalog and payment are the inverse: the body's index of each
	// catalog plan and each payment plan.
	catalog, payment []int
	// bad are the body's indexes with a type error: nothing else is said
	// about them.
	bad map[int]bool
}

// readDataGroup reads and decodes a create or replace body.
func readDataGroup(w http.ResponseWriter, r *http.Request) ([]byte, *groupRequest, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, nil, err
	}
	req, err := decodeDataGroup(body)
	return body, req, err
}

// decodeDataGroup decodes a dialect body into a groupRequest whose
// arrange and fields put the members back in the body's order and rename
// their problems plans.{k}.id.
func decodeDataGroup(body []byte) (*groupRequest, error) {
	root, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	var f fieldReader
	req := &groupRequest{body: planGroupBody{Name: f.str(root, "name", "name")}}
	m := &dataPlans{bad: map[int]bool{}}
	var items []json.RawMessage
	if raw := root["plans"]; !isNull(raw) && json.Unmarshal(raw, &items) != nil {
		f.errs.Add("plans", `The plans must be an array of objects such as {"id": "starter"}.`)
	}
	for k, item := range items {
		field := "plans." + strconv.Itoa(k)
		kind, ref, id, ok := decodeDataPlan(&f, field, item)
		if !ok {
			m.bad[k] = true
		}
		if kind == domain.PaymentPlanMember {
			m.payment = append(m.payment, k)
			req.body.PaymentPlans = append(req.body.PaymentPlans, id)
			continue
		}
		// A bad item takes a catalog slot with no id: the domain sees as
		// many members as the body has, and its problems are left out.
		m.catalog = append(m.catalog, k)
		req.body.Plans = append(req.body.Plans, ref)
	}
	m.slot = make([]int, len(items))
	for i, k := range m.catalog {
		m.slot[k] = i
	}
	for j, k := range m.payment {
		m.slot[k] = len(m.catalog) + j
	}
	req.typeErrs, req.arrange, req.fields = f.typeErrors(), m.arrange, m.rename
	return req, nil
}

// decodeDataPlan reads one of the body's plans: a catalog plan's public id
// (ref) or a payment plan's id; ok false after a type error.
func decodeDataPlan(f *fieldReader, field string, item json.RawMessage) (kind domain.MemberKind, ref string, id int64, ok bool) {
	var obj jsonObject
	if json.Unmarshal(item, &obj) != nil || obj == nil {
		f.errs.Add(field, "The "+field+` must be an object such as {"id": "starter"}.`)
		return domain.CatalogPlanMember, "", 0, false
	}
	before := len(f.errs.Fields)
	switch typ := f.str(obj, "type", field+".type"); typ {
	case "", string(domain.CatalogPlanMember):
		ref = f.str(obj, "id", field+".id")
		return domain.CatalogPlanMember, ref, 0, len(f.errs.Fields) == before
	case string(domain.PaymentPlanMember):
		// "42" as the seed writes ids, or 42.
		raw := bytes.TrimSpace(obj["id"])
		text := string(raw)
		if len(raw) > 0 && raw[0] == '"' {
			text = strings.Trim(text, `"`)
		}
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil || id <= 0 {
			f.errs.Add(field+".id", "The "+field+".id must be the id of a payment plan, such as \"42\".")
			return domain.PaymentPlanMember, "", 0, false
		}
		return domain.PaymentPlanMember, "", id, true
	default:
		if len(f.errs.Fields) == before {
			f.errs.Add(field+".type", "The "+field+".type must be catalog_plan or payment_plan.")
		}
		return domain.CatalogPlanMember, "", 0, false
	}
}

// arrange puts the resolved inputs in the body's order and renames
// resolveMembers' problems (plans.{i}, payment_plans.{j}) to the body's.
func (m *dataPlans) arrange(in []domain.MemberInput, ve *domain.ValidationError) ([]domain.MemberInput, *domain.ValidationError) {
	out := make([]domain.MemberInput, len(m.slot))
	for k, i := range m.slot {
		out[k] = in[i]
	}
	if ve == nil {
		return out, nil
	}
	renamed := &domain.ValidationError{}
	for field, msgs := range ve.Fields {
		k, ok := -1, false
		if rest, found := strings.CutPrefix(field, "plans."); found {
			i, err := strconv.Atoi(rest)
			if ok = err == nil && i < len(m.catalog); ok {
				k = m.catalog[i]
			}
		} else if rest, found := strings.CutPrefix(field, "payment_plans."); found {
			j, err := strconv.Atoi(rest)
			if ok = err == nil && j < len(m.payment); ok {
				k = m.payment[j]
			}
		}
		if !ok {
			continue // resolveMembers names no other field
		}
		if m.bad[k] {
			continue
		}
		name := "plans." + strconv.Itoa(k) + ".id"
		for _, msg := range msgs {
			renamed.Add(name, strings.Replace(msg, "The "+field+" ", "The "+name+" ", 1))
		}
	}
	return out, renamed
}

// rename leaves out the domain's problems with the body's bad plans; its
// other names (plans.{k}.id over the arranged members) are the body's.
func (m *dataPlans) rename(err error) error {
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(m.bad) == 0 {
		return err
	}
	out := &domain.ValidationError{}
	for field, msgs := range ve.Fields {
		if rest, found := strings.CutPrefix(field, "plans."); found {
			k, _, _ := strings.Cut(rest, ".")
			if n, err := strconv.Atoi(k); err == nil && m.bad[n] {
				continue
			}
		}
		for i := range msgs {
			if pr := ve.Problem(field, i); pr.Rule != "" {
				out.AddRule(field, pr.Code, pr.Rule)
			} else {
				out.Add(field, msgs[i])
			}
		}
	}
	return out.OrNil()
}
