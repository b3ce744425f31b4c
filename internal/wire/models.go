package wire

import (
	"errors"

	"github.com/tidwall/gjson"
)

// errNoModelList is a model list body without its data array.
var errNoModelList = errors.New("not a model list: no data array")

// ParseModelIDs reads the ids of a model list body in the shape OpenAI's and
// Anthropic's GET /v1/models share, {"data":[{"id"}]} (OpenAI adds
// "object":"list", Anthropic each model's "type":"model"): every non-empty
// string id, in order; an error for a body without a data array.
func ParseModelIDs(body []byte) ([]string, error) {
	data := gjson.GetBytes(body, "data")
	if !data.IsArray() {
		return nil, errNoModelList
	}
	var ids []string
	data.ForEach(func(_, m gjson.Result) bool {
		if id := m.Get("id"); id.Type == gjson.String && id.Str != "" {
			ids = append(ids, id.Str)
		}
		return true
	})
	return ids, nil
}
