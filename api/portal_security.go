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
	if validFormID(r.PostForm.Get("form_id")) {
		sum := sha256.Sum256([]byte(r.URL.Path + "\n" + r.PostForm.Encode()))
		meta.CommandID = "portal:" + hex.EncodeToString(sum[:16])
	}
	return meta
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

// portalCSRFKey loads the installation-wide CSRF key once; a failed load
// is retried by the next request.
func (s *Server) portalCSRFKey(ctx context.Context) ([]byte, error) {
	s.csrfMu.Lock()
	defer s.csrfMu.Unlock()
	if s.csrfKey == nil {
		key, err := s.store.InstanceSecret(ctx, portalCSRFSecret, 32)
		if err != nil {
			return nil, err
		}
		s.csrfKey = key
	}
	return s.csrfKey, nil
}
