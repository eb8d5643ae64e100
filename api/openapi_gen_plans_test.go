package api

// The core operations: health, this document, and payment plans.

var seedCreateMinimal = M{"customer": M{"name": "John Doe", "email": "john@example.com"}, "invoice": M{"amount": 1200.00}}

var seedCreateFull = M{
	"customer":                M{"name": "John Doe", "email": "john@example.com", "phone": "+1-555-123-4567"},
	"invoice":                 M{"amount": 1200.00, "invoice_number": "INV-2024-001", "description": "Past due consulting services"},
	"options":                 M{"intervals": []string{"weekly", "monthly"}, "durations": []int{3, 6, 12}},
	"send_introduction_email": true,
}

var seedCreated = M{
	"plan_id":             42,
	"customer_portal_url": "https://goodplan.com/plan/abc123...",
	"plan_options": []M{{"id": 101, "installments": 3, "interval": "monthly", "payment_amount": "400.00",
		"first_payment_date": "2025-12-04", "final_payment_date": "2026-02-04"}},
	"customer": M{"id": 567, "name": "John Doe", "email": "john@example.com"},
	"invoice":  M{"id": 890, "amount": "1200.00", "invoice_number": "INV-2024-001"},
}

func coreOps() []op {
	createDesc := "Creates a plan for an overdue invoice and computes its schedule options; the customer gets the portal link " +
		"by email unless send_introduction_email is false. An Idempotency-Key header makes retries safe: the same key " +
		"and body return the first response (with Idempotent-Replayed: true); the same key with another body is a 422."
	return []op{
		{method: "GET", path: "/api/health", id: "getHealth", tag: "Health", summary: "Check availability",
			desc: "200 when the database answers, with the count of unresolved dead letters; 503 when it does not. " +
				"Limited per client address, not per key.",
			security: []M{},
			responses: M{
				"200": resp("Available.", ref("Health"), M{"seed": example("The seed's example", M{"status": "ok", "version": "1.0.0", "timestamp": "2025-11-27T01:15:30Z"})}, nil),
				"429": respRef("TooManyRequests"),
				"503": resp("The database is not answering.", ref("Health"), M{"down": example("Unavailable", M{"status": "unavailable", "version": "1.0.0",
					"timestamp": "2025-11-27T01:15:30Z", "error": "Service unavailable", "message": "The database is not answering."})}, nil),
			}},
		{method: "GET", path: "/api/openapi.json", id: "getOpenAPI", tag: "Reference", summary: "This OpenAPI 3.1 document",
			security: []M{},
			responses: M{"200": resp("The document (cacheable; revalidate with its ETag).", M{"type": "object", "required": []string{"openapi", "paths"}}, nil, nil),
				"304": M{"description": "Not modified (If-None-Match)."}, "429": respRef("TooManyRequests")}},
		{method: "GET", path: "/api/docs", id: "getAPIDocs", tag: "Reference", summary: "This document as an HTML page",
			security: []M{},
			responses: M{"200": M{"description": "The reference page.", "content": M{"text/html": M{"schema": M{"type": "string"}}}},
				"304": M{"description": "Not modified (If-None-Match)."}, "429": respRef("TooManyRequests")}},
		{method: "GET", path: "/metrics", id: "getMetrics", tag: "Reference", summary: "Prometheus metrics",
			desc: "The goodplan_* series in Prometheus text format, on the main listener when METRICS_ADDR is not set " +
				"(on METRICS_ADDR otherwise). With METRICS_TOKEN set, the request needs Authorization: Bearer <METRICS_TOKEN>.",
			security: []M{},
			responses: M{"200": M{"description": "The metrics.", "content": M{"text/plain": M{"schema": M{"type": "string"}}}},
				"401": respRef("Unauthorized")}},
		v1(op{method: "POST", path: "/api/v1/plans", id: "createPlan", tag: "Plans", summary: "Create a plan", desc: createDesc,
			body: jsonBody(true, ref("CreatePlanRequest"), M{
				"minimal": example("The seed's minimal request", seedCreateMinimal),
				"full":    example("The seed's full request", seedCreateFull)}),
		}, M{
			"201": okJSON("Created.", ref("PlanCreated"), M{"seed": example("The seed's 201", seedCreated)},
				mergeM(location("The plan's URL, /api/v1/plans/{id}."), M{"Idempotent-Replayed": M{"$ref": "#/components/headers/Idempotent-Replayed"}})),
			"403": resp("The account's plan limit is reached.", ref("Error"), M{"seed": example("The seed's 403",
				M{"error": "Plan limit reached", "message": "Your subscription plan limit has been reached."})}, nil),
		}),
		v1(op{method: "POST", path: "/api/v1/plans/quote", id: "quotePlan", tag: "Plans", summary: "Preview a plan's options",
			desc: "The same validation and schedule computation as a create, recording nothing: option ids are 0.",
			body: jsonBody(true, ref("CreatePlanRequest"), M{"full": example("The seed's full request", seedCreateFull)}),
		}, M{"200": okJSON("The options a create would offer.", ref("PlanQuote"), nil, nil)}),
		v1(op{method: "GET", path: "/api/v1/plans", id: "listPlans", tag: "Plans", summary: "List plans",
			desc: "Newest first. Pages by limit/offset, or by keyset: starting_after (the next, older page after a plan_id) " +
				"or ending_before (the previous, newer page before a plan_id), Stripe's convention; has_more says whether another page follows.",
			params: []M{
				query("limit", M{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
				query("offset", M{"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}, "Items to skip (at most 10,000: page deeper with starting_after)."),
				query("status", ref("PlanStatus"), "Only plans in this status."),
				query("updated_after", M{"type": "string", "format": "date-time"}, "Only plans changed after this RFC 3339 time."),
				query("starting_after", M{"type": "integer", "minimum": 1}, "Keyset paging: the page of plans older than this plan_id."),
				query("ending_before", M{"type": "integer", "minimum": 1}, "Keyset paging: the page of plans newer than this plan_id."),
				query("email", M{"type": "string", "maxLength": 200}, "Only plans of the customer with this email, whole, in any letter case."),
				query("customer_name", M{"type": "string", "maxLength": 200}, "Only plans whose customer name starts with this, in any letter case."),
				query("invoice_number", M{"type": "string", "maxLength": 200}, "Only plans of this invoice number, whole, in any letter case."),
			},
		}, M{"200": okJSON("A page of plans.", ref("PlanList"), nil, nil),
			"400": respRef("BadRequest")}),
		v1(op{method: "GET", path: "/api/v1/plans/{id}", id: "getPlan", tag: "Plans", summary: "Get a plan",
			desc:   "A plan of another account is a 404, never a 403.",
			params: []M{pathInt("id", "The plan_id.")},
		}, M{"200": okJSON("The plan.", ref("Plan"), nil, nil)}),
		v1(op{method: "GET", path: "/api/v1/plans/{id}/events", id: "getPlanEvents", tag: "Plans", summary: "A plan's history",
			desc: "The plan's events as stored, each with its hash so the chain can be checked; paged oldest first.",
			params: []M{pathInt("id", "The plan_id."),
				query("after", M{"type": "integer", "minimum": 0, "default": 0}, "Only events after this version."),
				query("limit", M{"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "Page size."),
			},
		}, M{"200": okJSON("The events, oldest first.", ref("PlanEvents"), nil, nil)}),
	}
}

func planSchemas() M {
	option := obj([]string{"id", "installments", "interval", "payment_amount", "first_payment_date", "final_payment_date"}, M{
		"id":                 integer("The option's id (0 in a quote)."),
		"installments":       M{"type": "integer", "minimum": 1},
		"interval":           ref("Interval"),
		"payment_amount":     money("The largest installment; the split puts the extra minor units first."),
		"first_payment_date": strf("date", "First due date."),
		"final_payment_date": strf("date", "Last due date."),
		"schedule": arr(obj([]string{"number", "amount", "due_date"}, M{
			"number": integer("1-based."), "amount": money("Due."), "due_date": strf("date", "Due date.")})),
	})
	customer := obj([]string{"id", "name", "email"}, M{
		"id": integer("Customer id."), "name": str("Full name."), "email": strf("email", "Email."), "phone": str("Phone."),
	})
	invoice := obj([]string{"id", "amount"}, M{
		"id": integer("Invoice id."), "amount": money("Amount owed."), "currency": str("ISO 4217 code."),
		"invoice_number": nullable(str("The merchant's reference.")), "description": str("What is owed."),
	})
	timeOrNull := nullable(strf("date-time", ""))
	return M{
		"Interval":   enum("Payment frequency.", "weekly", "biweekly", "monthly"),
		"PlanStatus": enum("A plan's status.", "pending", "active", "completed", "abandoned", "cancelled", "written_off"),
		"CreatePlanRequest": obj([]string{"customer", "invoice"}, M{
			"customer": obj([]string{"name", "email"}, M{
				"name": str("Customer's full name."), "email": strf("email", "Customer's email address."), "phone": str("Customer's phone number."),
			}),
			"invoice": obj([]string{"amount"}, M{
				"amount":         M{"type": []string{"number", "string"}, "description": "Amount owed (minimum 1.00), a JSON number or a decimal string; never rounded through a float."},
				"currency":       M{"type": "string", "pattern": "^[A-Za-z]{3}$", "description": "ISO 4217 code; default USD."},
				"invoice_number": str("Your invoice/reference number."),
				"description":    str("Description of what's owed."),
			}),
			"options": obj(nil, M{
				"intervals":          arr(ref("Interval")),
				"durations":          arr(M{"type": "integer", "minimum": 2, "maximum": 96}),
				"first_payment_date": strf("date", "First due date; default 7 days after creation."),
			}),
			"send_introduction_email": M{"type": "boolean", "default": true, "description": "Email the customer the portal link."},
		}),
		"PlanOption": option,
		"PlanCreated": obj([]string{"plan_id", "customer_portal_url", "plan_options", "customer", "invoice"}, M{
			"plan_id":             integer("The plan's id."),
			"customer_portal_url": strf("uri", "The customer's portal link."),
			"plan_options":        arr(ref("PlanOption")),
			"customer":            customer,
			"invoice":             invoice,
		}),
		"PlanQuote": obj([]string{"plan_options"}, M{"plan_options": arr(ref("PlanOption"))}),
		"Plan": obj([]string{"plan_id", "status", "customer_portal_url", "customer", "invoice", "plan_options"}, M{
			"plan_id":                 integer("The plan's id."),
			"status":                  ref("PlanStatus"),
			"customer_portal_url":     strf("uri", "The customer's portal link."),
			"customer":                customer,
			"invoice":                 invoice,
			"plan_options":            arr(ref("PlanOption")),
			"selected_option_id":      nullable(integer("The option the customer chose.")),
			"send_introduction_email": boolean("Whether the introduction email was requested."),
			"introduction_email":      obj([]string{"status"}, M{"status": str("not_requested, pending, sent or failed.")}),
			"interval":                ref("Interval"),
			"schedule": arr(obj([]string{"number", "due_date", "amount"}, M{
				"number": integer("1-based."), "due_date": strf("date", ""), "amount": money("Due."),
				"paid": money("Confirmed so far."), "outstanding": money("Still owed."), "status": str("pending, reported, confirmed, ..."),
			})),
			"ledger":        obj(nil, M{"total": money(""), "paid": money(""), "reported": money(""), "outstanding": money("")}),
			"payments":      arr(M{"type": "object"}),
			"proposals":     arr(M{"type": "object"}),
			"consent":       nullable(M{"type": "object"}),
			"notifications": arr(M{"type": "object"}),
			"activated_at":  timeOrNull,
			"completed_at":  timeOrNull,
			"closed_at":     timeOrNull,
			"closed_reason": str("Why the plan was closed."),
			"created_at":    strf("date-time", ""),
			"updated_at":    strf("date-time", ""),
			"version":       integer("The plan stream's version."),
		}),
		"PlanList": obj([]string{"items", "total_items", "limit", "has_more"}, M{
			"items":       arr(ref("Plan")),
			"total_items": integer("Plans matching the filters."),
			"limit":       integer("Page size."),
			"offset":      integer("Items skipped."),
			"has_more":    boolean("Whether another page follows in the paging direction."),
		}),
		"PlanEvents": obj([]string{"plan_id", "items", "has_more"}, M{
			"plan_id":  integer(""),
			"has_more": boolean("Whether later events follow."),
			"items": arr(obj([]string{"event_id", "version", "type", "recorded_at", "data"}, M{
				"event_id": strf("uuid", ""), "version": integer("1-based, per plan."), "position": integer("Global position."),
				"type": str("Event type, e.g. plan.created."), "recorded_at": strf("date-time", ""),
				"data": M{"type": "object"}, "metadata": M{"type": "object"}, "hash": str("SHA-256 of the chain, hex."),
			})),
		}),
		"Health": obj([]string{"status", "version", "timestamp"}, M{
			"status": enum("", "ok", "unavailable"), "version": str("Server version."), "timestamp": strf("date-time", ""),
			"dead_letters": integer("Unresolved dead letters (events a consumer set aside)."),
			"error":        str("On the 503."), "message": str("On the 503."),
		}),
	}
}
