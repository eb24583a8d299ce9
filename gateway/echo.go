package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxEchoBody is the largest request body the echo backend answers with.
const maxEchoBody = 1 << 20

// echoTransport is the builtin:echo backend. It answers in process, with
// no socket, describing the request as the gateway forwarded it: so a
// caller sees that the key was removed and the X-Forwarded-* headers set.
type echoTransport struct {
	maxBody int64
	// redactAuthorization hides the value of the Authorization header
	// (keeping its scheme) when the gateway injected it: backend
	// authentication's credential is not the caller's to see.
	redactAuthorization bool
}

// echoed is the echo backend's response body.
type echoed struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   map[string][]string `json:"query"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

func (t echoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		defer req.Body.Close()
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, t.maxBody+1))
		if err != nil {
			return nil, err
		}
		if int64(len(body)) > t.maxBody {
			d := newDenial(http.StatusRequestEntityTooLarge,
				"The echo backend answers request bodies of up to "+strconv.FormatInt(t.maxBody, 10)+" bytes.", "", nil)
			return echoResponse(req, d.status, d.body), nil
		}
	}
	headers := make(map[string][]string, len(req.Header))
	for k, v := range req.Header {
		// ReverseProxy sets an empty User-Agent so that Go's is not sent;
		// on the wire there would be none.
		if k == "User-Agent" && len(v) == 1 && v[0] == "" {
			continue
		}
		if k == "Authorization" && t.redactAuthorization {
			v = redacted(v)
		}
		headers[k] = v
	}
	e := echoed{
		Method:  req.Method,
		Path:    req.URL.Path,
		Query:   req.URL.Query(),
		Headers: headers,
		Body:    string(body),
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	return echoResponse(req, http.StatusOK, append(b, '\n')), nil
}

// redacted returns the header values with everything after the scheme
// replaced.
func redacted(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		if scheme, _, ok := strings.Cut(s, " "); ok {
			out[i] = scheme + " [redacted]"
		} else {
			out[i] = "[redacted]"
		}
	}
	return out
}

func echoResponse(req *http.Request, status int, body []byte) *http.Response {
	return &http.Response{
		Status:     strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode: status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":   {"application/json"},
			"Content-Length": {strconv.Itoa(len(body))},
		},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
