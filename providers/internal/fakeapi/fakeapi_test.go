package fakeapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newFake(t *testing.T) *Server[Request] {
	return New(t, API[Request]{
		Record: func(_ *http.Request, req Request) Request { return req },
		Refuse: func(req Request) (Response, bool) {
			return Response{Status: http.StatusNotFound, Body: "no"}, req.Path != "/send"
		},
		Accept: func(_ Request, n int) Response {
			return Response{Status: http.StatusCreated, Body: "id" + strconv.Itoa(n)}
		},
		ContentType: "application/json",
	})
}

func post(t *testing.T, s *Server[Request], path string) (int, string, string) {
	t.Helper()
	resp, err := http.PostForm(s.URL+path, url.Values{"to": {"+255712345678"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}

// Scripted answers go to the requests the API would read, in order; a
// refused request is recorded but leaves the script as it was.
func TestScriptOrder(t *testing.T) {
	s := newFake(t)
	s.Enqueue(Response{Status: http.StatusTooManyRequests, Body: "slow down", ContentType: "text/plain"})
	s.EnqueueAccept()
	var got []string
	for _, path := range []string{"/elsewhere", "/send", "/send", "/send"} {
		code, body, ct := post(t, s, path)
		got = append(got, strconv.Itoa(code)+" "+body+" "+ct)
	}
	want := []string{"404 no application/json", "429 slow down text/plain", "201 id1 application/json", "201 id2 application/json"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("answers\n got %q\nwant %q", got, want)
	}
	reqs := s.Requests()
	if s.Count() != 4 || len(reqs) != 4 || reqs[1].Form.Get("to") != "+255712345678" || reqs[1].Method != http.MethodPost {
		t.Errorf("recorded %+v", reqs)
	}
	select {
	case <-s.Received():
	default:
		t.Error("Received not signalled")
	}
}

func TestRespondDelayAndHangup(t *testing.T) {
	s := newFake(t)
	s.Respond(func(Request) Response {
		return Response{Status: http.StatusOK, Body: "late", Delay: 50 * time.Millisecond}
	})
	start := time.Now()
	if code, body, _ := post(t, s, "/send"); code != http.StatusOK || body != "late" || time.Since(start) < 50*time.Millisecond {
		t.Errorf("%d %q after %v", code, body, time.Since(start))
	}
	s.Enqueue(Response{Hangup: true})
	_, err := http.PostForm(s.URL+"/send", nil)
	if err == nil || !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("hangup answered: %v", err)
	}
}
