package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"goodplan/domain"
	"goodplan/domain/domaintest"
	"goodplan/eventstore"
	"goodplan/projections"
)

// FuzzInvoicedForm: the Invoiced dialect's form decoder never panics; a
// refused form is an Invoiced 400; an accepted one is a JSON object whose
// values are valid JSON, that reads into the same create command as its
// JSON text does through the JSON path, and whose creation is either a
// validation error or one catalog_plan.created the store can encode and
// PostgreSQL can hold.
func FuzzInvoicedForm(f *testing.F) {
	for _, s := range []string{seedCurlForm, "name=Standard", "metadata=", "",
		"pricing_mode=tiered&tiers[0][max_qty]=50&tiers[0][unit_cost]=100&tiers[1][min_qty]=51&tiers[1][unit_cost]=0.0015",
		"amount=1&metadata[icp_number]=1234567890&metadata[account+rep]=Jan",
		"amount=1e3&currency=kwd&interval=year&interval_count=12&quantity_type=usage",
		"amount=-1&interval_count=1.5&tiers[0]=5&metadata[a][b]=c",
		"tiers[0][a][b]=1", "tiers[100][unit_cost]=1", "tiers[01][x]=1", "a[]=1", "a[b]c=1", "[a]=1", "a]=1",
		"name=%ff", "%zz=1", "name=a&name=b", "metadata=a&metadata[b]=c", "name=a%00b", "id=%E2%80%AEexe&amount=1",
		"&&&=&a==b&", "amount=99999999999999999999&interval_count=99999999999999999999",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		root, err := parseInvoicedForm(body)
		if err != nil {
			var ie *invoicedError
			if !errors.As(err, &ie) || ie.status != http.StatusBadRequest || ie.Type != invoicedInvalidRequest || ie.Message == "" {
				t.Fatalf("form %q: error %v (%T), want an Invoiced 400", body, err, err)
			}
			return
		}
		if len(root) > maxFormFields {
			t.Fatalf("form %q: %d fields", body, len(root))
		}
		for k, raw := range root {
			if !json.Valid(raw) {
				t.Fatalf("form %q: field %q is not valid JSON: %s", body, k, raw)
			}
		}
		cmd, typeErrs := createCatalogPlanOf(root)
		canon, err := json.Marshal(root)
		if err != nil {
			t.Fatalf("form %q: %v", body, err)
		}
		viaJSON, jsonErrs, err := decodeCreateCatalogPlan(canon)
		if err != nil || !reflect.DeepEqual(cmd, viaJSON) || !reflect.DeepEqual(typeErrs, jsonErrs) {
			t.Fatalf("form %q reads otherwise than its JSON %s: %+v / %+v (%v)", body, canon, cmd, viaJSON, err)
		}
		if cmd.ID == "" {
			cmd.ID = "plan_fuzz"
		}
		cmd.CatalogPlanID, cmd.AccountID, cmd.Now = 7, 1, seedNow
		events, err := new(domain.CatalogPlan).Create(cmd)
		if err = mergeValidation(typeErrs, err); err != nil {
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("form %q: error %v (%T), want a validation error", body, err, err)
			}
			if ie := invoicedValidation(ve); ie.status != http.StatusBadRequest || ie.Param == "" || ie.Message == "" {
				t.Fatalf("form %q: validation answered %+v", body, ie)
			}
			return
		}
		if len(events) != 1 || events[0].EventType() != domain.EventCatalogPlanCreated {
			t.Fatalf("form %q: events %v", body, events)
		}
		if _, err := eventstore.Encode(events); err != nil {
			t.Fatalf("form %q: encode: %v", body, err)
		}
		if err := domaintest.CheckStorable(events[0]); err != nil {
			t.Fatalf("form %q: accepted, but the event is not storable: %v", body, err)
		}
		var p domain.CatalogPlan
		if err := p.ApplyStored(events[0], seedNow); err != nil {
			t.Fatalf("form %q: %v", body, err)
		}
		if b, err := json.Marshal(invoicedPlanOf(projections.CatalogPlanOf(&p))); err != nil || !json.Valid(b) {
			t.Fatalf("form %q: plan object %s (%v)", body, b, err)
		}
	})
}
