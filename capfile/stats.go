package capfile

import "time"

// Stats are the recorder's counters for the whole recording. [Writer.WriteStats]
// stores them in a pcapng interface statistics block, which Wireshark shows
// under Capture File Properties; [Reader.Stats] reads them back.
type Stats struct {
	Start    time.Time // when recording began (isb_starttime)
	End      time.Time // when recording ended (isb_endtime)
	Received uint64    // messages the probes saw (isb_ifrecv)
	Dropped  uint64    // messages lost (isb_ifdrop); loss records say why
}
