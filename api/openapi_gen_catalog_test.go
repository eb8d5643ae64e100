package api

// Catalog plans, plan groups and webhook endpoints under /api/v1.

func catalogOps() []op {
	id := pathID("id", "The catalog plan's id.")
	gid := param("path", "id", true, M{"type": "string", "format": "uuid"}, "The plan group's id.")
	limit := query("limit", M{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size.")
	after := query("starting_after", M{"type": "string"}, "The page after this id.")
	starter := M{"id": "starter", "name": "Starter", "catalog_item": "software-subscription", "currency": "USD", "amount": "49",
		"interval": "month", "interval_count": 1, "pricing_mode": "per_unit"}
	return []op{
		v1(op{method: "POST", path: "/api/v1/catalog/plans", id: "createCatalogPlan", tag: "Catalog", summary: "Create a catalog plan",
			body: jsonBody(true, ref("CatalogPlanInput"), M{"starter": example("A monthly price", starter)}),
		}, M{"201": okJSON("Created.", ref("CatalogPlan"), nil, location("/api/v1/catalog/plans/{id}."))}),
		v1(op{method: "GET", path: "/api/v1/catalog/plans", id: "listCatalogPlans", tag: "Catalog", summary: "List catalog plans",
			params: []M{limit, after,
				query("updated_after", M{"type": "string", "format": "date-time"}, "Changed after this time."),
				query("currency", M{"type": "string"}, "ISO 4217 code."),
				query("interval", ref("BillingInterval"), "Billing interval."),
				query("active", M{"type": "boolean"}, "Active or not.")},
		}, M{"200": okJSON("A page.", obj([]string{"items", "has_more"}, M{"items": arr(ref("CatalogPlan")), "has_more": boolean("")}), nil, nil)}),
		v1(op{method: "GET", path: "/api/v1/catalog/plans/{id}", id: "getCatalogPlan", tag: "Catalog", summary: "Get a catalog plan",
			params: []M{id}}, M{"200": okJSON("The catalog plan.", ref("CatalogPlan"), nil, nil)}),
		v1(op{method: "PATCH", path: "/api/v1/catalog/plans/{id}", id: "updateCatalogPlan", tag: "Catalog", summary: "Update a catalog plan",
			desc: "Only the descriptive fields change; prices, amounts and intervals are fixed once created.", params: []M{id},
			body: jsonBody(true, obj(nil, M{"name": str(""), "description": str(""), "invoice_display_name": str(""),
				"metadata": M{"type": "object", "additionalProperties": M{"type": "string"}}, "tax": M{"type": "object"}, "active": boolean("")}), nil),
		}, M{"200": okJSON("The catalog plan.", ref("CatalogPlan"), nil, nil)}),
		v1(op{method: "DELETE", path: "/api/v1/catalog/plans/{id}", id: "deleteCatalogPlan", tag: "Catalog", summary: "Delete a catalog plan",
			params: []M{id}}, M{"200": okJSON("The deleted catalog plan (deleted_at set).", ref("CatalogPlan"), nil, nil)}),
		v1(op{method: "POST", path: "/api/v1/catalog/plans/{id}/quote", id: "quoteCatalogPlan", tag: "Catalog", summary: "Price a quantity",
			params: []M{id},
			body: jsonBody(true, obj([]string{"quantity"}, M{"quantity": amountField("The quantity to price.")}),
				M{"q": example("101 units", M{"quantity": "101"})}),
		}, M{"200": okJSON("The price, line by line.", ref("CatalogQuote"), nil, nil)}),

		v1(op{method: "POST", path: "/api/v1/plan-groups", id: "createPlanGroup", tag: "Catalog", summary: "Create a plan group",
			body: jsonBody(true, ref("PlanGroupInput"), M{"g": example("A group", M{"name": "Collections", "plans": []string{"starter"},
				"payment_plans": []int{5, 9}})}),
		}, M{"201": okJSON("Created.", ref("PlanGroup"), nil, location("/api/v1/plan-groups/{id}."))}),
		v1(op{method: "GET", path: "/api/v1/plan-groups", id: "listPlanGroups", tag: "Catalog", summary: "List plan groups",
			params: []M{limit, after},
		}, M{"200": okJSON("A page.", obj([]string{"items", "has_more"}, M{"items": arr(ref("PlanGroup")), "has_more": boolean("")}), nil, nil)}),
		v1(op{method: "GET", path: "/api/v1/plan-groups/{id}", id: "getPlanGroup", tag: "Catalog", summary: "Get a plan group",
			params: []M{gid}}, M{"200": okJSON("The group.", ref("PlanGroup"), nil, nil)}),
		v1(op{method: "PUT", path: "/api/v1/plan-groups/{id}", id: "replacePlanGroup", tag: "Catalog", summary: "Replace a plan group",
			params: []M{gid}, body: jsonBody(true, ref("PlanGroupInput"), nil),
		}, M{"200": okJSON("The group.", ref("PlanGroup"), nil, nil)}),
		v1(op{method: "DELETE", path: "/api/v1/plan-groups/{id}", id: "deletePlanGroup", tag: "Catalog", summary: "Delete a plan group",
			params: []M{gid}}, M{"204": resp("Deleted.", nil, nil, rateHeaders())}),
		v1(op{method: "GET", path: "/api/v1/plan-groups/{id}/report", id: "planGroupReport", tag: "Catalog", summary: "A plan group's report",
			desc:   "Counts and amounts of the group's payment plans by currency and status, and of its catalog plans.",
			params: []M{gid},
		}, M{"200": okJSON("The report.", obj([]string{"id", "name", "payment_plans", "catalog_plans"}, M{
			"id": strf("uuid", ""), "name": str(""),
			"payment_plans": obj([]string{"count", "by_currency"}, M{"count": integer(""), "by_currency": arr(M{"type": "object"})}),
			"catalog_plans": obj([]string{"count"}, M{"count": integer("")}),
		}), nil, nil)}),
	}
}

func webhookOps() []op {
	id := pathInt("id", "The webhook endpoint's id.")
	endpoint := okJSON("The endpoint.", ref("WebhookEndpoint"), nil, nil)
	return []op{
		v1(op{method: "POST", path: "/api/v1/webhook-endpoints", id: "createWebhookEndpoint", tag: "Webhooks", summary: "Add a webhook endpoint",
			desc: "The secret (whsec_...) is shown once. events empty: Good Plan's event types; [\"*\"]: every type.",
			body: jsonBody(true, obj([]string{"url"}, M{"url": strf("uri", "https URL (http only when allowed)."),
				"events": arr(M{"type": "string"})}), M{"e": example("Plan events", M{"url": "https://example.com/hook", "events": []string{"plan.created", "installment.paid"}})}),
		}, M{"201": okJSON("Created.", obj([]string{"id", "url", "events", "secret", "created_at"}, M{
			"id": integer(""), "url": str(""), "events": arr(M{"type": "string"}),
			"secret": M{"type": "string", "pattern": "^whsec_", "description": "Signing secret, shown once."}, "created_at": strf("date-time", ""),
		}), nil, location("/api/v1/webhook-endpoints/{id}."))}),
		v1(op{method: "GET", path: "/api/v1/webhook-endpoints", id: "listWebhookEndpoints", tag: "Webhooks", summary: "List webhook endpoints"},
			M{"200": okJSON("The endpoints.", obj([]string{"items"}, M{"items": arr(ref("WebhookEndpoint"))}), nil, nil)}),
		v1(op{method: "GET", path: "/api/v1/webhook-endpoints/{id}", id: "getWebhookEndpoint", tag: "Webhooks", summary: "Get a webhook endpoint",
			params: []M{id}}, M{"200": endpoint}),
		v1(op{method: "DELETE", path: "/api/v1/webhook-endpoints/{id}", id: "deleteWebhookEndpoint", tag: "Webhooks", summary: "Delete a webhook endpoint",
			params: []M{id}}, M{"204": resp("Deleted.", nil, nil, rateHeaders())}),
		v1(op{method: "POST", path: "/api/v1/webhook-endpoints/{id}/rotate-secret", id: "rotateWebhookSecret", tag: "Webhooks",
			summary: "Rotate the signing secret", desc: "The new secret is shown once; the previous one keeps signing until previous_secret_expires_at.",
			params: []M{id},
		}, M{"200": okJSON("The endpoint with its new secret.", M{"allOf": []M{ref("WebhookEndpoint"), obj([]string{"secret", "previous_secret_expires_at"}, M{
			"secret": M{"type": "string", "pattern": "^whsec_"}, "previous_secret_expires_at": strf("date-time", "")})}}, nil, nil)}),
		v1(op{method: "POST", path: "/api/v1/webhook-endpoints/{id}/pause", id: "pauseWebhookEndpoint", tag: "Webhooks", summary: "Pause deliveries",
			params: []M{id}}, M{"200": endpoint}),
		v1(op{method: "POST", path: "/api/v1/webhook-endpoints/{id}/resume", id: "resumeWebhookEndpoint", tag: "Webhooks", summary: "Resume deliveries",
			params: []M{id}}, M{"200": endpoint}),
		v1(op{method: "POST", path: "/api/v1/webhook-endpoints/{id}/test", id: "testWebhookEndpoint", tag: "Webhooks", summary: "Send a test event",
			desc: "Queues a webhook.test delivery; 409 when the endpoint is paused or disabled.", params: []M{id},
		}, M{"202": okJSON("Queued.", ref("WebhookDelivery"), nil, nil)}),
		v1(op{method: "GET", path: "/api/v1/webhook-endpoints/{id}/deliveries", id: "listWebhookDeliveries", tag: "Webhooks", summary: "List deliveries",
			params: []M{id, query("limit", M{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
				query("offset", M{"type": "integer", "minimum": 0}, "Items to skip.")},
		}, M{"200": okJSON("A page of deliveries, newest first, with their attempts.", obj([]string{"items", "total_items", "limit", "offset"}, M{
			"items": arr(M{"allOf": []M{ref("WebhookDelivery"), obj([]string{"attempts_log"}, M{"attempts_log": arr(obj([]string{"attempt", "attempted_at"}, M{
				"attempt": integer(""), "status_code": nullable(integer("null: no response.")), "latency_ms": integer(""),
				"response_excerpt": str("The first 1 KiB of the body."), "error": nullable(str("")), "attempted_at": strf("date-time", ""),
			}))})}}),
			"total_items": integer(""), "limit": integer(""), "offset": integer(""),
		}), nil, nil)}),
		v1(op{method: "POST", path: "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend", id: "resendWebhookDelivery", tag: "Webhooks",
			summary: "Resend a delivery", desc: "Queues a failed or delivered delivery again; a pending one is a 409.",
			params: []M{id, pathInt("delivery_id", "The delivery's id.")},
		}, M{"202": okJSON("Queued.", ref("WebhookDelivery"), nil, nil)}),
	}
}

func catalogSchemas() M {
	tier := obj(nil, M{"min_qty": M{"type": "integer"}, "max_qty": M{"type": "integer"}, "unit_cost": money(""), "flat_cost": money("")})
	payOpts := obj(nil, M{"out_of_band": M{"type": "boolean"}, "pay_as_you_go": M{"type": "boolean"}, "pre_paid": M{"type": "boolean"},
		"post_paid": M{"type": "boolean"}, "credits": M{"type": "string"}})
	endpoint := obj([]string{"id", "url", "events", "created_at"}, M{
		"id": integer(""), "url": str(""), "events": arr(M{"type": "string"}), "created_at": strf("date-time", ""),
		"disabled_at":     nullable(strf("date-time", "Set when the endpoint was disabled (e.g. it answered 410).")),
		"disabled_reason": nullable(str("")), "paused_at": nullable(strf("date-time", "null: not paused.")),
	})
	return M{
		"BillingInterval": enum("Billing interval.", "day", "week", "month", "year"),
		"CatalogPlanInput": obj(nil, M{
			"id": str("Your id; generated (plan_...) when missing."), "name": str(""), "description": str(""),
			"invoice_display_name": str(""), "catalog_item": str(""), "currency": str("ISO 4217; default USD."),
			"amount":       amountField("Price per unit (per_unit) or null (custom, tiered)."),
			"pricing_mode": enum("", "per_unit", "volume", "tiered", "custom"), "quantity_type": enum("", "constant", "usage"),
			"interval": ref("BillingInterval"), "interval_count": M{"type": "integer", "minimum": 1},
			"tiers":    arr(obj(nil, M{"min_qty": M{"type": "integer"}, "max_qty": M{"type": "integer"}, "unit_cost": amountField(""), "flat_cost": amountField("")})),
			"metadata": M{"type": "object", "additionalProperties": M{"type": "string"}}, "tax": M{"type": "object"},
			"payment_options": payOpts, "prices": arr(M{"type": "string"}), "active": boolean(""),
		}),
		"CatalogPlan": obj([]string{"id", "object", "name", "currency", "amount", "pricing_mode", "interval", "interval_count", "active", "created_at", "updated_at"}, M{
			"id": str(""), "object": M{"const": "catalog_plan"}, "name": str(""), "description": str(""),
			"invoice_display_name": str(""), "catalog_item": str(""), "currency": str(""), "amount": nullable(money("")),
			"pricing_mode": str(""), "quantity_type": str(""), "interval": ref("BillingInterval"), "interval_count": integer(""),
			"tiers": nullable(arr(tier)), "metadata": M{"type": "object", "additionalProperties": M{"type": "string"}},
			"tax": M{"type": "object"}, "payment_options": payOpts, "prices": arr(M{"type": "string"}), "active": boolean(""),
			"created_at": strf("date-time", ""), "updated_at": strf("date-time", ""), "deleted_at": nullable(strf("date-time", "")),
			"version": integer(""),
		}),
		"CatalogQuote": obj([]string{"currency", "quantity", "total", "lines"}, M{
			"currency": str(""), "quantity": money(""), "total": money(""),
			"lines": arr(obj(nil, M{"tier": nullable(integer("The tier, 1-based; null for per_unit pricing.")), "quantity": money(""), "unit_cost": money(""), "flat_cost": money(""), "amount": money("")})),
		}),
		"PlanGroupInput": obj([]string{"name"}, M{"name": str(""), "plans": arr(M{"type": "string", "description": "Catalog plan ids."}),
			"payment_plans": arr(M{"type": "integer", "description": "plan_ids."})}),
		"PlanGroup": obj([]string{"id", "name", "plans", "payment_plans", "created_at", "updated_at"}, M{
			"id": strf("uuid", ""), "name": str(""),
			"plans":         arr(obj([]string{"id", "name"}, M{"id": str(""), "name": str(""), "currency": str(""), "interval": str(""), "interval_count": integer("")})),
			"payment_plans": arr(M{"type": "integer"}), "created_at": strf("date-time", ""), "updated_at": strf("date-time", ""),
		}),
		"WebhookEndpoint": endpoint,
		"WebhookDelivery": obj([]string{"id", "event_id", "event_type", "state", "attempts"}, M{
			"id": integer(""), "event_id": strf("uuid", ""), "event_type": str(""),
			"state": enum("", "pending", "succeeded", "failed"), "attempts": integer(""),
			"next_attempt_at": nullable(strf("date-time", "")),
		}),
	}
}
