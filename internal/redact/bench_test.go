package redact

import (
	"strings"
	"testing"
)

// BenchmarkScrub measures the scrubbing a request's error body, header values and
// logged bodies go through: nothing to find (the common case), a key to mask, a key
// spelled with escapes, and a logged body cut to max_body_bytes.
func BenchmarkScrub(b *testing.B) {
	keys := []string{canaryA, canaryB, "sk-proj-0123456789abcdefghijklmnop", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"}
	para := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 22) // ~1 KB
	clean := `{"error":{"message":"` + para + `","type":"server_error"}}`
	dirty := `{"error":{"message":"Incorrect API key provided: ` + canaryA + `. ` + para + `"}}`
	escaped := `{"error":{"message":"Incorrect API key provided: ` + strings.ReplaceAll(canaryA, "-", `\u002d`) + `. ` + para + `"}}`
	big := []byte(`{"messages":[{"role":"user","content":"` + strings.Repeat(para, 256) + `"}]}`) // ~256 KB
	b.Run("header-value-clean", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Scrub("req_0123456789abcdef; max-age=60", keys...)
		}
	})
	b.Run("json-1KB-clean", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(clean)))
		for b.Loop() {
			_ = ScrubBytes([]byte(clean), keys...)
		}
	})
	b.Run("json-1KB-key", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(dirty)))
		for b.Loop() {
			_ = ScrubBytes([]byte(dirty), keys...)
		}
	})
	b.Run("json-1KB-escaped-key", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(escaped)))
		for b.Loop() {
			_ = ScrubBytes([]byte(escaped), keys...)
		}
	})
	many := []byte(strings.Repeat(`{"error":"bad key `+canaryA+`"},`, 30_000)) // ~1 MB
	b.Run("json-1MB-key-30000-times", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(many)))
		for b.Loop() {
			_ = ScrubBytes(many, keys...)
		}
	})
	// A logged body as the gateway logs it: cut (since the cut scrubs first, with
	// the keys), then scrubbed again by the log sink.
	b.Run("truncate-256KB-to-64KB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(big)))
		for b.Loop() {
			_ = Scrub(Truncate(big, 64<<10, keys...), keys...)
		}
	})
}
