package gateway_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Keys for the redaction tests. Each is checked for by every 8-character window of
// what follows its "sk-leak-" prefix, also after the escapes an upstream may use
// are decoded, so that a cut key (its first 12 to 20 characters) or one spelled
// with escaped dashes is caught as surely as a whole one. A mask shows 4.
const (
	leakClient = "sk-leak-CLIENT-7d3f9a2c4e6b8d0f1a3c" // the client's passthrough key
	leakQuery  = "qk-leak-QUERY-5b7d9f1a3c5e7b9d2f4a"  // the client's ?key= value
	leakConfig = "sk-leak-CONFIG-2e4a6c8e0b2d4f6a8c0e" // a configured model key
)

var leakKeys = []string{leakClient, leakQuery, leakConfig}

// leaked returns the windows of keys found in s.
func leaked(s string, keys ...string) []string {
	var found []string
	for _, text := range []string{s, decodeDashes(s)} {
		for _, k := range keys {
			secret := k[len("sk-leak-"):]
			for i := 0; i+8 <= len(secret); i++ {
				if w := secret[i : i+8]; strings.Contains(text, w) {
					found = append(found, w)
					break
				}
			}
		}
	}
	return found
}

// decodeDashes reads the escapes of '-' the tests use, and HTML references.
func decodeDashes(s string) string {
	s = strings.NewReplacer(`\u002d`, "-", `\u002D`, "-", "%2D", "-", "%2d", "-").Replace(s)
	return html.UnescapeString(s)
}

// spellings of a key that an upstream may echo: as received, and with its dashes
// written the ways JSON, HTML and URL encoders write them.
var spellings = map[string]func(string) string{
	"literal": func(k string) string { return k },
	"json":    func(k string) string { return strings.ReplaceAll(k, "-", `\u002d`) },
	"html":    func(k string) string { return strings.ReplaceAll(k, "-", "&#45;") },
	"htmlhex": func(k string) string { return strings.ReplaceAll(k, "-", "&#x2D;") },
	"percent": func(k string) string { return strings.ReplaceAll(k, "-", "%2D") },
}

// receivedKey is the credential a request carried, without its scheme.
func receivedKey(r *http.Request) string {
	if k, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return k
	}
	return r.Header.Get("X-Api-Key")
}

// echoStream streams, in the upstream's protocol, text that repeats the request's
// credential and ?key= value in every spelling, each split across two deltas. The
// deltas are written into the events' JSON as they are, so the "json" spelling is
// an escape of the event's JSON, and "json-text" a text holding `\u002d`.
func echoStream(w http.ResponseWriter, r *http.Request) {
	var parts []string
	for _, k := range []string{receivedKey(r), r.URL.Query().Get("key")} {
		if k == "" { // a translated request carries no query string
			continue
		}
		for name, spell := range spellings {
			s := spell(k)
			parts = append(parts, " your "+name+" key is "+s[:11], s[11:]+".")
		}
		s := strings.ReplaceAll(k, "-", `\\u002d`)
		parts = append(parts, " as text "+s[:13], s[13:]+".")
	}
	anthropicUp := strings.HasPrefix(r.URL.Path, "/v1/messages")
	events := []string{oaRole}
	if anthropicUp {
		events = []string{antStart, antBlockStart}
	}
	for _, p := range parts {
		if anthropicUp {
			events = append(events, `event: content_block_delta`+"\n"+`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`+p+`"}}`+"\n\n")
		} else {
			events = append(events, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"`+p+`"},"finish_reason":null}]}`+"\n\n")
		}
	}
	if anthropicUp {
		events = append(events, antBlockStop, antMsgDelta, antStop)
	} else {
		events = append(events, oaStop, oaDone)
	}
	sseChunks(events...)(w, r)
}

const passthroughLogConfig = `
logging:
  request_headers: true
  request_body: true
  response_body: true
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-*
    provider: openai
    endpoint: {{UP}}/v1
  - name: claude-*
    provider: anthropic
    endpoint: {{UP}}
