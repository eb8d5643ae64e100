package cluster

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A replica that refuses connections is skipped: every request, body
// included, reaches the live one; with none alive the answer is a JSON 503.
func TestProxyFailsOverARefusedReplica(t *testing.T) {
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.Host+" "+r.Header.Get("X-Forwarded-For")+" "+string(b))
	}))
	defer live.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	p, err := NewProxy([]string{deadURL, live.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	for i := range 4 {
		res, err := http.Post(front.URL+"/x", "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := strings.TrimPrefix(front.URL, "http://") + " 127.0.0.1 body"
		if res.StatusCode != http.StatusOK || string(b) != want {
			t.Fatalf("request %d: %d %q, want 200 %q", i, res.StatusCode, b, want)
		}
	}

	none, err := NewProxy([]string{deadURL})
	if err != nil {
		t.Fatal(err)
	}
	front2 := httptest.NewServer(none)
	defer front2.Close()
	res, err := http.Get(front2.URL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("no replica: %d %v %s", res.StatusCode, res.Header, b)
	}
}
