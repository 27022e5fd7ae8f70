package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestPostRetriesUntilAccepted(t *testing.T) {
	var mu sync.Mutex
	var got []Event
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev Event
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&ev) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got = append(got, ev)
	}))
	defer srv.Close()
	ev := Event{Event: TaskFailed, Task: "sluice-x", Name: "x", Message: "boom", At: time.Now().UTC().Truncate(time.Second)}
	if err := Post(context.Background(), srv.Client(), srv.URL+"/hook", ev, 3); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || len(got) != 1 || got[0] != ev {
		t.Fatalf("calls %d, got %+v", calls, got)
	}
	// Always refused: the error says so, without the URL (it may carry a token).
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer refuse.Close()
	err := Post(context.Background(), refuse.Client(), refuse.URL+"/secret-token", ev, 2)
	if err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("refused: %v", err)
	}
	refuse.Close()
	// Unreachable, also with a URL the client normalises (scheme case, a space).
	for _, u := range []string{refuse.URL + "/secret-token", strings.Replace(refuse.URL, "http", "HTTP", 1) + "/secret token"} {
		err = Post(context.Background(), http.DefaultClient, u, ev, 1)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Fatalf("unreachable: %v", err)
		}
	}
}

func TestLagWatch(t *testing.T) {
	w := LagWatch{Threshold: 10 * time.Second, For: time.Minute}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		lag  time.Duration
		want string
	}{
		{0, 5 * time.Second, ""},
		{10 * time.Second, 20 * time.Second, ""},     // above since 10 s
		{50 * time.Second, 30 * time.Second, ""},     // 40 s above
		{55 * time.Second, 5 * time.Second, ""},      // back under before a minute: nothing
		{60 * time.Second, 20 * time.Second, ""},     // above again since 60 s
		{2 * time.Minute, 25 * time.Second, LagHigh}, // a minute above
		{3 * time.Minute, 40 * time.Second, ""},      // said once
		{4 * time.Minute, time.Second, LagRecovered}, // under
		{5 * time.Minute, time.Second, ""},
	}
	for _, s := range steps {
		ev, since := w.Observe(t0.Add(s.at), s.lag)
		if ev != s.want {
			t.Fatalf("at %s lag %s: %q, want %q", s.at, s.lag, ev, s.want)
		}
		if ev != "" && !since.Equal(t0.Add(60*time.Second)) {
			t.Errorf("at %s: since %v", s.at, since)
		}
	}
}

// A webhook that hangs holds nobody: Send returns at once, the queue takes
// what it can and drops the rest (this test would hang otherwise).
func TestSenderNeverBlocks(t *testing.T) {
	hang := make(chan struct{})
	var mu sync.Mutex
	got := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		mu.Unlock()
		<-hang
	}))
	defer srv.Close()
	defer close(hang)
	s := NewSender(zap.NewNop())
	for i := 0; i < 10*queueSize; i++ {
		s.Send(srv.URL, Event{Event: LagHigh, Task: "t"})
	}
	// The sender's goroutine is inside the first POST.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := got
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got %d requests, want the first one in flight", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// One taken by the sender, the queue full or one short of it (depending on
	// when the sender took it), the rest dropped.
	if n := len(s.queue); n < queueSize-1 {
		t.Errorf("queued %d, want a full queue of %d (the rest dropped)", n, queueSize)
	}
}
