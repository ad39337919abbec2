package main

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// decodeFile decodes a whole capture with opts; a read error fails the test.
func decodeFile(t *testing.T, opts decode.Options, file string) ([]*decode.Message, decode.Stats) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dr := decode.NewReader(cr, opts)
	var msgs []*decode.Message
	for {
		m, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return msgs, dr.Stats()
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		msgs = append(msgs, m)
	}
}
