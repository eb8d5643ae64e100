package api

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	oaerrors "github.com/pb33f/libopenapi-validator/errors"

	"goodplan/eventstore"
)

// Every Server the package's tests create is wrapped (wrapRouter) in a
// router that checks each request to a JSON route and its response
// against openapi.json with libopenapi-validator:
//
//   - every response must match the document (status declared, body valid
//     against its schema), errors included;
//   - a request the server accepted (2xx) must be valid for the document:
//     the document may not be stricter than the server;
//   - requests the server refused (4xx) are not checked: the suite sends
//     malformed ones on purpose.
//
// TestMain fails the run on any mismatch and, when the whole suite ran
// (no -run), checks that every JSON route of the router is in the document
// and was exercised, and that every operation of the document is routed.

// htmlRoute reports whether a chi pattern is a server-rendered page (the
// portal and the dashboard), not a JSON route.
func htmlRoute(pattern string) bool {
	return pattern == "/plan" || strings.HasPrefix(pattern, "/plan/") || pattern == "/dashboard" ||
		strings.HasPrefix(pattern, "/dashboard/")
}

// normalizePattern writes a chi pattern as an OpenAPI path: a sub-router's
// "/plans/" is "/plans".
func normalizePattern(p string) string {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

type specCheck struct {
	once    sync.Once
	v       validator.Validator
	initErr error

	mu        sync.Mutex
	exercised map[string]int // "METHOD /path" -> validated exchanges
	failures  []string
	checked   int
}

var oaCheck = &specCheck{exercised: map[string]int{}}

func (c *specCheck) validator() (validator.Validator, error) {
	c.once.Do(func() {
		doc, err := libopenapi.NewDocument(openAPIDocument)
		if err != nil {
			c.initErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			c.initErr = fmt.Errorf("build validator: %v", errs)
			return
		}
		c.v = v
	})
	return c.v, c.initErr
}

func (c *specCheck) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// validatingRouter is a chi.Router whose ServeHTTP checks the exchange.
type validatingRouter struct{ chi.Router }

func (vr validatingRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pattern := normalizePattern(vr.Find(chi.NewRouteContext(), r.Method, r.URL.Path))
	if pattern == "" || htmlRoute(pattern) {
		vr.Router.ServeHTTP(w, r)
		return
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec := httptest.NewRecorder()
	vr.Router.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	oaCheck.check(r, pattern, body, rec)
}

// check validates one exchange and counts it for its route.
func (c *specCheck) check(r *http.Request, pattern string, body []byte, rec *httptest.ResponseRecorder) {
	v, err := c.validator()
	if err != nil {
		c.fail("openapi.json: %v", err)
		return
	}
	what := fmt.Sprintf("%s %s (route %s) -> %d", r.Method, r.URL.RequestURI(), pattern, rec.Code)
	req := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		// The server reads a body without a Content-Type as JSON (the
		// Invoiced dialect: as form fields unless it starts with "{").
		ct := "application/json"
		if pattern == "/plans" || pattern == "/plans/{id}" {
			if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
				ct = "application/x-www-form-urlencoded"
			}
		}
		req.Header.Set("Content-Type", ct)
	}
	res := &http.Response{StatusCode: rec.Code, Header: rec.Header().Clone(), Request: req,
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes()))}
	var problems []string
	if rec.Code >= 200 && rec.Code < 300 {
		if ok, errs := v.ValidateHttpRequestSync(req); !ok {
			for _, e := range errs {
				problems = append(problems, "request: "+describe(e.Message, e.Reason, e.SchemaValidationErrors))
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if ok, errs := v.ValidateHttpResponse(req, res); !ok {
		for _, e := range errs {
			problems = append(problems, "response: "+describe(e.Message, e.Reason, e.SchemaValidationErrors))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked++
	if len(problems) > 0 {
		excerpt := rec.Body.String()
		if len(excerpt) > 300 {
			excerpt = excerpt[:300] + "..."
		}
		c.failures = append(c.failures, what+"\n    "+strings.Join(problems, "\n    ")+"\n    body: "+excerpt)
		return
	}
	c.exercised[r.Method+" "+pattern]++
}

func describe(msg, reason string, schemaErrs []*oaerrors.SchemaValidationFailure) string {
	s := msg
	if reason != "" {
		s += ": " + reason
	}
	for _, e := range schemaErrs {
		s += "; " + e.FieldPath + ": " + e.Reason
	}
	return s
}

// routesOnly is the router of a Server on a store without a database: for
// walking and matching routes, not for serving.
// routesOnly is the router of a Server with every optional route mounted
// (/metrics is there only when the main listener serves the metrics).
func routesOnly() chi.Router {
	return New(Config{Store: eventstore.New(nil), MetricsHandler: http.NotFoundHandler()}).router
}

// jsonRoutes lists the JSON routes of a Server's router as "METHOD /path".
func jsonRoutes(r chi.Routes) ([]string, error) {
	var out []string
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = normalizePattern(route)
		if !htmlRoute(route) {
			out = append(out, method+" "+route)
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// specOperations lists the document's operations as "METHOD /path".
func specOperations() ([]string, error) {
	doc, err := libopenapi.NewDocument(openAPIDocument)
	if err != nil {
		return nil, err
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, err
	}
	var out []string
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out, nil
}

// coverage reports what the suite left unchecked: JSON routes not in the
// document or never validated, and operations no route serves.
func (c *specCheck) coverage() []string {
	routes, err := jsonRoutes(routesOnly())
	if err != nil {
		return []string{"walk routes: " + err.Error()}
	}
	ops, err := specOperations()
	if err != nil {
		return []string{"read openapi.json: " + err.Error()}
	}
	var out []string
	for _, r := range routes {
		switch {
		case !slices.Contains(ops, r):
			out = append(out, "route not in openapi.json: "+r)
		case c.exercised[r] == 0:
			out = append(out, "route never exercised by a validated request: "+r)
		}
	}
	for _, o := range ops {
		if !slices.Contains(routes, o) {
			out = append(out, "openapi.json operation with no route: "+o)
		}
	}
	return out
}

func TestMain(m *testing.M) {
	flag.Parse()
	bench := flag.Lookup("test.bench").Value.String() != ""
	if !bench {
		wrapRouter = func(r chi.Router) chi.Router { return validatingRouter{r} }
	}
	code := m.Run()
	if bench {
		os.Exit(code)
	}
	oaCheck.mu.Lock()
	failures := oaCheck.failures
	oaCheck.mu.Unlock()
	if len(failures) > 0 {
		fmt.Fprintf(os.Stderr, "--- FAIL: OpenAPI validation: %d of %d exchanges do not match api/openapi.json:\n", len(failures), oaCheck.checked)
		for i, f := range failures {
			if i == 50 {
				fmt.Fprintf(os.Stderr, "  ... and %d more\n", len(failures)-i)
				break
			}
			fmt.Fprintln(os.Stderr, "  "+f)
		}
		code = 1
	}
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		if gaps := oaCheck.coverage(); len(gaps) > 0 {
			fmt.Fprintln(os.Stderr, "--- FAIL: OpenAPI coverage:\n  "+strings.Join(gaps, "\n  "))
			code = 1
		} else {
			fmt.Printf("openapi: %d exchanges validated against api/openapi.json; every JSON route covered\n", oaCheck.checked)
		}
	}
	os.Exit(code)
}
