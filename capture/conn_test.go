package capture

import "testing"

func TestConnPIDs(t *testing.T) {
	for _, tc := range []struct {
		conn     string
		srv, cli uint32
	}{
		{"qb-54-176-12-RSejQ5", 54, 176},
		{"qb-4294967295-1-9-abcdef", 4294967295, 1},
		{"qb-4294967296-1-9-abcdef", 0, 0},
		{"qb-54", 0, 0},
		{"qb-54-", 0, 0},
		{"qb--1-2-x", 0, 0},
		{"qb-corosync-12-blackbox", 0, 0},
		{"", 0, 0},
	} {
		if s, c := connPIDs(tc.conn); s != tc.srv || c != tc.cli {
			t.Errorf("%q: %d %d, want %d %d", tc.conn, s, c, tc.srv, tc.cli)
		}
	}
}
