package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// initialBodyBuffer is all readBody reserves before bytes arrive: a client's
// Content-Length is a claim, not data, so the buffer grows (doubling, capped at
// the announced length) only as the body comes in. 32 KiB holds most requests in
// one allocation.
const initialBodyBuffer = 32 << 10

// readBody reads the whole request body, at most server.max_request_bytes (413
// beyond). It returns 408 when the body has not arrived by the read deadline the
// middleware set (server.body_timeout).
func (g *Gateway) readBody(r *http.Request) ([]byte, *apiError) {
	limit := g.cfg.Server.MaxRequestBytes
	body, err := readAll(http.MaxBytesReader(nil, r.Body, limit), r.ContentLength, limit)
	if err == nil {
		return body, nil
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, &apiError{Status: http.StatusRequestTimeout, Err: err, Message: fmt.Sprintf(
			"request body not received within %s (server.body_timeout)", g.cfg.Server.BodyTimeout)}
	}
	return nil, &apiError{Status: http.StatusBadRequest, Message: "reading request body failed", Err: err}
}

// readAll reads rd to EOF. It starts with at most initialBodyBuffer and doubles
// when full, never past announced+1 (room to read EOF) nor limit+1 (room to see
// the limit crossed): memory held is at most about twice what has arrived.
func readAll(rd io.Reader, announced, limit int64) ([]byte, error) {
	size := int64(initialBodyBuffer)
	if announced >= 0 && announced < size {
		size = announced + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = grow(buf, announced, limit)
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// grow doubles buf's capacity, stopping at the announced length (+1 for EOF)
// while the body is within it, and at limit+1.
func grow(buf []byte, announced, limit int64) []byte {
	c := int64(cap(buf)) * 2
	if have := int64(len(buf)); announced >= have && announced+1 < c {
		c = announced + 1
	}
	c = min(c, limit+1)
	if c <= int64(len(buf)) {
		c = int64(len(buf)) + bytes.MinRead
	}
	out := make([]byte, len(buf), c)
	copy(out, buf)
	return out
}

// clearBodyDeadline lifts the read deadline set for the body once it is read,
// so that nothing after the body (a stream of any length, the background read by
// which net/http notices a client going away) is bound by it. net/http 1.26 also
// clears the deadline when that background read starts; this does not rely on it.
func clearBodyDeadline(w http.ResponseWriter, r *http.Request) {
	if c := connOf(r); c != nil {
		c.bodyRead()
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
}

// requestShape is what checking a client's request needs of its protocol.
type requestShape interface {
	// RequestField names the member a request of op must carry, and whether it
	// must be an array.
	RequestField(op wire.Operation) (name string, array bool)
}

// request is what validate read of a client's request.
type request struct {
	model  string // the model it names, "" for none
	stream bool   // whether it asks for a stream
	// noLimitToFit: it has no top-level max_completion_tokens, the one member an
	// upstream's FitLimit may move (buildBody skips FitLimit then).
	noLimitToFit bool
}

// validate checks the body is a JSON object with no duplicate key, a model (if
// named, else a model when there is one), the protocol's required content field
// and a boolean stream, and returns what it read of the request.
func validate(body []byte, p requestShape, op wire.Operation, named bool) (request, *apiError) {
	shape := checkShape(body)
	if errors.Is(shape, errTooDeep) {
		return request{}, errorf(http.StatusBadRequest, fmt.Sprintf("request body nests deeper than %d levels", maxNesting))
	}
	if first := bytes.TrimLeft(body, " \t\r\n"); len(first) == 0 || first[0] != '{' || !validJSON(body) {
		return request{}, errorf(http.StatusBadRequest, "request body is not a valid JSON object")
	}
	if shape != nil { // reported once the body is known to be valid JSON
		return request{}, &apiError{Status: http.StatusBadRequest, Message: shape.Error()}
	}
	field, array := p.RequestField(op)
	top := readTop(body, field)
	if m := top.model; (named || m.Exists()) && (m.Type != gjson.String || m.Str == "") {
		return request{}, &apiError{Status: http.StatusBadRequest, Param: "model", Message: "missing required field: model"}
	}
	if c := top.content; field != "" && (!c.Exists() || c.Type == gjson.Null) {
		return request{}, &apiError{Status: http.StatusBadRequest, Param: field, Message: "missing required field: " + field}
	}
	if array && field != "" && !top.content.IsArray() {
		return request{}, &apiError{Status: http.StatusBadRequest, Param: field, Message: field + " must be an array"}
	}
	// What upstreams accept as true differs ("stream": 1, "true"): only a JSON
	// boolean means one thing everywhere, as the translators already require.
	if s := top.stream; s.Exists() && !s.IsBool() {
		return request{}, &apiError{Status: http.StatusBadRequest, Param: "stream", Message: "stream: must be a boolean"}
	}
	// The model outlives the body's reading: a copy, not a view into body.
	return request{model: strings.Clone(top.model.Str), stream: top.stream.Bool(), noLimitToFit: !top.maxCompletion}, nil
}

// view is b as a string, without a copy, for gjson to read: gjson's GetBytes
// converts the same way, then copies every result it returns. b must not be
// written into while the string or a result pointing into it is in use.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// topMembers are the top-level members of a request that validate reads.
type topMembers struct {
	model, content, stream gjson.Result
	maxCompletion          bool // it has a max_completion_tokens member
}

// readTop reads the members validate checks in one pass over the top-level
// object of body, valid JSON without duplicate keys: gjson.GetManyBytes would
// walk the whole body once for every member it does not have (most requests
// have no "stream"), and copy every result. The results point into body, which
// is viewed as a string without a copy: they must not outlive it.
func readTop(body []byte, field string) topMembers {
	var top topMembers
	gjson.Parse(view(body)).ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "model":
			top.model = value
		case "stream":
			top.stream = value
		case string(openai.MaxCompletionTokens):
			top.maxCompletion = true
		}
		if field != "" && key.Str == field {
			top.content = value
		}
		return true
	})
	return top
}
