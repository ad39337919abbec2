package analyse

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Fanout is one row of the fanout table: the cib_diff_notify events one
// CIB change caused.
type Fanout struct {
	// Version is the CIB version the change produced, from the diff's
	// target ("admin_epoch.epoch.num_updates"); "" when the notification
	// did not show one (then the notifications in a row without one are
	// counted as one change).
	Version       string
	CIBOp         string // the change's cib_op
	FirstSeq      uint64 // the first notification
	Time          time.Time
	Notifications uint64
	Bytes         uint64 // their Size
}

// FanoutTotal sums the fanout table over every change, also the ones
// the table did not keep.
type FanoutTotal struct {
	Changes          uint64
	Notifications    uint64
	Bytes            uint64
	MaxNotifications uint64 // the most notifications one change caused
}

// openChanges is how many changes may be collecting notifications at
// once: one change's notifications go out in one burst.
const openChanges = 8

type fanoutState struct {
	keep  int
	open  []*Fanout // oldest first
	kept  []*Fanout
	total FanoutTotal
}

func (a *Aggregator) addFanout(m *decode.Message) {
	if m.Op != "cib_diff_notify" || m.Role != decode.RoleNotification {
		return
	}
	f := &a.fanout
	version := diffVersion(m.XML)
	var c *Fanout
	for _, o := range f.open {
		if o.Version == version {
			c = o
			break
		}
	}
	if c == nil {
		c = &Fanout{Version: version, CIBOp: string(attr(startTag(m.XML), "cib_op")), FirstSeq: m.Seq, Time: m.Time}
		f.open = append(f.open, c)
		f.total.Changes++
		if len(f.open) > openChanges {
			f.close(f.open[0])
			f.open = slices.Delete(f.open, 0, 1)
		}
	}
	c.Notifications++
	c.Bytes += uint64(m.Size)
	f.total.Notifications++
	f.total.Bytes += uint64(m.Size)
	f.total.MaxNotifications = max(f.total.MaxNotifications, c.Notifications)
}

// close files a finished change, keeping only the keep with the most bytes.
func (f *fanoutState) close(c *Fanout) {
	f.kept = append(f.kept, c)
	if len(f.kept) > f.keep {
		i := 0
		for j, k := range f.kept {
			if k.Bytes < f.kept[i].Bytes || (k.Bytes == f.kept[i].Bytes && k.FirstSeq > f.kept[i].FirstSeq) {
				i = j
			}
		}
		f.kept = slices.Delete(f.kept, i, i+1)
	}
}

// Fanouts returns the fanout table, in capture order: every change, or
// the FanoutChanges with the most notification bytes.
func (a *Aggregator) Fanouts() []Fanout {
	var all []Fanout
	for _, c := range a.fanout.kept {
		all = append(all, *c)
	}
	for _, c := range a.fanout.open {
		all = append(all, *c)
	}
	if len(all) > a.fanout.keep {
		slices.SortFunc(all, func(x, y Fanout) int {
			return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.FirstSeq, y.FirstSeq))
		})
		all = all[:a.fanout.keep]
	}
	slices.SortFunc(all, func(x, y Fanout) int { return cmp.Compare(x.FirstSeq, y.FirstSeq) })
	return all
}

// FanoutTotals returns the sums over every change.
func (a *Aggregator) FanoutTotals() FanoutTotal { return a.fanout.total }

// diffVersion returns the target version of a notification's diff, or "".
func diffVersion(xml []byte) string {
	i := bytes.Index(xml, []byte("<version>"))
	if i < 0 {
		return ""
	}
	j := bytes.Index(xml[i:], []byte("<target "))
	if j < 0 {
		return ""
	}
	tag := startTag(xml[i+j:])
	admin, epoch, updates := attr(tag, "admin_epoch"), attr(tag, "epoch"), attr(tag, "num_updates")
	if admin == nil || epoch == nil || updates == nil {
		return ""
	}
	return string(admin) + "." + string(epoch) + "." + string(updates)
}

// startTag returns the first start tag of xml, up to its '>'.
func startTag(xml []byte) []byte {
	if i := bytes.IndexByte(xml, '>'); i >= 0 {
		return xml[:i]
	}
	return xml
}

// attr returns the value of attribute name in a start tag, or nil.
func attr(tag []byte, name string) []byte {
	for off := 0; off < len(tag); {
		i := bytes.Index(tag[off:], []byte(name))
		if i < 0 {
			return nil
		}
		i += off
		off = i + len(name)
		if i == 0 || !isSpace(tag[i-1]) || off+1 >= len(tag) || tag[off] != '=' {
			continue
		}
		q := tag[off+1]
		if q != '"' && q != '\'' {
			continue
		}
		end := bytes.IndexByte(tag[off+2:], q)
		if end < 0 {
			return nil
		}
		return tag[off+2 : off+2+end]
	}
	return nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