`

// A stream's transcript is logged (response_body) as JSON; the client's own
// passthrough key and ?key= value echoed in the stream, whole, split across
// events, or with escaped dashes, are masked there as everywhere else.
func TestStreamTranscriptScrubbedOfRequestCredentials(t *testing.T) {
	up := newUpstream(t, echoStream)
	rt := newRouter(t, passthroughLogConfig, up.URL)
	o := observe(t, rt)
	for _, c := range []struct {
		path, model, auth string
		echoes            int // keys the upstream echoes: a translated request carries no ?key=
	}{
		{"/v1/chat/completions", "gpt-4o", "Authorization", 2},
		{"/v1/chat/completions", "claude-x", "Authorization", 1},
		{"/v1/messages", "claude-x", "X-Api-Key", 2},
		{"/v1/messages", "gpt-4o", "X-Api-Key", 1},
	} {
		t.Run(c.path+"/"+c.model, func(t *testing.T) {
			body := fmt.Sprintf(`{"model":%q,"max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, c.model)
			hdr := map[string]string{"Anthropic-Version": "2023-06-01", c.auth: leakClient}
			if c.auth == "Authorization" {
				hdr[c.auth] = "Bearer " + leakClient
			}
			client, line := logged(t, o, rt, c.path+"?key="+leakQuery, body, hdr)
			echoed := []string{leakClient, leakQuery}[:c.echoes]
			for _, k := range echoed {
				if !strings.Contains(decodeDashes(string(client)), k[10:]) {
					t.Fatalf("the upstream did not echo the keys; the test proves nothing:\n%s", client)
				}
			}
			transcript := line.Get("response_body")
			if !transcript.IsObject() || strings.Count(transcript.Get("text").String(), "****") < c.echoes*(len(spellings)+1) {
				t.Errorf("response_body is not a transcript with a mask for every echo: %s", transcript.Raw)
			}
			if l := leaked(line.Raw, leakClient, leakQuery); l != nil {
				t.Errorf("log line holds %q:\n%s", l, line.Raw)
			}
		})
	}
}

// cutConfig logs bodies cut at 200 bytes, on a router with a model key.
const cutConfig = `
logging:
  request_body: true
  response_body: true
  max_body_bytes: 200
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-*
    provider: openai
    endpoint: {{UP}}/v1
    api_key: ` + leakConfig + `
  - name: claude-*
    provider: anthropic
    endpoint: {{UP}}
    api_key: ` + leakConfig + `
`

// A logged body cut to max_body_bytes never shows part of a key, wherever the cut
// falls in it: request bodies, relayed and translated answers, stream transcripts,
// for the configured key in every spelling, and for a key the router does not
// know (shown whole when it fits, else not at all).
func TestLoggedBodyCutsNeverSplitKeys(t *testing.T) {
	up := newUpstream(t, cutEcho)
	rt := newRouter(t, cutConfig, up.URL)
	o := observe(t, rt)
	const unknown = "sk-leak-UNKNOWN-0f1e2d3c4b5a69788796"
	kinds := []struct{ name, model string }{{"relayed", "gpt-4o"}, {"translated", "claude-x"}, {"stream", "gpt-4o"}}
	for _, k := range kinds {
		stream := k.name == "stream"
		request := func(qpad, pad int, spelling string) string {
			return fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":"%s%s %d/%s"}]}`,
				k.model, stream, strings.Repeat("q", qpad), unknown, pad, spelling)
		}
		// Where the echoed text starts in the logged answer (0 in a transcript's
		// text) and the message in the logged request: the cuts are placed from it.
		reqPrefix := strings.Index(request(0, 0, "literal"), unknown)
		respPrefix := 0
		if !stream {
			_, line := logged(t, o, rt, "/v1/chat/completions", request(0, 0, "marker"), nil)
			respPrefix = strings.Index(line.Get("response_body").String(), "MARKER")
			if respPrefix < 0 {
				t.Fatalf("%s: no marker in %s", k.name, line.Raw)
			}
		}
		for name, spell := range spellings {
			key := spell(leakConfig)
			for off := 0; off <= len(key); off++ {
				where := fmt.Sprintf("%s/%s: cut %d bytes into the key", k.name, name, off)
				qpad := 200 - reqPrefix - off%len(unknown)
				_, line := logged(t, o, rt, "/v1/chat/completions", request(qpad, 200-respPrefix-off, name), nil)
				reqLog, respLog := line.Get("request_body").String(), line.Get("response_body").Raw
				if !strings.Contains(reqLog, "…(truncated ") || !stream && !strings.Contains(respLog, "…(truncated ") {
					t.Fatalf("%s: nothing was cut; the test proves nothing: %s", where, line.Raw)
				}
				if l := leaked(reqLog+respLog, leakConfig); l != nil {
					t.Errorf("%s: log holds %q:\n%s", where, l, line.Raw)
				}
				if l := leaked(reqLog, unknown); l != nil && !strings.Contains(reqLog, unknown) {
					t.Errorf("%s: request_body holds part of an unknown key, %q:\n%s", where, l, reqLog)
				}
			}
		}
	}
}

