package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Parsers for single scalar values. Each error says what was wanted; none quotes a
// value that may hold a secret.

func str(s string) (string, error) { return s, nil }

func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", errors.New("must not be empty")
	}
	return s, nil
}

// oneOf accepts one of the words in want, case-insensitively, as the canonical word.
func oneOf[T ~string](what string, want ...T) parser[T] {
	return func(s string) (T, error) {
		for _, w := range want {
			if strings.EqualFold(s, string(w)) {
				return w, nil
			}
		}
		words := make([]string, len(want))
		for i, w := range want {
			words[i] = string(w)
		}
		return "", fmt.Errorf("unknown %s %q (want %s)", what, s, alternatives(words))
	}
}

// alternatives renders a, b or c.
func alternatives(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func boolean(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("want true or false, got %q", s)
	}
	return b, nil
}

func intAtLeast(lowest int) parser[int] {
	return func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < lowest {
			return 0, fmt.Errorf("want a whole number >= %d, got %q", lowest, s)
		}
		return n, nil
	}
}

// intIn accepts a whole number in [lo, hi]; what says what the number counts.
func intIn(lo, hi int, what string) parser[int] {
	return func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("want a whole number from %d to %d (%s), got %q", lo, hi, what, s)
		}
		return n, nil
	}
}

// floatIn accepts a number in [lo, hi].
func floatIn(lo, hi float64) parser[float64] {
	return func(s string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || f < lo || f > hi {
			if math.IsInf(hi, 1) {
				return 0, fmt.Errorf("want a number >= %g, got %q", lo, s)
			}
			return 0, fmt.Errorf("want a number from %g to %g, got %q", lo, hi, s)
		}
		return f, nil
	}
}

// duration accepts a Go duration ("250ms", "2m"); positive rejects zero as well.
func duration(positive bool) parser[time.Duration] {
	return durationAtMost(positive, math.MaxInt64)
}

// durationAtMost is duration with an upper bound: a timeout or backoff of days is
// a typo (a missing unit, 10h for 10s), not a setting.
func durationAtMost(positive bool, most time.Duration) parser[time.Duration] {
	return func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		switch {
		case err != nil:
			return 0, fmt.Errorf("want a duration like 250ms or 2m, got %q", s)
		case positive && d <= 0:
			return 0, fmt.Errorf("want a positive duration, got %q", s)
		case d < 0:
			return 0, fmt.Errorf("want a duration >= 0, got %q", s)
		case d > most:
			return 0, fmt.Errorf("want a duration of at most %v, got %q", most, s)
		}
		return d, nil
	}
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

// size accepts a byte count ("1024") or one with a unit ("64KiB", "32MiB", "1MB");
// positive rejects zero as well.
func size(positive bool) parser[int64] {
	return sizeAtMost(positive, math.MaxInt64)
}

// sizeAtMost is size with an upper bound, shown in the unit most is written in.
func sizeAtMost(positive bool, most int64) parser[int64] {
	return func(s string) (int64, error) {
		t := strings.TrimSpace(s)
		digits := len(t) - len(strings.TrimLeft(t, "0123456789"))
		n, err := strconv.ParseInt(t[:digits], 10, 64)
		unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(t[digits:]))]
		switch {
		case err != nil || !ok || n > math.MaxInt64/unit:
			return 0, fmt.Errorf("want a size like 1024, 64KiB or 32MiB, got %q", s)
		case positive && n == 0:
			return 0, fmt.Errorf("want a positive size, got %q", s)
		case n*unit > most:
			return 0, fmt.Errorf("want a size of at most %s, got %q", sizeText(most), s)
		}
		return n * unit, nil
	}
}

// sizeText writes n in the largest binary unit that divides it.
func sizeText(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// hostPort accepts a listen address: host:port, host possibly empty, port numeric.
func hostPort(s string) (string, error) {
	_, port, err := net.SplitHostPort(s)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		return "", fmt.Errorf("want host:port like 127.0.0.1:4000, got %q", s)
	}
	return s, nil
}

