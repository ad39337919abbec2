package main

import "testing"

func TestCorosyncNode(t *testing.T) {
	conf := []byte(`totem {
    version: 2
    cluster_name: c # a comment
}
nodelist {
    node {
        ring0_addr: 10.0.0.1
        name: alpha
        nodeid: 1
    }
    node {
        ring0_addr: 10.0.0.2
        nodeid: 7
    }
    node {
        ring0_addr: 10.0.0.3
        name: gamma
        nodeid: 3
    }
}
quorum {
    provider: corosync_votequorum
}
`)
	for _, tc := range []struct {
		host, name string
		id         uint32
	}{
		{"alpha", "alpha", 1},
		{"gamma.example.com", "gamma", 3}, // the short name
		{"10.0.0.2", "10.0.0.2", 7},       // no name: the address names it
		{"delta", "", 0},
	} {
		if name, id := corosyncNode(conf, tc.host); name != tc.name || id != tc.id {
			t.Errorf("host %q: node %q id %d, want %q %d", tc.host, name, id, tc.name, tc.id)
		}
	}
	one := []byte("nodelist {\n node {\n  ring0_addr: 127.0.0.1\n  name: node1\n  nodeid: 1\n }\n}\n")
	if name, id := corosyncNode(one, "somehost"); name != "node1" || id != 1 {
		t.Errorf("the only node: %q %d", name, id)
	}
}
