package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// exitCase is one command line and the exit status it must give (0: run returns nil).
type exitCase struct {
	desc string
	args []string
	code int
}

// checkExitCodes runs each case through run and checks its exit status.
func checkExitCodes(t *testing.T, cases []exitCase) {
	t.Helper()
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.desc, err)
			}
			continue
		}
		var ec exitCode
		if !errors.As(err, &ec) || ec.code != tc.code {
			t.Errorf("%s: error %v, want exit code %d", tc.desc, err, tc.code)
		}
	}
}
