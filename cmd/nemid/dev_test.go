package main

import "testing"

func TestDevUIPort(t *testing.T) {
	cases := []struct{ address, want string }{
		{"127.0.0.1:7233", "8233"},
		{"127.0.0.1:41000", "42000"},
		{"localhost:65000", "8233"}, // port + 1000 does not exist
		{"not an address", "8233"},
	}
	for _, tc := range cases {
		if got := devUIPort(tc.address); got != tc.want {
			t.Errorf("devUIPort(%q) = %q, want %q", tc.address, got, tc.want)
		}
	}
}
