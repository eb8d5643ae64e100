package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"

	"goodplan/domain"
	"goodplan/eventstore"
)

// portalMetadata records that the customer acted, and from where. A
// request carrying a well-formed form_id gets a command id derived from
// the whole form, so the same form posted twice is applied once.
func (s *Server) portalMetadata(r *http.Request, accountID int64) eventstore.Metadata {
	meta := s.metadataFor(r, accountID, domain.SourceCustomer)
	meta.CommandID = formCommandID(r, "portal:", "")
	return meta
}

// formCommandID is the command id of a form posted with a well-formed
// form_id: prefix and a hash of scope (who posts: "" when the path says
// it), the path and the whole form, so the same form posted twice, or
// twice at once, is applied once. "" (a fresh command) without a form_id.
func formCommandID(r *http.Request, prefix, scope string) string {
	if !validFormID(r.PostForm.Get("form_id")) {
		return ""
	}
	sum := sha256.Sum256([]byte(scope + r.URL.Path + "\n" + r.PostForm.Encode()))
	return prefix + hex.EncodeToString(sum[:16])
}

// newFormID returns a fresh form_id: 128 random bits, base64url.
func newFormID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validFormID(s string) bool {
	if len(s) != formIDLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// portalCSRF returns the csrf field of the forms of token's page:
// base64url(HMAC-SHA256(key, "portal-csrf:" + token)). It is bound to the
// token, so it is worthless for another plan and dies with the link.
func (s *Server) portalCSRF(ctx context.Context, token string) (string, error) {
	key, err := s.portalCSRFKey(ctx)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("portal-csrf:" + token))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// portalCSRFValid reports whether got is the csrf field of token's page.
func (s *Server) portalCSRFValid(ctx context.Context, token, got string) (bool, error) {
	want, err := s.portalCSRF(ctx, token)
	if err != nil {
		return false, err
	}
	return got != "" && hmac.Equal([]byte(got), []byte(want)), nil
}

// portalCSRFKey is the installation-wide key of the portal's csrf fields.
func (s *Server) portalCSRFKey(ctx context.Context) ([]byte, error) {
	return s.instanceKey(ctx, portalCSRFSecret)
}

// instanceKey returns the installation-wide 32-byte secret name (see
// eventstore.Secrets), loaded once per process; a failed load is retried
// by the next call.
func (s *Server) instanceKey(ctx context.Context, name string) ([]byte, error) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if key, ok := s.instanceKeys[name]; ok {
		return key, nil
	}
	key, err := s.store.InstanceSecret(ctx, name, 32)
	if err != nil {
		return nil, err
	}
	if s.instanceKeys == nil {
		s.instanceKeys = make(map[string][]byte)
	}
	s.instanceKeys[name] = key
	return key, nil
}
