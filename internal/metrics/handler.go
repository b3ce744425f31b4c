package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves GET /metrics in the Prometheus text format (or OpenMetrics, gzip,
// as the scraper negotiates). Mount it on the main listener outside the client API's
// authentication, or on its own listener (server.metrics_listen).
//
// A non-empty key makes the endpoint require "Authorization: Bearer <key>". It is
// compared in constant time over SHA-256 digests, so neither the key's bytes nor its
// length leak through timing; a wrong or missing key gets 401 and the key is never
// echoed. Only GET and HEAD are served.
func (m *Metrics) Handler(key string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4, // a scrape is not free; a flood of them must not add up
	})
	want := sha256.Sum256([]byte("Bearer " + key))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if key != "" {
			got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
