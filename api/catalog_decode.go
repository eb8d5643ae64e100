package api

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"strconv"

	"goodplan/domain"
)

// The native catalog plan API's request bodies. Amounts, unit costs and
// quantities are JSON numbers or numeric strings, kept as decimal text
// (fieldReader.amount) and parsed by the domain; type errors are field
// errors merged with the domain's, as for payment plans.

// integer returns the whole number at key, nil when missing or null.
func (f *fieldReader) integer(obj jsonObject, key, path string) *int64 {
	raw := bytes.TrimSpace(obj[key])
	if isNull(raw) {
		return nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		f.errs.Add(path, "The "+path+" must be a whole number.")
		return nil
	}
	return &n
}

// paymentOptions reads the payment options object at key, whose keys are
// names (outOfBand, payAsYouGo, prePaid, postPaid and credits in the
// surface's spelling, in that order); none when missing or null.
func (f *fieldReader) paymentOptions(obj jsonObject, key string, names [5]string) domain.PaymentOptions {
	po := f.object(obj, key, key)
	if po == nil {
		return domain.PaymentOptions{}
	}
	flag := func(i int) bool { return f.boolean(po, names[i], key+"."+names[i], false) }
	return domain.PaymentOptions{OutOfBand: flag(0), PayAsYouGo: flag(1), PrePaid: flag(2), PostPaid: flag(3),
		Credits: f.str(po, names[4], key+"."+names[4])}
}

// rawJSON returns the JSON text at key as given (trimmed), nil when
// missing or null: the domain checks it (domain.CheckJSONObject).
func rawJSON(obj jsonObject, key string) json.RawMessage {
	if raw := obj[key]; !isNull(raw) {
		return json.RawMessage(bytes.TrimSpace(raw))
	}
	return nil
}

// typeErrors is the errors collected, nil when none.
func (f *fieldReader) typeErrors() *domain.ValidationError {
	if len(f.errs.Fields) == 0 {
		return nil
	}
	return &f.errs
}

// stringMap returns the object of strings at key, nil when missing or null.
func (f *fieldReader) stringMap(obj jsonObject, key, path string) map[string]string {
	raw := obj[key]
	if isNull(raw) {
		return nil
	}
	m := map[string]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		f.errs.Add(path, "The "+path+" must be an object of strings.")
		return nil
	}
	if invalidUTF8(raw) {
		f.errs.Add(path, "The "+path+" must be valid UTF-8 text.")
		return nil
	}
	return m
}

// optStr returns the string at key, nil when the key is missing.
func (f *fieldReader) optStr(obj jsonObject, key string) *string {
	if _, ok := obj[key]; !ok {
		return nil
	}
	s := f.str(obj, key, key)
	return &s
}

// decodeCreateCatalogPlan turns POST /api/v1/catalog/plans's body into the
// command's raw fields (ids and time left to the caller).
func decodeCreateCatalogPlan(body []byte) (domain.CreateCatalogPlan, *domain.ValidationError, error) {
	root, err := parseObject(body)
	if err != nil {
		return domain.CreateCatalogPlan{}, nil, err
	}
	cmd, typeErrs := createCatalogPlanOf(root)
	return cmd, typeErrs, nil
}