// endpoint accepts an absolute http(s) URL and trims its trailing slashes.
func endpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the whole URL
		}
		return "", fmt.Errorf("not a URL: %v", err)
	}
	switch {
	case u.User != nil:
		return "", errors.New("must not hold credentials (user:password@); use api_key")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("want an http:// or https:// URL, got %q", shownURL(u))
	case u.Host == "":
		return "", fmt.Errorf("URL has no host: %q", shownURL(u))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("must not have a query or fragment (a key in ?key= belongs in api_key): %q", shownURL(u))
	}
	return strings.TrimRight(s, "/"), nil
}

// shownURL is u as an error may quote it: without its query and fragment, which
// may hold a key (?key=AIza…), shown as "?…".
func shownURL(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment, c.ForceQuery = "", "", "", false
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return c.String() + "?…"
	}
	return c.String()
}

// secret accepts a credential; it must be sendable in a header as it is.
func secret(s string) (Secret, error) {
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "", errors.New("key contains spaces or control characters (a stray newline?)")
	}
	return Secret(s), nil
}

// routerKey is one of server.api_keys: a secret that must not be empty.
func routerKey(s string) (Secret, error) {
	if s == "" {
		return "", errors.New("empty key (an empty list allows every request)")
	}
	return secret(s)
}

func statusCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("want an HTTP status code from 100 to 599, got %q", s)
	}
	return n, nil
}

func level(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
}

// maxCABytes bounds a CA bundle read, so a path like /dev/zero cannot hang a check.
const maxCABytes = 16 << 20

// caFile accepts "" or a regular file holding at least one PEM certificate.
func caFile(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	f, err := os.Open(s)
	if err != nil {
		return "", fmt.Errorf("reading CA file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("CA file %q is not a regular file", s)
	}
	pem, err := io.ReadAll(io.LimitReader(f, maxCABytes))
	if err != nil {
		return "", fmt.Errorf("reading CA file: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return "", fmt.Errorf("CA file %q holds no PEM certificate", s)
	}
	return s, nil
}

// optional accepts "" as well as what p accepts.
func optional(p parser[string]) parser[string] {
	return func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		return p(s)
	}
}

// durationIn accepts a duration from lo to hi.
func durationIn(lo, hi time.Duration) parser[time.Duration] {
	return func(s string) (time.Duration, error) {
		d, err := durationAtMost(true, hi)(s)
		if err == nil && d < lo {
			return 0, fmt.Errorf("want a duration of at least %v, got %q", lo, s)
		}
		return d, err
	}
}

// count accepts a whole number from 0 to maxCount: a rate or a budget, 0 for none.
func count(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > maxCount {
		return 0, fmt.Errorf("want a whole number from 0 (unlimited) to %d, got %q", int64(maxCount), s)
	}
	return n, nil
}

// maxName bounds a deployment id and a key name: each becomes part of a limit
// store key, a metrics label and a header value.
const maxName = 128

// label checks a name shown in headers, logs and metrics labels: what names a
// deployment or a router key, never a secret.
func label(what, s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("%s must not be empty", what)
	case len(s) > maxName:
		return "", fmt.Errorf("%s is longer than %d bytes", what, maxName)
	case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ',' }) >= 0:
		return "", fmt.Errorf("%s %q holds a space, a comma or a character outside printable ASCII (it is sent in headers)", what, s)
	case looksLikeKey(s):
		return "", fmt.Errorf("%s looks like a key; it is shown in logs, headers and metrics", what)
	}
	return s, nil
}

func deploymentID(s string) (string, error) { return label("id", s) }

func keyName(s string) (string, error) { return label("name", s) }

// checkPath accepts "" (no active check) or an absolute URL path.
func checkPath(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || u.Host != "":
		return "", fmt.Errorf("want a path starting with /, like /health, got %q", s)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", errors.New("must not have a query or fragment (a key in ?key= is not sent to health checks)")
	case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return "", errors.New("holds a space or a control character")
	}
	return s, nil
}

// traceEndpoint accepts an OTLP/HTTP collector URL: a base (http://collector:4318)
// or the full traces URL.
func traceEndpoint(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", errors.New("not a URL")
	case u.User != nil:
		return "", errors.New("must not hold credentials (user:password@); set OTEL_EXPORTER_OTLP_HEADERS")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("want an http:// or https:// URL such as http://collector:4318, got %q", shownURL(u))
	case u.Host == "":
		return "", fmt.Errorf("URL has no host: %q", shownURL(u))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("must not have a query or fragment: %q", shownURL(u))
	}
	return s, nil
}
