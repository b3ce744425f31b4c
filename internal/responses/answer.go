package responses

import "github.com/tidwall/gjson"

// ReadAnswer reads what a response body, or one stream event carrying the
// response (response.created, response.completed, response.incomplete,
// response.failed), says of the answer, for traces: the response's model, and why
// it stopped (README §15.2: the API has no finish reason; "why did it stop" is
// derived): incomplete_details.reason for an incomplete response, else its final
// status ("completed", "failed"). A response still in progress has no reason yet.
func ReadAnswer(data []byte) (model, finish string) {
	root := gjson.ParseBytes(data)
	if r := root.Get("response"); r.IsObject() {
		root = r
	}
	model = root.Get("model").Str
	status := root.Get("status").Str
	switch status {
	case "", StatusInProgress, "queued":
		return model, ""
	case StatusIncomplete:
		if reason := root.Get("incomplete_details.reason").Str; reason != "" {
			return model, reason
		}
	}
	return model, status
}