// createCatalogPlanOf reads a create request's fields out of its top-level
// object (whatever encoding the surface read it from) into the command.
func createCatalogPlanOf(root jsonObject) (domain.CreateCatalogPlan, *domain.ValidationError) {
	var f fieldReader
	cmd := domain.CreateCatalogPlan{
		ID: f.str(root, "id", "id"), Name: f.str(root, "name", "name"), Description: f.str(root, "description", "description"),
		InvoiceDisplayName: f.str(root, "invoice_display_name", "invoice_display_name"),
		CatalogItem:        f.str(root, "catalog_item", "catalog_item"),
		Currency:           f.str(root, "currency", "currency"), Amount: f.amount(root, "amount", "amount"),
		PricingMode: f.str(root, "pricing_mode", "pricing_mode"), QuantityType: f.str(root, "quantity_type", "quantity_type"),
		Interval: f.str(root, "interval", "interval"), IntervalCount: f.integer(root, "interval_count", "interval_count"),
		Metadata: f.stringMap(root, "metadata", "metadata"), Prices: f.strings(root, "prices", "prices"),
	}
	// catalog_item is also read as product_id (4Geeks) or productId
	// (Paygentic); naming it twice is an error.
	for _, alias := range []string{"product_id", "productId"} {
		if _, ok := root[alias]; !ok {
			continue
		}
		if _, twice := root["catalog_item"]; twice || cmd.CatalogItem != "" {
			f.errs.Add(alias, "The "+alias+" is another name of catalog_item: give only one of them.")
			continue
		}
		cmd.CatalogItem = f.str(root, alias, alias)
	}
	if _, ok := root["active"]; ok {
		a := f.boolean(root, "active", "active", true)
		cmd.Active = &a
	}
	cmd.Tax = rawJSON(root, "tax")
	cmd.PaymentOptions = f.paymentOptions(root, "payment_options",
		[5]string{"out_of_band", "pay_as_you_go", "pre_paid", "post_paid", "credits"})
	if raw := root["tiers"]; !isNull(raw) {
		var tiers []jsonObject
		if err := json.Unmarshal(raw, &tiers); err != nil {
			f.errs.Add("tiers", "The tiers must be an array of objects.")
		}
		for i, t := range tiers {
			p := "tiers." + strconv.Itoa(i) + "."
			cmd.Tiers = append(cmd.Tiers, domain.TierInput{MinQty: f.integer(t, "min_qty", p+"min_qty"),
				MaxQty: f.integer(t, "max_qty", p+"max_qty"), UnitCost: f.amount(t, "unit_cost", p+"unit_cost")})
		}
	}
	return cmd, f.typeErrors()
}

// patchableCatalogFields are the keys PATCH accepts; every other field of a
// plan is fixed at creation (a new price is a new plan).
var patchableCatalogFields = map[string]bool{"name": true, "description": true,
	"invoice_display_name": true, "metadata": true, "active": true}

// decodeUpdateCatalogPlan turns PATCH /api/v1/catalog/plans/{id}'s body
// into the update command; any other key is a field error.
func decodeUpdateCatalogPlan(body []byte) (domain.UpdateCatalogPlan, *domain.ValidationError, error) {
	root, err := parseObject(body)
	if err != nil {
		return domain.UpdateCatalogPlan{}, nil, err
	}
	var f fieldReader
	for k := range root {
		if !patchableCatalogFields[k] {
			f.errs.Add(k, "The "+k+" cannot be changed: only name, description, invoice_display_name, "+
				"metadata and active can; create a new plan for another price.")
		}
	}
	cmd := updateCatalogPlanOf(&f, root)
	return cmd, f.typeErrors(), nil
}

// updateCatalogPlanOf reads an update request's fields out of its
// top-level object, recording type errors in f.
func updateCatalogPlanOf(f *fieldReader, root jsonObject) domain.UpdateCatalogPlan {
	cmd := domain.UpdateCatalogPlan{Name: f.optStr(root, "name"), Description: f.optStr(root, "description"),
		InvoiceDisplayName: f.optStr(root, "invoice_display_name")}
	if _, ok := root["metadata"]; ok {
		m := f.stringMap(root, "metadata", "metadata")
		if m == nil {
			m = map[string]string{}
		}
		cmd.Metadata = &m
	}
	if _, ok := root["active"]; ok {
		a := f.boolean(root, "active", "active", true)
		cmd.Active = &a
	}
	return cmd
}

// base62 are the characters of a generated plan id.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newCatalogPlanID returns "plan_" and 14 random base62 characters.
func newCatalogPlanID() string { return newBase62ID("plan_") }

// newPriceID returns "price_" and 14 random base62 characters.
func newPriceID() string { return newBase62ID("price_") }

// newBase62ID returns prefix and 14 random base62 characters (83 bits).
func newBase62ID(prefix string) string {
	b := []byte(prefix)
	for range 14 {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(base62)))) // never fails (crypto/rand)
		b = append(b, base62[n.Int64()])
	}
	return string(b)
}
