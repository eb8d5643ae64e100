package api

import "strings"

// The catalog dialects: each seed document at its own path, shape,
// authentication and error body.

// dialect completes a dialect operation with its error responses: name is
// the components/responses prefix (e.g. "Invoiced" -> InvoicedError).
func dialect(o op, name string, ok M, codes ...string) op {
	r := M{}
	for k, v := range ok {
		r[k] = v
	}
	for _, c := range codes {
		r[c] = respRef(name + "Error")
	}
	if strings.Contains(o.path, "{") {
		r["404"] = respRef(name + "Error")
	}
	o.responses = r
	return o
}

func dialectOps() []op {
	basic := []M{{"invoicedBasic": []string{}}, {"bearerAuth": []string{}}}
	geeks := []M{{"apiKeyHeader": []string{}}}
	bearer := []M{{"bearerAuth": []string{}}}
	inv := func(o op, ok M, codes ...string) op {
		o.tag, o.security = "Invoiced", basic
		return dialect(o, "Invoiced", ok, append([]string{"400", "401", "405", "409", "413", "415", "429", "500"}, codes...)...)
	}
	gk := func(o op, ok M) op {
		o.tag, o.security = "4Geeks", geeks
		return dialect(o, "Geeks", ok, "401", "409", "413", "422", "429", "500")
	}
	pg := func(o op, ok M) op {
		o.tag, o.security = "Paygentic", bearer
		return dialect(o, "Paygentic", ok, "400", "401", "403", "409", "413", "422", "429", "500")
	}
	data := func(o op, ok M) op {
		o.tag, o.security = "PlanGroupsData", bearer
		return dialect(o, "Data", ok, "400", "401", "409", "413", "422", "429", "500")
	}
	invBody := M{"required": true, "content": M{
		"application/json":                  M{"schema": ref("InvoicedPlanInput")},
		"application/x-www-form-urlencoded": M{"schema": ref("InvoicedPlanInput")},
	}}
	filters := []M{query("page", M{"type": "integer", "minimum": 1}, "1-based page."),
		query("per_page", M{"type": "integer", "minimum": 1, "maximum": 100}, "Page size."),
		query("sort", M{"type": "string"}, "Up to three columns with asc or desc, e.g. \"name asc\"."),
		query("filter[currency]", M{"type": "string"}, ""), query("filter[interval]", ref("BillingInterval"), ""),
		query("filter[interval_count]", M{"type": "integer"}, ""), query("filter[pricing_mode]", M{"type": "string"}, ""),
		query("filter[catalog_item]", M{"type": "string"}, "")}
	geeksPage := []M{query("limit", M{"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, ""),
		query("offset", M{"type": "integer", "minimum": 0}, "")}
	pgPage := []M{query("limit", M{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, ""),
		query("offset", M{"type": "integer", "minimum": 0}, "")}
	okDataID := okJSON("Done.", obj([]string{"success", "id"}, M{"success": M{"const": true}, "id": str("The group's id.")}), nil, nil)
	dataBody := jsonBody(true, obj([]string{"name"}, M{"name": str(""), "plans": arr(obj([]string{"id"}, M{
		"id": M{"type": []string{"string", "integer"}, "description": "A catalog plan id (price_...), or a plan_id with type payment_plan."}, "type": enum("", "catalog_plan", "payment_plan")}))}),
		M{"g": example("A group", M{"name": "Growth", "plans": []M{{"id": "price_1LvNamxxqqZbQ9jJmRjpZevo"}}})})
	return []op{
		inv(op{method: "POST", path: "/plans", id: "invoicedCreatePlan", summary: "Create a plan (Invoiced)",
			desc: "JSON or form fields (metadata[key]=..., tiers[0][unit_cost]=...); without a Content-Type, a body starting with { is JSON.",
			body: invBody}, M{"201": okJSON("Created.", ref("InvoicedPlan"), nil, nil)}),
		inv(op{method: "GET", path: "/plans", id: "invoicedListPlans", summary: "List plans (Invoiced)", params: filters},
			M{"200": okJSON("A page; X-Total-Count and Link (self, first, previous, next, last) tell the rest.", arr(ref("InvoicedPlan")), nil,
				M{"X-Total-Count": M{"schema": M{"type": "integer"}, "description": "Plans matching."},
					"Link": M{"schema": M{"type": "string"}, "description": "RFC 8288 links to the other pages."}})}),
		inv(op{method: "GET", path: "/plans/{id}", id: "invoicedGetPlan", summary: "Get a plan (Invoiced)", params: []M{pathID("id", "")}},
			M{"200": okJSON("The plan.", ref("InvoicedPlan"), nil, nil)}),
		inv(op{method: "PATCH", path: "/plans/{id}", id: "invoicedUpdatePlan", summary: "Update a plan's name or metadata (Invoiced)",
			params: []M{pathID("id", "")}, body: M{"required": true, "content": M{
				"application/json":                  M{"schema": ref("InvoicedPlanPatch")},
				"application/x-www-form-urlencoded": M{"schema": ref("InvoicedPlanPatch")}}}},
			M{"200": okJSON("The plan.", ref("InvoicedPlan"), nil, nil)}),
		inv(op{method: "DELETE", path: "/plans/{id}", id: "invoicedDeletePlan", summary: "Delete a plan (Invoiced)", params: []M{pathID("id", "")}},
			M{"204": resp("Deleted.", nil, nil, rateHeaders())}),

		gk(op{method: "POST", path: "/v1/plans", id: "geeksCreatePlan", summary: "Create a plan (4Geeks)",
			body: jsonBody(true, obj([]string{"product_id", "amount", "currency", "interval"}, M{
				"product_id": str(""), "amount": M{"type": "integer", "description": "In cents."}, "currency": str(""),
				"interval": ref("BillingInterval"), "active": boolean("")}),
				M{"p": example("Monthly", M{"product_id": "prod_a1b2c3d4e5f6", "amount": 4900, "currency": "USD", "interval": "month"})})},
			M{"200": okJSON("Created.", ref("GeeksPlan"), nil, nil)}),
		gk(op{method: "GET", path: "/v1/plans", id: "geeksListPlans", summary: "List plans (4Geeks)", params: geeksPage},
			M{"200": okJSON("A page.", obj([]string{"items", "total_items", "limit", "offset"}, M{"items": arr(ref("GeeksPlan")),
				"total_items": integer(""), "limit": integer(""), "offset": integer("")}), nil, nil)}),
		gk(op{method: "GET", path: "/v1/plans/{id}", id: "geeksGetPlan", summary: "Get a plan (4Geeks)", params: []M{pathID("id", "")}},
			M{"200": okJSON("The plan.", ref("GeeksPlan"), nil, nil)}),

		pg(op{method: "POST", path: "/v0/plans", id: "paygenticCreatePlan", summary: "Create a plan (Paygentic)",
			params: []M{param("header", "Idempotency-Key", false, M{"type": "string"}, "Makes retries safe.")},
			body:   jsonBody(true, ref("PaygenticPlanInput"), nil)},
			M{"201": okJSON("Created.", ref("PaygenticPlan"), nil, nil)}),
		pg(op{method: "GET", path: "/v0/plans", id: "paygenticListPlans", summary: "List plans (Paygentic)", params: pgPage},
			M{"200": okJSON("A page.", obj([]string{"data", "pagination"}, M{"data": arr(ref("PaygenticPlan")),
				"pagination": obj([]string{"limit", "offset", "total"}, M{"limit": integer(""), "offset": integer(""), "total": integer("")})}), nil, nil)}),
		pg(op{method: "GET", path: "/v0/plans/{id}", id: "paygenticGetPlan", summary: "Get a plan (Paygentic)", params: []M{pathID("id", "")}},
			M{"200": okJSON("The plan.", ref("PaygenticPlan"), nil, nil)}),
		pg(op{method: "DELETE", path: "/v0/plans/{id}", id: "paygenticDeletePlan", summary: "Delete a plan (Paygentic)", params: []M{pathID("id", "")}},
			M{"200": okJSON("The deleted plan (deletedAt set).", ref("PaygenticPlan"), nil, nil)}),

		data(op{method: "GET", path: "/data/plan-groups", id: "dataListGroups", summary: "List plan groups (data API)",
			params: []M{query("limit", M{"type": "integer", "minimum": 1, "maximum": 100}, "")}},
			M{"200": okJSON("The groups.", obj([]string{"result"}, M{"result": obj([]string{"count", "list"}, M{
				"count": integer(""), "list": arr(obj([]string{"id", "name", "plans"}, M{"id": str(""), "name": str(""), "plans": arr(M{"type": "object"})}))})}), nil, nil)}),
		data(op{method: "POST", path: "/data/plan-groups", id: "dataCreateGroup", summary: "Create a plan group (data API)", body: dataBody},
			M{"200": okDataID}),
		data(op{method: "PUT", path: "/data/plan-groups/{id}", id: "dataReplaceGroup", summary: "Replace a plan group (data API)",
			params: []M{pathID("id", "")}, body: dataBody}, M{"200": okDataID}),
		data(op{method: "DELETE", path: "/data/plan-groups/{id}", id: "dataDeleteGroup", summary: "Delete a plan group (data API)",
			params: []M{pathID("id", "")}}, M{"200": okDataID}),
		data(op{method: "DELETE", path: "/data/plans", id: "dataDeleteGroupByBody", summary: "Delete a plan group named in the body (data API)",
			body: jsonBody(true, obj([]string{"id"}, M{"id": str("The group's id.")}), nil)},
			M{"200": okDataID, "404": respRef("DataError")}),
	}
}

func dialectSchemas() M {
	price := obj([]string{"id", "object", "unitAmount", "currency"}, M{"id": str(""), "object": M{"const": "price"},
		"unitAmount": money(""), "currency": str(""), "model": str(""), "createdAt": strf("date-time", ""), "updatedAt": strf("date-time", "")})
	payOpts := obj(nil, M{"outOfBand": M{"type": "boolean"}, "payAsYouGo": M{"type": "boolean"}, "prePaid": M{"type": "boolean"},
		"postPaid": M{"type": "boolean"}, "credits": M{"type": "string"}})
	num := M{"type": []string{"number", "string"}}
	return M{
		"InvoicedPlanInput": obj(nil, M{"id": str(""), "name": str(""), "currency": str(""), "amount": num,
			"pricing_mode": str(""), "quantity_type": str(""), "interval": ref("BillingInterval"), "interval_count": M{"type": []string{"integer", "string"}},
			"catalog_item": str(""), "metadata": M{"type": []string{"object", "array"}}, "tiers": M{"type": []string{"array", "object"}}}),
		"InvoicedPlanPatch": obj(nil, M{"name": str(""), "metadata": M{"type": []string{"object", "array"}}}),
		"InvoicedPlan": obj([]string{"id", "object", "name", "currency", "interval", "interval_count", "created_at", "updated_at"}, M{
			"id": str(""), "object": M{"const": "plan"}, "name": str(""), "currency": str("Lower case."), "amount": M{"type": []string{"number", "null"}},
			"pricing_mode": str(""), "quantity_type": str(""), "interval": ref("BillingInterval"), "interval_count": integer(""),
			"catalog_item": nullable(str("")), "metadata": M{"type": "object"}, "tiers": M{"type": []string{"array", "null"}},
			"created_at": integer("Unix time."), "updated_at": integer("Unix time.")}),
		"GeeksPlan": obj([]string{"id", "object", "product_id", "amount", "currency", "interval", "active"}, M{
			"id": str(""), "object": M{"const": "plan"}, "product_id": str(""), "amount": integer("In cents."), "currency": str(""),
			"interval": ref("BillingInterval"), "active": boolean("")}),
		"PaygenticPlanInput": obj([]string{"name", "merchantId"}, M{"name": str(""), "invoiceDisplayName": str(""), "description": str(""),
			"billingInterval": str(""), "currency": str(""), "merchantId": str("Must be the key's merchant."), "productId": str(""),
			"tax": M{"type": "object"}, "prices": arr(M{"type": "string"}), "price": num, "paymentOptions": payOpts}),
		"PaygenticPlan": obj([]string{"id", "object", "name", "currency", "merchantId", "prices", "createdAt"}, M{
			"id": str(""), "object": M{"const": "plan"}, "name": str(""), "paymentOptions": payOpts, "invoiceDisplayName": str(""),
			"description": str(""), "billingInterval": str(""), "currency": str(""), "merchantId": str(""), "productId": str(""),
			"walletNamespaceId": nullable(str("")), "tax": M{"type": "object"}, "prices": arr(price),
			"createdAt": strf("date-time", ""), "updatedAt": strf("date-time", ""), "deletedAt": nullable(strf("date-time", ""))}),
	}
}
