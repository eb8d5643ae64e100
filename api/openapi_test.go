package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// TestOpenAPIDocumentValid checks openapi.json against the OpenAPI 3.1
// specification's schema with libopenapi-validator.
func TestOpenAPIDocumentValid(t *testing.T) {
	t.Parallel()
	doc, err := libopenapi.NewDocument(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("openapi version %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("build validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s (line %d)", e.Message, e.Reason, e.SpecLine)
			for _, s := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", s.FieldPath, s.Reason)
			}
		}
	}
	// The validator must be able to refuse: a document without info is
	// not OpenAPI.
	bad, err := libopenapi.NewDocument([]byte(`{"openapi":"3.1.0","paths":{"/x":{"get":{"responses":"nope"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if bv, errs := validator.NewValidator(bad); len(errs) == 0 {
		if ok, _ := bv.ValidateDocument(); ok {
			t.Fatal("an invalid document passed ValidateDocument")
		}
	}
}

// TestOpenAPIServed checks GET /api/openapi.json: the embedded document,
// JSON, cacheable and revalidated by ETag, without authentication.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.do(t, "GET", OpenAPIPath, "", nil)
	if res.status != 200 || res.header.Get("Content-Type") != "application/json" ||
		!strings.Contains(res.header.Get("Cache-Control"), "max-age=") || res.header.Get("ETag") == "" {
		t.Fatalf("GET %s: %d %v", OpenAPIPath, res.status, res.header)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %q", err, doc.OpenAPI)
	}
	for _, p := range []string{"/api/v1/plans", "/api/health", "/api/v1/plans/{id}/cancel", "/v0/plans", "/plans/{id}", "/data/plans"} {
		if doc.Paths[p] == nil {
			t.Errorf("path %s missing (paths are absolute from the root)", p)
		}
	}
	again := env.do(t, "GET", OpenAPIPath, "", nil, "If-None-Match", res.header.Get("ETag"))
	if again.status != http.StatusNotModified || len(again.body) != 0 {
		t.Fatalf("revalidation: %d %d bytes", again.status, len(again.body))
	}
}

// TestAPIDocsPage checks GET /api/docs: one HTML page from the document,
// every operation on it, no script and no external asset.
func TestAPIDocsPage(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.do(t, "GET", APIDocsPath, "", nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(res.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET %s: %d %v", APIDocsPath, res.status, res.header)
	}
	page := string(res.body)
	var doc oaDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method, o := range item {
			if !strings.Contains(page, `id="`+o.OperationID+`"`) {
				t.Errorf("%s %s (%s) is not on the page", strings.ToUpper(method), path, o.OperationID)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("schema %s is not on the page", name)
		}
	}
	for _, want := range []string{`<html lang="en">`, `<main id="main">`, `<nav aria-label="Contents">`, "POST", "/api/v1/plans",
		"John Doe", "X-RateLimit-Remaining", `<a href="/api/openapi.json">`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://cdn", "<link "} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q: it must be self-contained", bad)
		}
	}
}

// TestOpenAPICheckRefusesDrift feeds the suite's checker exchanges that do
// not match the document: each must be reported, none counted as covered.
func TestOpenAPICheckRefusesDrift(t *testing.T) {
	t.Parallel()
	c := &specCheck{exercised: map[string]int{}}
	router := routesOnly()
	exchange := func(method, target, body string, status int, respBody string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer gp_"+strings.Repeat("0", 64))
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(status)
		rec.WriteString(respBody)
		pattern := normalizePattern(router.Find(chi.NewRouteContext(), method, req.URL.Path))
		c.check(req, pattern, []byte(body), rec)
	}
	exchange("GET", "/api/health", "", 200, `{"status":5,"version":"x","timestamp":"2025-11-27T01:15:30Z"}`)     // wrong type
	exchange("GET", "/api/health", "", 201, `{"status":"ok","version":"x","timestamp":"2025-11-27T01:15:30Z"}`)  // undeclared status
	exchange("POST", "/api/v1/plans", `{"invoice":{"amount":"5"}}`, 201, `{"plan_id":1}`)                        // accepted an invalid request
	exchange("GET", "/api/v1/plans/7", "", 404, `{"message":"no error title"}`)                                  // error body without "error"
	exchange("GET", "/v1/plans", "", 401, `{"error":"API key required","message":"4Geeks answers with detail"}`) // another dialect's shape
	if len(c.failures) != 5 {
		t.Fatalf("%d failures, want 5:\n%s", len(c.failures), strings.Join(c.failures, "\n"))
	}
	if len(c.exercised) != 0 {
		t.Fatalf("failed exchanges counted as coverage: %v", c.exercised)
	}
	exchange("GET", "/api/health", "", 200, `{"status":"ok","version":"x","timestamp":"2025-11-27T01:15:30Z","dead_letters":0}`)
	if len(c.failures) != 5 || c.exercised["GET /api/health"] != 1 {
		t.Fatalf("a matching exchange: failures %d, exercised %v", len(c.failures), c.exercised)
	}
}

// TestOpenAPICoverageReportsGaps: with nothing exercised, the coverage
// check names every JSON route, and the router and the document list the
// same operations.
func TestOpenAPICoverageReportsGaps(t *testing.T) {
	t.Parallel()
	routes, err := jsonRoutes(routesOnly())
	if err != nil {
		t.Fatal(err)
	}
	ops, err := specOperations()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 60 || !slices.Equal(routes, ops) {
		t.Fatalf("router %d JSON routes, document %d operations:\n%v\n%v", len(routes), len(ops), routes, ops)
	}
	gaps := (&specCheck{exercised: map[string]int{}}).coverage()
	if len(gaps) != len(routes) || !slices.Contains(gaps, "route never exercised by a validated request: GET /api/health") {
		t.Fatalf("%d gaps for %d routes: %v", len(gaps), len(routes), gaps)
	}
}
