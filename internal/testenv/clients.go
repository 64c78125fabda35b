package testenv

import (
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

var (
	clientsMu sync.Mutex
	clients   = map[string]*http.Client{}
)

// ClientFrom is an HTTP client whose connections come from the loopback
// address ip (127.0.0.2, 127.0.0.3, …), so a test can act as many client
// addresses against one server. Linux routes all of 127.0.0.0/8 to the
// loopback interface; elsewhere the test is skipped (failed under CI).
func ClientFrom(t testing.TB, ip string) *http.Client {
	t.Helper()
	if runtime.GOOS != "linux" {
		Unavailable(t, "dialing from %s needs Linux's 127.0.0.0/8 loopback", ip)
	}
	addr := net.ParseIP(ip)
	if addr == nil || !addr.IsLoopback() {
		t.Fatalf("ClientFrom(%q): want a loopback address", ip)
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c, ok := clients[ip]; ok {
		return c
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr}, Timeout: 10 * time.Second}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4}}
	clients[ip] = c
	return c
}

// ClientAddresses are n distinct loopback client addresses, 127.0.1.1 on.
func ClientAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)).String()
	}
	return out
}
