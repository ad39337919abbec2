package testcluster

import (
	"fmt"
	"strings"
)

// PropertySet returns a crm_config cluster_property_set of about n bytes:
// tests load a CIB with it to make large messages (plain, compressed or
// multipart, as the release and the size decide).
func PropertySet(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<cluster_property_set id="%s">`, id)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `<nvpair id="%s-%d" name="%s-%d" value="value %d of a big set, to make a large message"/>`, id, i, id, i, i*7919)
	}
	return b.String() + "</cluster_property_set>"
}
