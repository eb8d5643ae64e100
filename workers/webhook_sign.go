package workers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// WebhookMessageID is the webhook-id of an event's deliveries: the same on
// every attempt and every endpoint, so receivers can deduplicate.
func WebhookMessageID(eventID uuid.UUID) string { return "msg_" + eventID.String() }

// SignWebhook returns the Standard Webhooks signature header value
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", where key is the
// base64-decoded part of secret after "whsec_".
func SignWebhook(secret, msgID string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, eventstore.WebhookSecretPrefix))
	if err != nil {
		return "", fmt.Errorf("webhook secret is not base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// webhookSignatures is the webhook-signature header value of one attempt
// at time at: the signature with the endpoint's secret and, while a
// rotation's overlap lasts, a second one with the previous secret, newest
// first and space-separated (Standard Webhooks lets a receiver accept any
// of several).
func webhookSignatures(c eventstore.DueDelivery, msgID string, ts int64, at time.Time) (string, error) {
	sig, err := SignWebhook(c.Secret, msgID, ts, c.Payload)
	if err != nil {
		return "", err
	}
	if c.PreviousSecret != "" && at.Before(c.PreviousSecretUntil) {
		prev, err := SignWebhook(c.PreviousSecret, msgID, ts, c.Payload)
		if err != nil {
			return "", err
		}
		sig += " " + prev
	}
	return sig, nil
}
