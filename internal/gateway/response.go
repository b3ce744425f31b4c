package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// What of an upstream's response reaches the client: which headers, and when a
// body is an answer, an error to relay, or one to re-envelope.

// neverRelayed are upstream response headers the client never gets, whatever the
// route. X-Request-Id is the router's. The others would make the client apply the
// upstream's origin policy to the router's origin: cookies (Set-Cookie), HSTS and
// key pins (the router may serve plain HTTP on loopback), alternative services,
// CORS (a browser page could read answers paid with the router's key), a redirect
// or refresh target, Clear-Site-Data. Content-Length is the router's to set.
var neverRelayed = []string{
	"X-Request-Id", "Set-Cookie", "Set-Cookie2", "Strict-Transport-Security",
	"Public-Key-Pins", "Public-Key-Pins-Report-Only", "Alt-Svc", "Location", "Refresh",
	"Content-Location", "Clear-Site-Data", "Content-Length",
}

// Router-owned and CORS header families, by canonical prefix.
const (
	routerPrefix = "X-Llmrouter-"
	corsPrefix   = "Access-Control-"
)

// copyResponseHeaders relays the upstream's end-to-end response headers, with any
// of secrets an upstream echoes masked. The router's own headers, already set on
// dst, always win: an upstream header of the same name, or one its Connection
// header names, never replaces or removes them. A translated response keeps only
// rate-limit and retry hints: the rest describe a body the client does not get.
func copyResponseHeaders(dst http.Header, resp *http.Response, translated bool, secrets []string) {
	conn := resp.Header["Connection"]
	for name, v := range resp.Header {
		name = http.CanonicalHeaderKey(name)
		if !relayed(name, conn) || (translated && !keptWhenTranslated(name)) {
			continue
		}
		if redact.Scrub(name, secrets...) != name {
			continue // a name cannot be masked and stay meaningful
		}
		dst[name] = scrubValues(v, secrets)
	}
	if resp.Uncompressed {
		dst.Del("Content-Encoding")
	}
}

// relayed reports whether an upstream response header may reach the client: not
// hop-by-hop (RFC 9110 §7.6.1: the fixed list and what the upstream's Connection
// header names), not router-owned, not in neverRelayed. name is canonical.
func relayed(name string, connection []string) bool {
	if strings.HasPrefix(name, routerPrefix) || strings.HasPrefix(name, corsPrefix) ||
		slices.Contains(hopByHop, name) || slices.Contains(neverRelayed, name) {
		return false
	}
	for _, v := range connection {
		for token := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), name) {
				return false
			}
		}
	}
	return true
}

// scrubValues returns vs, or a copy with every secret masked when one appears.
func scrubValues(vs []string, secrets []string) []string {
	for i, v := range vs {
		if s := redact.Scrub(v, secrets...); s != v {
			out := slices.Clone(vs)
			out[i] = s
			for j := i + 1; j < len(out); j++ {
				out[j] = redact.Scrub(out[j], secrets...)
			}
			return out
		}
	}
	return vs
}

func keptWhenTranslated(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "x-ratelimit-") || strings.HasPrefix(n, "anthropic-ratelimit-") ||
		n == "retry-after" || n == "retry-after-ms"
}

// copyErrorHeaders relays, with a failure sent to the client, the upstream's retry
// hints and rate-limit headers: the hints only when they are well-formed (a
// Retry-After holds seconds or a date, X-Should-Retry a boolean), everything
// scrubbed of secrets, as on every other path.
func copyErrorHeaders(dst http.Header, resp http.Header, secrets []string) {
	for name, vs := range resp {
		name = http.CanonicalHeaderKey(name)
		if len(vs) == 0 || (!keptWhenTranslated(name) && name != "X-Should-Retry") {
			continue
		}
		if !wellFormedHint(name, vs[0]) || redact.Scrub(name, secrets...) != name {
			continue
		}
		dst[name] = scrubValues(vs, secrets)
	}
}

// wellFormedHint checks the value grammar of the retry hints (RFC 9110 §10.2.3 for
// Retry-After; the OpenAI SDKs' retry-after-ms and x-should-retry). Other headers
// have no grammar to check and are only scrubbed.
func wellFormedHint(name, v string) bool {
	switch name {
	case "Retry-After":
		if _, err := strconv.ParseUint(v, 10, 63); err == nil {
			return true
		}
		_, err := http.ParseTime(v)
		return err == nil
	case "Retry-After-Ms":
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= 0
	case "X-Should-Retry":
		return v == "true" || v == "false"
	}
	return true
}

// clientEnvelope reports whether an upstream error body is already an error in
// the client's protocol envelope, whole and valid, so it can be relayed as it is
// (keeping the provider's type, code and param).
func clientEnvelope(client wire.Protocol, body []byte) bool {
	if !gjson.ValidBytes(body) {
		return false
	}
	r := gjson.GetManyBytes(body, "type", "error", "error.message")
	if !r[1].IsObject() || r[2].Type != gjson.String {
		return false
	}
	return client != wire.AnthropicMessages || r[0].Str == "error"
}

// maxMessage bounds the error message the router writes from a body that is not an
// error envelope (plain text, an unknown JSON shape).
const maxMessage = 1 << 10

