package main

import (
	"context"
	"errors"
	"io"
)

func runDecode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("decode: not built yet")
}
