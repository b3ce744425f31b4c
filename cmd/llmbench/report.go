package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Targets the router is held to; the CPU, throughput, latency, TTFB and
// translated-latency ones are issue 14's.
const (
	targetCPUToNginx    = 2.0 // CPU per request at max load, as a multiple of nginx's in the same run
	targetAddedP50      = 300 * time.Microsecond
	targetThroughput    = 0.6
	targetAddedTTFB     = 300 * time.Microsecond
	targetRSSBytes      = 50e6
	targetRSSStreams    = 1000
	targetTranslation   = 100 * time.Microsecond // translated minus passthrough
	targetTranslatedP50 = 500 * time.Microsecond // translated minus direct
)

// row is one figure of the report. Baseline is what the router is compared with:
// the fake upstream called directly, the passthrough route for translation rows,
// or the idle router for memory. Added is Router minus Baseline. Nil is "not
// applicable".
type row struct {
	Scenario string   `json:"scenario"`
	Figure   string   `json:"figure"`
	Unit     string   `json:"unit"`
	Baseline *float64 `json:"baseline,omitempty"`
	Router   *float64 `json:"router,omitempty"`
	Added    *float64 `json:"added,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"`
	Target   string   `json:"target,omitempty"`
	Verdict  string   `json:"verdict,omitempty"` // PASS, MISS, or empty for information
	Note     string   `json:"note,omitempty"`
}

// val boxes a figure; NaN and infinities (no baseline) become "not applicable".
func val(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}

// machine describes where the figures were taken.
type machine struct {
	CPUs       int    `json:"nproc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model"`
	Go         string `json:"go"`
	Kernel     string `json:"kernel"`
	LoadAvg    string `json:"loadavg_at_start"`
	LoadAvgEnd string `json:"loadavg_at_end"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version()}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.LoadAvg = loadAvg()
	return m
}

// loadAvg is the 1, 5 and 15 minute load averages: how busy the neighbours were.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// report is the whole output of one run.
type report struct {
	Command  string   `json:"command"`
	Machine  machine  `json:"machine"`
	Settings settings `json:"settings"`
	Rows     []row    `json:"rows"`
	Failures []string `json:"failures,omitempty"` // requests that failed, per phase
	Started  string   `json:"started"`
	Took     string   `json:"took"`
}

// settings are the knobs the figures depend on.
type settings struct {
	Duration    string `json:"duration"`
	Rate        int    `json:"rate"`
	Concurrency int    `json:"concurrency"`
	Streams     int    `json:"streams"`
	Events      int    `json:"events"`
	Sequential  string `json:"sequential"`
	Quick       bool   `json:"quick"`
	LogLevel    string `json:"router_log_level"`
	Pinning     string `json:"cpu_pinning"`
	Nginx       string `json:"nginx"`
}

func (r *report) add(rows ...row) { r.Rows = append(r.Rows, rows...) }

// fail records failed requests of a phase; any makes the exit status 1.
func (r *report) fail(phase string, n int, first string) {
	if n > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%s: %d failed requests, first: %s", phase, n, first))
	}
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// writeMarkdown prints the machine, the settings and the table.
func (r *report) writeMarkdown(w io.Writer) {
	m, s := r.Machine, r.Settings
	fmt.Fprintf(w, "## llmbench\n\n")
	fmt.Fprintf(w, "- command: `%s`\n", r.Command)
	fmt.Fprintf(w, "- machine: %d CPUs (GOMAXPROCS %d), %s, kernel %s\n", m.CPUs, m.GOMAXPROCS, m.CPUModel, m.Kernel)
	fmt.Fprintf(w, "- load average (1/5/15 min): %s at start, %s at end\n", m.LoadAvg, m.LoadAvgEnd)
	fmt.Fprintf(w, "- go: %s\n", m.Go)
	fmt.Fprintf(w, "- settings: %s per load phase, %d req/s open loop, concurrency %d, %d streams of %d events, %s sequential requests per variant, router logging.level %s\n",
		s.Duration, s.Rate, s.Concurrency, s.Streams, s.Events, s.Sequential, s.LogLevel)
	fmt.Fprintf(w, "- CPU pinning: %s\n", s.Pinning)
	fmt.Fprintf(w, "- nginx: %s\n", s.Nginx)
	fmt.Fprintf(w, "- started %s, took %s\n\n", r.Started, r.Took)
	fmt.Fprintln(w, "| # | Figure | Baseline | Router | Added | Ratio | Target | Result | Notes |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---|---|---|")
	for _, x := range r.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x.Scenario, x.Figure,
			format(x.Baseline, x.Unit), format(x.Router, x.Unit), format(x.Added, x.Unit),
			formatRatio(x.Ratio), x.Target, x.Verdict, x.Note)
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w, "\nFailed requests:")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
}

func format(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	switch unit {
	case "ms":
		return fmt.Sprintf("%.3f ms", *v)
	case "req/s":
		return fmt.Sprintf("%.0f req/s", *v)
	default:
		return fmt.Sprintf("%.1f %s", *v, unit)
	}
}

func formatRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f×", *v)
}
