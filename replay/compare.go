package replay

import (
	"fmt"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Outcome is what became of one replayed request.
type Outcome string

const (
	Matched   Outcome = "matched"   // every live reply equals the recorded one after masking (or none was due)
	Diverged  Outcome = "diverged"  // a live reply differs from the recorded one
	Failed    Outcome = "failed"    // not sent, or not answered: connection error, timeout, undecodable reply
	Refused   Outcome = "refused"   // a write, not sent without AllowWrites
	Unchecked Outcome = "unchecked" // answered, but the capture holds no whole reply to compare with
)

// compareAttempt judges a finished attempt against its recording.
func compareAttempt(a *attempt, mask *Mask) (Outcome, []Diff, error) {
	ex := a.ex
	a.mu.Lock()
	resp, events, err := a.resp, a.events, a.err
	a.mu.Unlock()
	if err != nil {
		return Failed, nil, err
	}
	if !a.needResp && a.needEvents == 0 {
		if ex.Request.ExpectsReply {
			return Unchecked, nil, nil
		}
		return Matched, nil, nil
	}
	var diffs []Diff
	unchecked := false
	judge := func(name string, rec, live *decode.Message) error {
		if live.Err != nil {
			return fmt.Errorf("%s: live reply could not be decoded: %w", name, live.Err)
		}
		if live.Truncated {
			return fmt.Errorf("%s: live reply truncated", name)
		}
		if rec.Err != nil || rec.Truncated {
			unchecked = true
			return nil
		}
		d, err := CompareXML(rec.XML, live.XML, mask)
		if err != nil {
			if _, lerr := parseRoot(live.XML); lerr != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			unchecked = true // the recording is not XML
			return nil
		}
		for i := range d {
			d[i].Reply = name
		}
		diffs = append(diffs, d...)
		return nil
	}
	if a.needResp {
		if err := judge("response", ex.Response, resp); err != nil {
			return Failed, nil, err
		}
	}
	for i := range a.needEvents {
		if err := judge(fmt.Sprintf("event %d", i+1), ex.Events[i], events[i]); err != nil {
			return Failed, nil, err
		}
	}
	switch {
	case len(diffs) > 0:
		return Diverged, diffs, nil
	case unchecked:
		return Unchecked, nil, nil
	}
	return Matched, nil, nil
}