// cutEcho answers with pad bytes of text, then the configured key in the spelling
// the request's last word names ("150/html"), then a tail; "marker" answers MARKER.
func cutEcho(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	word := string(b)
	word = word[strings.LastIndex(word, " ")+1:]
	word = word[:strings.IndexByte(word, '"')]
	pad, spelling, _ := strings.Cut(word, "/")
	n := 0
	_, _ = fmt.Sscan(pad, &n)
	text := "MARKER"
	if spell, ok := spellings[spelling]; ok {
		text = strings.Repeat("p", max(n, 0)) + spell(leakConfig) + " tail"
	}
	switch {
	case strings.Contains(string(b), `"stream":true`):
		sseChunks(oaRole, fmt.Sprintf(`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]}`+"\n\n", text), oaStop, oaDone)(w, r)
	case strings.HasPrefix(r.URL.Path, "/v1/messages"):
		jsonReply(200, fmt.Sprintf(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":%q}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`, text))(w, r)
	default:
		jsonReply(200, fmt.Sprintf(`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}]}`, text))(w, r)
	}
}

// keyedConfig routes with the configured model key; errors are logged whole.
const keyedConfig = `
logging:
  response_body: true
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-*
    provider: openai
    endpoint: {{UP}}/v1
    api_key: ` + leakConfig + `
  - name: claude-*
    provider: anthropic
    endpoint: {{UP}}
    api_key: ` + leakConfig + `
`

// directive reads "N/spelling" from the end of a request's last message.
func directive(r *http.Request) (int, string) {
	b, _ := io.ReadAll(r.Body)
	word := string(b)
	word = word[strings.LastIndex(word, " ")+1:]
	word = word[:strings.IndexByte(word, '"')]
	num, spelling, _ := strings.Cut(word, "/")
	n := 0
	_, _ = fmt.Sscan(num, &n)
	return n, spelling
}

// An upstream error body is read cut at 1 MiB: the client is told only that it was
// cut, and the log keeps the cut body. When the cut falls inside an echoed key, in
// any spelling, neither the client nor the log sees part of it.
func TestErrorBodyCutNeverSplitsKey(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		off, spelling := directive(r)
		head := `{"error":{"message":"Incorrect API key provided: `
		pad := strings.Repeat("x", 1<<20-len(head)-off-1) + " "
		tail := ". " + strings.Repeat("y", 64<<10) + `","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`
		jsonReply(401, head+pad+spellings[spelling](receivedKey(r))+tail)(w, r)
	})
	// The log keeps up to 2 MiB of a body, so the whole cut body is in it.
	rt := newRouter(t, strings.Replace(keyedConfig, "response_body: true", "response_body: true\n  max_body_bytes: 2MiB", 1), up.URL)
	o := observe(t, rt)
	for _, model := range []string{"gpt-4o", "claude-x"} {
		for _, spelling := range []string{"literal", "html", "percent"} {
			for _, off := range []int{1, 4, 9, 12, 16, 20, 30} {
				where := fmt.Sprintf("%s/%s: cut %d bytes into the key", model, spelling, off)
				req := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hi %d/%s"}]}`, model, off, spelling)
				client, line := logged(t, o, rt, "/v1/chat/completions", req, nil)
				if len(line.Raw) < 1<<19 {
					t.Fatalf("%s: the log line has %d bytes, not the cut error body", where, len(line.Raw))
				}
				if l := leaked(string(client), leakConfig); l != nil {
					t.Errorf("%s: the client's body holds %q", where, l)
				}
				if l := leaked(line.Raw, leakConfig); l != nil {
					t.Errorf("%s: the log holds %q", where, l)
				}
			}
		}
	}
}