// upstreamMessage extracts the human message of an upstream error body: the
// protocol's error message, a plain-text body, a generic JSON message field, or
// a description of what came (an HTML page, a cut body). The result is scrubbed
// of secrets before it is cut, so a cut cannot split a key.
func upstreamMessage(up wire.Protocol, status int, header http.Header, body []byte, cut string, secrets []string) string {
	msg := protocolMessage(up, body)
	switch {
	case cut != "":
		// A cut body is not quoted: its end is gone, and its start says little.
		return fmt.Sprintf("upstream answered %d %s with an error body that %s", status, http.StatusText(status), cut)
	case msg != "":
	case isHTML(header, body):
		msg = fmt.Sprintf("upstream answered %d %s with an HTML page", status, http.StatusText(status))
		if title := htmlTitle(body); title != "" {
			msg += ": " + title
		}
	case gjson.ValidBytes(body):
		r := gjson.GetManyBytes(body, "error", "message", "detail")
		for _, v := range r {
			if v.Type == gjson.String && v.Str != "" {
				msg = v.Str
				break
			}
		}
	default:
		msg = strings.TrimSpace(string(body))
	}
	if msg == "" {
		msg = fmt.Sprintf("upstream answered %d %s", status, http.StatusText(status))
	}
	msg = redact.Scrub(msg, secrets...)
	if len(msg) > maxMessage {
		msg = msg[:utf8Start(msg, maxMessage)] + "…"
	}
	return msg
}

// protocolMessage is the message of an error in the upstream protocol's envelope.
func protocolMessage(up wire.Protocol, body []byte) string {
	var msg string
	switch up {
	case wire.AnthropicMessages:
		_, msg, _ = anthropic.ParseError(body)
	case wire.OllamaChat, wire.OllamaGenerate:
		msg, _ = ollama.ParseError(body)
	default:
		_, msg, _ = openai.ParseError(body)
	}
	return msg
}

func isHTML(header http.Header, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(header.Get("Content-Type")), "text/html") {
		return true
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

// htmlTitle returns the text of an HTML page's <title> (nginx and CDN error pages
// say what failed there), or "".
func htmlTitle(body []byte) string {
	head := body[:min(len(body), 4<<10)]
	i := bytes.Index(bytes.ToLower(head), []byte("<title>"))
	if i < 0 {
		return ""
	}
	rest := head[i+len("<title>"):]
	j := bytes.IndexByte(rest, '<')
	if j < 0 {
		return ""
	}
	return strings.Join(strings.Fields(string(rest[:j])), " ")
}

// utf8Start returns the largest index <= n that starts a UTF-8 sequence in s.
func utf8Start(s string, n int) int {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return n
}

// errNotAnswer is a 2xx body that is not an answer of the kind asked for.
type errNotAnswer struct{ what string }

func (e *errNotAnswer) Error() string { return "upstream answer is not a response: " + e.what }

// checkAnswerStart judges a same-protocol non-streaming 2xx body from its first
// bytes (what one read returned; whole tells whether that is all of it), without
// holding or parsing the whole body: it must be a JSON object; one that is the
// provider's error ({"error":…}, Anthropic's "type":"error") is returned as a
// *translate.StreamError, to be handled as an in-band error before the commit
// point; an object whose kind marker (OpenAI "object", Anthropic "type") is in
// these bytes must be the kind asked for; a body that arrived whole must carry the
// answer's main member. A nil error lets the body through.
func checkAnswerStart(up wire.Protocol, countTokens bool, first []byte, whole bool) error {
	b := bytes.TrimLeft(first, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return &errNotAnswer{what: "not a JSON object"}
	}
	// The member is asked for by its length (".#"), so that gjson copies a number,
	// not the whole answer. One scan for the marker, one for the member (the
	// provider's error is looked for only when the marker leaves room for one).
	marker, want, member := "object", "", "choices.#"
	switch {
	case up == wire.AnthropicMessages && countTokens:
		marker, member = "type", "input_tokens"
	case up == wire.AnthropicMessages:
		marker, want, member = "type", "message", "content.#"
	case up == wire.OpenAIChat:
		want = "chat.completion"
	case up == wire.OpenAICompletions:
		want = "text_completion"
	default:
		return inBandError(up, sse.Event{Data: b}) // a kind this check does not know
	}
	kind := gjson.GetBytes(b, marker)
	if up != wire.AnthropicMessages || kind.Str == "error" {
		if err := inBandError(up, sse.Event{Data: b}); err != nil {
			return err
		}
	}
	if want != "" && kind.Exists() && kind.String() != want {
		return &errNotAnswer{what: fmt.Sprintf("%s %q, want %q", marker, truncated(kind.String()), want)}
	}
	if whole && (!gjson.GetBytes(b, member).Exists() || !gjson.ValidBytes(b)) {
		return &errNotAnswer{what: "no " + strings.TrimSuffix(member, ".#") + " member"}
	}
	return nil
}

// truncated cuts a value quoted from an upstream body for a message.
func truncated(s string) string {
	if len(s) > 64 {
		return s[:utf8Start(s, 64)] + "…"
	}
	return s
}
