package api

// Shared components: error bodies, headers, security schemes, and the
// webhooks goodplan sends.

func components() M {
	schemas := M{
		"Error": obj([]string{"error"}, M{
			"error":   str("A short title: \"Not found\", \"Validation failed\", ..."),
			"message": str("What happened and what to do."),
			"errors": M{"type": "object", "additionalProperties": arr(M{"type": "string"}),
				"description": "On a 422 (and a conflict on a field): the messages by field path."},
		}),
		"InvoicedError": obj([]string{"type", "message"}, M{"type": enum("", "invalid_request", "api"), "message": str(""), "param": str("The field at fault.")}),
		"GeeksError": obj([]string{"detail"}, M{"detail": M{"oneOf": []M{
			{"type": "string"},
			arr(obj([]string{"loc", "msg", "type"}, M{"loc": arr(M{"type": []string{"string", "integer"}}), "msg": str(""), "type": str("")})),
		}}}),
		"PaygenticError": obj([]string{"error"}, M{"error": obj([]string{"code", "message"}, M{"code": str(""), "message": str(""),
			"details": arr(obj([]string{"field", "code", "message"}, M{"field": str(""), "code": str(""), "message": str("")}))})}),
		"DataError": obj([]string{"success", "error", "message"}, M{"success": M{"const": false}, "error": str(""), "message": str(""),
			"errors": M{"type": "object", "additionalProperties": arr(M{"type": "string"})}}),
		"WebhookEvent": obj([]string{"event", "timestamp", "data"}, M{
			"event":     enum("The event type.", webhookEventTypes...),
			"timestamp": strf("date-time", ""),
			"data":      M{"type": "object", "description": "The plan, invoice and customer as in the create response, and what the event changed."},
		}),
	}
	for _, m := range []M{planSchemas(), catalogSchemas(), dialectSchemas()} {
		for k, v := range m {
			schemas[k] = v
		}
	}
	errResp := func(desc string, ex M) M { return resp(desc, ref("Error"), M{"e": example(desc, ex)}, nil) }
	retry := M{"Retry-After": M{"$ref": "#/components/headers/Retry-After"}}
	return M{
		"schemas": schemas,
		"responses": M{
			"BadRequest":   errResp("The body is not a JSON object.", M{"error": "Malformed JSON", "message": "The request body is not valid JSON."}),
			"Unauthorized": errResp("Missing or invalid API key.", M{"error": "API key required", "message": "Please provide an API key in the Authorization header"}),
			"NotFound":     errResp("Not found, or of another account.", M{"error": "Not found", "message": "Plan 999 was not found."}),
			"Conflict": errResp("The resource's state does not allow this, or it changed meanwhile.",
				M{"error": "Invalid state", "message": "Cannot cancel the plan: the plan is completed."}),
			"TooLarge": errResp("The body (64 KiB) or the event it would record is too large.",
				M{"error": "Event too large", "message": "This request would record an event larger than the limit; nothing was recorded."}),
			"ValidationFailed": errResp("Invalid request data (the seed's 422), or an Idempotency-Key reused with another body.",
				M{"error": "Validation failed", "errors": M{"customer.email": []string{"The customer.email must be a valid email address."},
					"invoice.amount": []string{"The invoice.amount must be at least 1."}}}),
			"TooManyRequests": resp("Rate limited: per key (60 a minute, burst 10 a second by default) or per client address.", ref("Error"),
				M{"e": example("Per key", M{"error": "Too many requests", "message": "Rate limit exceeded: 60 requests per minute, 10 per second. Retry after 1 s."})},
				mergeM(retry, rateHeaders())),
			"Unavailable": resp("The database (the event store, or the rate limit's shared windows) is not answering; retry after Retry-After.", ref("Error"),
				M{"e": example("Rate limit store", M{"error": "Service unavailable", "message": "The rate limit cannot be checked right now. Retry after 1 s."})},
				retry),
			"ClientClosed": errResp("The client went away before the answer (nginx's 499): never received, listed for the request log and metrics, which count it under 499 rather than as a failure of the server.",
				M{"error": "Client closed request", "message": "The client went away before the answer."}),
			"InternalError": errResp("Something went wrong on the server; the request may be retried.",
				M{"error": "Internal server error", "message": "Something went wrong on our side; the request may be retried."}),
			"InvoicedError":  resp("An error in Invoiced's shape.", ref("InvoicedError"), nil, mergeM(retry, M{"WWW-Authenticate": M{"schema": M{"type": "string"}, "description": "On a 401."}})),
			"GeeksError":     resp("An error in 4Geeks' shape.", ref("GeeksError"), nil, retry),
			"PaygenticError": resp("An error in Paygentic's shape.", ref("PaygenticError"), nil, retry),
			"DataError":      resp("An error in the data API's shape.", ref("DataError"), nil, retry),
		},
		"parameters": M{
			"Idempotency-Key": param("header", "Idempotency-Key", false, M{"type": "string", "maxLength": 255, "pattern": "^[ -~]*$"},
				"Makes the command safe to retry (keys are per account): the same key and body return the first outcome, "+
					"with Idempotent-Replayed: true; the same key with another body is a 422."),
		},
		"headers": M{
			"X-RateLimit-Limit":     M{"description": "Requests allowed per minute for the key (set when the account has a limit).", "schema": M{"type": "integer"}},
			"X-RateLimit-Remaining": M{"description": "Requests left in the current minute.", "schema": M{"type": "integer"}},
			"X-RateLimit-Reset":     M{"description": "Unix time when the minute's allowance is whole again.", "schema": M{"type": "integer"}},
			"Retry-After":           M{"description": "Seconds to wait before retrying.", "schema": M{"type": "integer"}},
			"Idempotent-Replayed":   M{"description": "true when this is the first response to the same Idempotency-Key, replayed.", "schema": M{"type": "string", "enum": []string{"true"}}},
		},
		"securitySchemes": M{
			"bearerAuth":    M{"type": "http", "scheme": "bearer", "description": "Authorization: Bearer gp_... (an API key, shown once when created)."},
			"invoicedBasic": M{"type": "http", "scheme": "basic", "description": "Invoiced's dialect: the API key as the Basic user name, empty password."},
			"apiKeyHeader":  M{"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "4Geeks' dialect: the API key in X-Api-Key."},
		},
	}
}

// webhookEventTypes are Good Plan's event types, delivered to endpoints
// that subscribed to them (or to none: all of them).
var webhookEventTypes = []string{"plan.created", "plan.activated", "plan.completed", "plan.abandoned", "plan.cancelled",
	"plan.written_off", "plan.reactivated", "installment.paid", "installment.confirmed", "installment.extension_granted",
	"installment.deferred", "proposal.created", "proposal.approved", "proposal.countered", "proposal.declined",
	"proposal.counter_accepted", "webhook.test"}

func webhooksDoc() M {
	h := func(desc string) M {
		return M{"in": "header", "required": true, "schema": M{"type": "string"}, "description": desc}
	}
	return M{"planEvent": M{"post": M{
		"operationId": "planEvent", "tags": []string{"Webhooks"}, "summary": "An event, sent to your endpoint",
		"description": "Signed per the Standard Webhooks spec; retried with backoff until a 2xx; an endpoint answering 410 is disabled.",
		"parameters": []M{
			mergeM(h("The event id; the same on every retry."), M{"name": "webhook-id"}),
			mergeM(h("Unix time of this attempt."), M{"name": "webhook-timestamp"}),
			mergeM(h("v1,<base64 HMAC-SHA256 of id.timestamp.body with the secret after whsec_>"), M{"name": "webhook-signature"}),
		},
		"requestBody": jsonBody(true, ref("WebhookEvent"), M{"created": example("plan.created", M{"event": "plan.created",
			"timestamp": "2025-11-27T01:15:30Z", "data": seedCreated})}),
		"responses": M{"2XX": M{"description": "Received; any other answer is retried."}},
	}}}
}
