package api

import (
	"log"
	"net/http"
	"time"
)

// MaxHeaderBytes bounds a request's header lines: 16 KiB. net/http answers
// a request over it (plus its fixed 4 KiB of slack) with a plain-text 431
// Request Header Fields Too Large before any handler runs.
const MaxHeaderBytes = 16 << 10

// NewHTTPServer returns the http.Server that serves h in production (goodplan
// serve) and in tests that need the real server's limits: MaxHeaderBytes and
// timeouts that stop a slow client from holding a connection. errorLog may
// be nil (the log package's standard logger).
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errorLog,
	}
}
