package anthropic

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

func TestErrorBodyDetails(t *testing.T) {
	got := string(ErrorBodyDetails("invalid_request_error", "no threads here",
		&ErrorDetails{ErrorCode: ErrorCodeThreadUnsupported, Unsupported: []string{"thread"}}))
	want := `{"type":"error","error":{"type":"invalid_request_error","message":"no threads here",` +
		`"details":{"error_code":"thread_unsupported_request","unsupported":["thread"]}}}`
	if got != want {
		t.Errorf("ErrorBodyDetails = %s\nwant %s", got, want)
	}
	if got, want := string(Messages.ErrorBody(0, "api_error", "", "x")), `{"type":"error","error":{"type":"api_error","message":"x"}}`; got != want {
		t.Errorf("ErrorBody = %s, want %s", got, want)
	}
	if got, want := string(Messages.ErrorBodyWith(400, "", "y", &ErrorDetails{ErrorCode: "c"})),
		`{"type":"error","error":{"type":"invalid_request_error","message":"y","details":{"error_code":"c"}}}`; got != want {
		t.Errorf("ErrorBodyWith = %s, want %s", got, want)
	}
	if got, want := string(Messages.ErrorBodyWith(404, "", "z", map[string]string{"not": "ours"})),
		`{"type":"error","error":{"type":"not_found_error","message":"z"}}`; got != want {
		t.Errorf("ErrorBodyWith(other details) = %s, want %s", got, want)
	}
}

// threadRefuser is an Anthropic server that cannot keep threads: a request with
// "thread" gets the thread_unsupported_request 400, any other the captured message.
type threadRefuser struct {
	mu      sync.Mutex
	threads []bool // per request: whether it carried "thread"
	answer  []byte
}

func (s *threadRefuser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	thread := gjson.GetBytes(body, "thread").Exists()
	s.mu.Lock()
	s.threads = append(s.threads, thread)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if thread {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(ErrorBodyDetails("invalid_request_error", "thread is not supported on this route",
			&ErrorDetails{ErrorCode: ErrorCodeThreadUnsupported, Unsupported: []string{"thread"}}))
		return
	}
	_, _ = w.Write(s.answer)
}

// The official SDK reads the envelope as a thread refusal: its thread, told to go on
// without one, sends the turn again with no thread (issue 9 item 5); told nothing,
// it reports the refusal with its details.
func TestThreadRefusalIsReadByTheSDK(t *testing.T) {
	answer, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", "anthropic-messages-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		behavior sdk.BetaMessageThreadUnsupportedRequestBehavior
		threads  []bool
	}{
		{"continue unthreaded", sdk.BetaMessageThreadUnsupportedRequestBehaviorContinueUnthreaded, []bool{true, false}},
		{"error", sdk.BetaMessageThreadUnsupportedRequestBehaviorError, []bool{true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := &threadRefuser{answer: answer}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			client := sdk.NewClient(option.WithBaseURL(ts.URL), option.WithAPIKey("k"), option.WithMaxRetries(0))
			thread := client.Beta.Messages.NewThread(sdk.BetaMessageThreadCreateParams{
				Model: "claude-sonnet-4-5", MaxTokens: 64, UnsupportedRequestBehavior: tt.behavior})
			_, err := thread.Send(context.Background(), sdk.BetaMessageThreadSendParams{
				Messages: []sdk.BetaMessageParam{sdk.NewBetaUserMessage(sdk.NewBetaTextBlock("Hi"))}})
			var apiErr *sdk.Error
			switch {
			case tt.behavior == sdk.BetaMessageThreadUnsupportedRequestBehaviorError && !errors.As(err, &apiErr):
				t.Fatalf("err = %v, want the API's error", err)
			case apiErr != nil:
				d := apiErr.Details.AsThreadUnsupportedRequest()
				if apiErr.StatusCode != 400 || d.ErrorCode != ErrorCodeThreadUnsupported || !slices.Equal(asStrings(d.Unsupported), []string{"thread"}) {
					t.Errorf("error %d details %s", apiErr.StatusCode, apiErr.Details.RawJSON())
				}
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.threads, srv.threads); diff != "" {
				t.Errorf("requests carrying thread (-want +got):\n%s", diff)
			}
		})
	}
}

func asStrings[S ~string](s []S) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}
