// A differential oracle: what Supabase Auth (GoTrue, written in Go) reads from a request the router
// forwarded, computed by Go's own net/http, net/url and encoding/json rather than by a model of them.
//
// Reads one JSON request per line on stdin — {"method", "url", "headers": [[name, value]...],
// "body_base64"} as the recording upstream saw it — and writes one JSON answer per line:
//
//	redirect_header   r.Header.Get("redirect_to")            (getRedirectTo, internal/utilities/request.go)
//	form_ok           r.ParseForm() == nil                    (getRedirectTo skips the form otherwise)
//	redirect_form     r.Form["redirect_to"]                   (body values before query values)
//	referer           r.Referer()
//	grant_type        r.FormValue("grant_type")              (internal/api/token.go)
//	json_ok           json.Unmarshal of the body into the struct below succeeded
//	json_redirect_to  VerifyParams/SingleSignOnParams.RedirectTo
//	json_create_user  OtpParams.CreateUser, default true as in (*API).Otp
//	json_tenant_id    Data["tenant_id"] of SignupParams/OtpParams
//
// Built with the Go of Debian 12 (`golang-go`, Go 1.19), standard library only.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strings"
)

type request struct {
	Method     string      `json:"method"`
	URL        string      `json:"url"`
	Headers    [][2]string `json:"headers"`
	BodyBase64 string      `json:"body_base64"`
}

// The fields of GoTrue's params structs that the router edits (internal/api/otp.go, signup.go,
// verify.go, sso.go), with their JSON names.
type params struct {
	RedirectTo string                 `json:"redirect_to"`
	CreateUser bool                   `json:"create_user"`
	Data       map[string]interface{} `json:"data"`
}

type answer struct {
	RedirectHeader string   `json:"redirect_header"`
	FormOK         bool     `json:"form_ok"`
	RedirectForm   []string `json:"redirect_form"`
	Referer        string   `json:"referer"`
	GrantType      string   `json:"grant_type"`
	JSONOK         bool     `json:"json_ok"`
	JSONRedirectTo string   `json:"json_redirect_to"`
	JSONCreateUser bool     `json:"json_create_user"`
	JSONTenantID   string   `json:"json_tenant_id"`
	Error          string   `json:"error,omitempty"`
}

func view(in request) answer {
	body, err := base64.StdEncoding.DecodeString(in.BodyBase64)
	if err != nil {
		return answer{Error: err.Error()}
	}
	newReq := func() (*http.Request, error) {
		r, err := http.NewRequest(in.Method, "http://gotrue.invalid"+in.URL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for _, h := range in.Headers {
			// As net/http's server does when it reads the request: canonical names, values in order.
			r.Header.Add(textproto.CanonicalMIMEHeaderKey(h[0]), h[1])
		}
		return r, nil
	}
	var a answer
	r, err := newReq()
	if err != nil {
		return answer{Error: err.Error()}
	}
	a.RedirectHeader = r.Header.Get("redirect_to")
	a.FormOK = r.ParseForm() == nil
	a.RedirectForm = r.Form["redirect_to"]
	if a.RedirectForm == nil {
		a.RedirectForm = []string{}
	}
	a.Referer = r.Referer()
	// FormValue on a fresh request, as Token does (it ignores parse errors).
	if r2, err := newReq(); err == nil {
		a.GrantType = r2.FormValue("grant_type")
	}
	// retrieveRequestParams: the whole body, decoded as JSON whatever the content type.
	raw, _ := io.ReadAll(bytes.NewReader(body))
	p := params{CreateUser: true}
	a.JSONOK = json.Unmarshal(raw, &p) == nil
	a.JSONRedirectTo = p.RedirectTo
	a.JSONCreateUser = p.CreateUser
	if t, ok := p.Data["tenant_id"].(string); ok {
		a.JSONTenantID = t
	}
	return a
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var req request
		if err := json.Unmarshal([]byte(line), &req); err != nil {
			_ = out.Encode(answer{Error: err.Error()})
			continue
		}
		_ = out.Encode(view(req))
	}
}
