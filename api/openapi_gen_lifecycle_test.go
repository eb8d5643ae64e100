package api

// Lifecycle commands on a plan; each answers with the plan after it.

func amountField(desc string) M {
	return M{"type": []string{"number", "string"}, "description": desc + " A JSON number or a decimal string."}
}

func reasonBody(desc string) M {
	return jsonBody(false, obj(nil, M{"reason": M{"type": "string", "maxLength": 1000, "description": desc}}), nil)
}

func lifecycleOps() []op {
	plan := func(desc string) M { return okJSON(desc, ref("Plan"), nil, nil) }
	id := pathInt("id", "The plan_id.")
	payment := pathInt("payment_id", "The payment's id (in the plan's payments).")
	number := pathInt("number", "The installment's number, 1-based.")
	proposal := pathInt("proposal_id", "The proposal's id (in the plan's proposals).")
	return []op{
		v1(op{method: "POST", path: "/api/v1/plans/{id}/payments", id: "recordPayment", tag: "Lifecycle",
			summary: "Record a payment", desc: "Records a payment received outside goodplan; it is confirmed at once.",
			params: []M{id},
			body: jsonBody(true, obj([]string{"amount"}, M{
				"amount":    amountField("The amount paid."),
				"paid_on":   strf("date", "When it was paid; default today."),
				"method":    str("How it was paid, e.g. check, cash, transfer."),
				"reference": str("The merchant's reference."),
			}), M{"check": example("A check", M{"amount": "150.00", "method": "check", "paid_on": "2025-11-27", "reference": "CHK 1001"})}),
		}, M{"201": plan("The plan with the payment.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/payments/{payment_id}/confirm", id: "confirmPayment", tag: "Lifecycle",
			summary: "Confirm a reported payment", desc: "Confirms a payment the customer reported in the portal, optionally for another amount.",
			params: []M{id, payment},
			body:   jsonBody(false, obj(nil, M{"amount": amountField("The amount received, if not the reported one.")}), nil),
		}, M{"200": plan("The plan with the payment confirmed.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/payments/{payment_id}/reject", id: "rejectPayment", tag: "Lifecycle",
			summary: "Reject a reported payment", params: []M{id, payment}, body: reasonBody("Why, shown to the customer."),
		}, M{"200": plan("The plan with the payment rejected.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/installments/{number}/extend", id: "extendInstallment", tag: "Lifecycle",
			summary: "Extend an installment", desc: "Moves an installment's due date later; shift_following moves the later ones by as much.",
			params: []M{id, number},
			body: jsonBody(true, obj([]string{"due_date"}, M{
				"due_date":        strf("date", "The new due date, after the current one."),
				"shift_following": M{"type": "boolean", "default": false, "description": "Shift the later installments too."},
			}), M{"extend": example("Two weeks later", M{"due_date": "2026-01-14", "shift_following": true})}),
		}, M{"200": plan("The plan with the new schedule.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/installments/{number}/defer", id: "deferInstallment", tag: "Lifecycle",
			summary: "Defer an installment", desc: "Moves an installment to one interval after the last due date.",
			params: []M{id, number},
		}, M{"200": plan("The plan with the new schedule.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/proposals/{proposal_id}/approve", id: "approveProposal", tag: "Lifecycle",
			summary: "Approve a proposal", desc: "Accepts the schedule the customer proposed; the plan becomes active on it.",
			params: []M{id, proposal},
		}, M{"200": plan("The plan on the proposed schedule.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/proposals/{proposal_id}/decline", id: "declineProposal", tag: "Lifecycle",
			summary: "Decline a proposal", params: []M{id, proposal}, body: reasonBody("Why, shown to the customer."),
		}, M{"200": plan("The plan with the proposal declined.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/proposals/{proposal_id}/counter", id: "counterProposal", tag: "Lifecycle",
			summary: "Counter a proposal", desc: "Offers other terms; the customer accepts them in the portal.",
			params: []M{id, proposal},
			body: jsonBody(true, obj([]string{"installments", "interval", "first_payment_date"}, M{
				"installments":       M{"type": []string{"integer", "string"}, "description": "Number of payments, 2-96."},
				"interval":           ref("Interval"),
				"first_payment_date": strf("date", "First due date."),
				"message":            M{"type": "string", "maxLength": 1000, "description": "Shown to the customer."},
			}), M{"counter": example("Three monthly payments", M{"installments": 3, "interval": "monthly",
				"first_payment_date": "2026-01-01", "message": "Three payments work for us."})}),
		}, M{"200": plan("The plan with the counter-offer.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/cancel", id: "cancelPlan", tag: "Lifecycle",
			summary: "Cancel a plan", params: []M{id}, body: reasonBody("Why; kept in the history."),
		}, M{"200": plan("The cancelled plan.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/write-off", id: "writeOffPlan", tag: "Lifecycle",
			summary: "Write a plan off", desc: "Closes an active or pending plan as uncollectable (a cancelled plan cannot be written off: 409).",
			params: []M{id}, body: reasonBody("Why; kept in the history."),
		}, M{"200": plan("The written-off plan.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/reactivate", id: "reactivatePlan", tag: "Lifecycle",
			summary: "Reactivate a plan", desc: "Reopens an abandoned, cancelled or written-off plan.", params: []M{id},
		}, M{"200": plan("The reactivated plan.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/portal-link", id: "regeneratePortalLink", tag: "Lifecycle",
			summary: "Regenerate the portal link", desc: "Issues a new customer_portal_url; the old link stops working.", params: []M{id},
		}, M{"200": plan("The plan with its new portal link.")}),
		v1(op{method: "POST", path: "/api/v1/plans/{id}/resend-introduction", id: "resendIntroduction", tag: "Lifecycle",
			summary: "Resend the introduction email", desc: "409 while the previous one is still being sent.", params: []M{id},
		}, M{"200": plan("The plan; introduction_email.status is pending.")}),
	}
}
