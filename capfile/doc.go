// Package capfile reads and writes pcmk-trace capture files: pcapng files
// that Wireshark, tshark and every pcapng tool open, with one packet per
// recorded libqb message on LINKTYPE_USER0. Each packet holds a fixed
// 176-byte pseudo-header carrying the message's identity (kind, channel,
// pids, namespaces, service, connection, sequence number) followed by the
// raw libqb bytes; messages too large for one packet are split into
// continuation packets, which [Reader] joins again. FORMAT.md in this
// directory describes the layout byte by byte. The package is pure Go with
// no eBPF imports, so decoders build on any OS.
//
// The recorder writes:
//
//	w, err := capfile.Create("out.pcapng", capfile.WriterOptions{})
//	...
//	err = w.Write(rec) // for each *capfile.Record; w.Flush() every 200 ms or so
//	...
//	err = w.WriteStats(capfile.Stats{Start: start, End: time.Now(), Received: n, Dropped: lost})
//	err = w.Close()
//
// and a decoder reads:
//
//	r, err := capfile.NewReader(f)
//	for {
//		rec, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		var fe *capfile.FormatError
//		if errors.As(err, &fe) {
//			continue // one damaged message; report it and go on
//		}
//		if err != nil {
//			return err // errors.Is(err, capfile.ErrTruncated): the recorder was killed
//		}
//		use(rec)
//	}
package capfile
