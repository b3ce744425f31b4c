package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// dialect is the API a benchmark client speaks.
type dialect int

const (
	openAI dialect = iota
	anthropicAPI
)

// path is the endpoint of the dialect, on the router and on the fake upstream.
func (d dialect) path() string {
	if d == anthropicAPI {
		return "/v1/messages"
	}
	return "/v1/chat/completions"
}

// header is what the dialect's SDK sends. The key is the client's own; the router
// replaces it with the model's configured key.
func (d dialect) header() http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if d == anthropicAPI {
		h.Set("Anthropic-Version", "2023-06-01")
		h.Set("X-Api-Key", "client-key-0123456789")
	} else {
		h.Set("Authorization", "Bearer client-key-0123456789")
	}
	return h
}

type oaiMsg struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type oaiReq struct {
	Model     string   `json:"model"`
	MaxTokens int      `json:"max_tokens"`
	Stream    bool     `json:"stream"`
	Messages  []oaiMsg `json:"messages"`
}

type antBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type antMsg struct {
	Role    string     `json:"role"`
	Content []antBlock `json:"content"`
}

type antReq struct {
	Model     string   `json:"model"`
	MaxTokens int      `json:"max_tokens"`
	Stream    bool     `json:"stream"`
	System    string   `json:"system"`
	Messages  []antMsg `json:"messages"`
}

const filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "

// text returns n bytes of ASCII prose that JSON does not escape.
func text(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat(filler, n/len(filler)+1)[:n]
}

// chatBody returns a conversation of exactly size bytes (or the smallest valid
// body, if size is below it): a system prompt and alternating user and assistant
// turns of about 1 KB, ending with a user turn, shaped as the dialect's SDK
// shapes it (Anthropic with content blocks and a top-level system).
func chatBody(d dialect, model string, size int, stream bool) []byte {
	turns := max(1, size/1024)
	if turns%2 == 0 {
		turns++ // a conversation ends on a user turn
	}
	build := func(each, last int) []byte {
		var v any
		if d == anthropicAPI {
			r := antReq{Model: model, MaxTokens: 256, Stream: stream, System: "You are a benchmark."}
			for i := range turns {
				n := each
				if i == turns-1 {
					n = last
				}
				r.Messages = append(r.Messages, antMsg{Role: role(i), Content: []antBlock{{Type: "text", Text: text(n)}}})
			}
			v = r
		} else {
			r := oaiReq{Model: model, MaxTokens: 256, Stream: stream, Messages: []oaiMsg{{Role: "system", Content: "You are a benchmark."}}}
			for i := range turns {
				n := each
				if i == turns-1 {
					n = last
				}
				r.Messages = append(r.Messages, oaiMsg{Role: role(i), Content: text(n)})
			}
			v = r
		}
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // plain structs of strings cannot fail to marshal
		}
		return b
	}
	base := build(0, 0)
	room := size - len(base)
	if room <= 0 {
		return base
	}
	each := room / turns
	return build(each, room-each*(turns-1))
}

func role(i int) string {
	if i%2 == 0 {
		return "user"
	}
	return "assistant"
}

// newClient returns a keep-alive client for loopback benchmarking: no proxy, no
// limit on connections per host, an idle pool large enough to never churn. The
// dial timeout outlasts two SYN retransmissions (1 s, then 2 s more), which a
// loaded machine opening a thousand connections can need.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxConnsPerHost:     0,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 2048,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// newRequest builds a POST of body to url with the dialect's headers.
func newRequest(ctx context.Context, d dialect, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = d.header()
	return req, nil
}

// post sends one non-streaming request and returns the time until its whole
// answer was read.
func post(ctx context.Context, c *http.Client, d dialect, url string, body []byte) (time.Duration, error) {
	req, err := newRequest(ctx, d, url, body)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, statusError(resp)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
}

// stream is a streaming response whose first data event has been read.
type stream struct {
	resp *http.Response
	rd   *bufio.Reader
	last []byte // the last data: line seen
}

// openStream sends a streaming request and reads up to its first `data:` line.
// ttfb is the time from sending to reading that line: what a user waits before
// the first token.
func openStream(ctx context.Context, c *http.Client, d dialect, url string, body []byte) (s *stream, ttfb time.Duration, err error) {
	req, err := newRequest(ctx, d, url, body)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, 0, statusError(resp)
	}
	s = &stream{resp: resp, rd: bufio.NewReaderSize(resp.Body, 8<<10)}
	for {
		line, err := s.rd.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("stream ended before its first data event: %w", err)
		}
		if bytes.HasPrefix(line, []byte("data:")) {
			ttfb = time.Since(start)
			s.last = append(s.last[:0], line...)
			return s, ttfb, nil
		}
	}
}

var errIncomplete = errors.New("stream ended without its terminal event")

// drain reads the rest of the stream and checks that it ended normally: [DONE]
// for OpenAI, message_stop for Anthropic, and no in-band error event.
func (s *stream) drain() error {
	defer s.resp.Body.Close()
	for {
		line, err := s.rd.ReadSlice('\n')
		switch {
		case bytes.HasPrefix(line, []byte("event: error")), bytes.HasPrefix(line, []byte(`data: {"error"`)):
			return fmt.Errorf("in-band stream error: %s", bytes.TrimSpace(line))
		case bytes.HasPrefix(line, []byte("data:")):
			s.last = append(s.last[:0], line...)
		}
		if errors.Is(err, io.EOF) {
			if bytes.Contains(s.last, []byte("[DONE]")) || bytes.Contains(s.last, []byte(`"type":"message_stop"`)) {
				return nil
			}
			return errIncomplete
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// close abandons the stream.
func (s *stream) close() { s.resp.Body.Close() }

// streamOnce opens a stream, drains it, and returns its time to first event.
func streamOnce(ctx context.Context, c *http.Client, d dialect, url string, body []byte) (time.Duration, error) {
	s, ttfb, err := openStream(ctx, c, d, url, body)
	if err != nil {
		return 0, err
	}
	return ttfb, s.drain()
}
