package main

import (
	"context"
	"errors"
	"io"
)

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("record: not built yet")
}