// An upstream that echoes the key with its dashes escaped (HTML references,
// percent-encoding, JSON \u escapes, JSON quoted in JSON) in an error body, an
// error page, a response header or an in-band stream error reaches neither the
// client nor the log with the key readable: for the configured key and for the
// client's passthrough key.
func TestEscapedKeysScrubbed(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, spelling := directive(r)
		key := receivedKey(r)
		if spelling == "json-text" {
			key = strings.ReplaceAll(key, "-", `\\u002d`) // a text holding \u002d
		} else {
			key = spellings[spelling](key)
		}
		w.Header().Set("X-Debug-Key", "received "+key)
		switch {
		case strings.Contains(r.URL.Path, "/chat/") && strings.Contains(r.Header.Get("X-Test"), "stream"):
			sseChunks(oaRole, oaHello, `data: {"error":{"message":"bad key `+key+`","type":"server_error","param":null,"code":null}}`+"\n\n")(w, r)
		case strings.Contains(r.Header.Get("X-Test"), "html"):
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			// The client is told the page's title, so the echo goes there too.
			_, _ = io.WriteString(w, "<html><head><title>502: rejected key "+key+"</title></head><body><h1>502</h1><p>upstream rejected key "+key+"</p></body></html>")
		case strings.HasPrefix(r.URL.Path, "/v1/messages"):
			jsonReply(401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key `+key+`"}}`)(w, r)
		default:
			jsonReply(401, `{"error":{"message":"Incorrect API key provided: `+key+`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)(w, r)
		}
	})
	// Every answer here is an error: no deployment may be ejected meanwhile.
	keyed := newRouter(t, noEject+keyedConfig, up.URL)
	passthrough := newRouter(t, noEject+passthroughLogConfig, up.URL)
	names := []string{"json-text"}
	for name := range spellings {
		names = append(names, name)
	}
	for _, rc := range []struct {
		name string
		rt   *router
		key  string
	}{{"configured key", keyed, leakConfig}, {"passthrough key", passthrough, leakClient}} {
		o := observe(t, rc.rt)
		for _, model := range []string{"gpt-4o", "claude-x"} {
			for _, kind := range []string{"json", "html", "stream"} {
				for _, spelling := range names {
					where := fmt.Sprintf("%s %s %s %s", rc.name, model, kind, spelling)
					req := fmt.Sprintf(`{"model":%q,"stream":%v,"max_tokens":16,"messages":[{"role":"user","content":"hi 0/%s"}]}`, model, kind == "stream", spelling)
					hdr := map[string]string{"Authorization": "Bearer " + leakClient, "X-Test": kind}
					resp, client, line := loggedResp(t, o, rc.rt, req, hdr)
					if !strings.Contains(decodeDashes(string(client)), "****") && !strings.Contains(string(client), "****") {
						t.Errorf("%s: no mask in the client's answer, so no echo was tested: %s", where, client)
					}
					if l := leaked(string(client), rc.key); l != nil {
						t.Errorf("%s: the client's body holds %q: %s", where, l, client)
					}
					for name, vs := range resp.Header {
						if l := leaked(strings.Join(vs, " "), rc.key); l != nil {
							t.Errorf("%s: header %s holds %q", where, name, l)
						}
					}
					if l := leaked(line.Raw, rc.key); l != nil {
						t.Errorf("%s: the log holds %q: %s", where, l, line.Raw)
					}
				}
			}
		}
	}
}

// loggedResp is logged for /v1/chat/completions, with the client's response.
func loggedResp(t *testing.T, o *observed, rt *router, body string, header map[string]string) (*http.Response, []byte, gjson.Result) {
	t.Helper()
	before := len(accessLines(t, rt.log.String()))
	resp, got := post(t, o.URL+"/v1/chat/completions", body, header)
	o.waitServed(t)
	lines := accessLines(t, rt.log.String())
	if len(lines) != before+1 {
		t.Fatalf("%d new access-log lines, want 1", len(lines)-before)
	}
	return resp, got, lines[len(lines)-1]
}
