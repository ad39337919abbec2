package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// setNodeInfo names the recorded node in the section header: the host name, the cluster
// node name and id, and the boot id. With --ns-of, the node is that of the first process
// given: its UTS namespace's host name and its root's corosync.conf.
func (r *recorder) setNodeInfo(s *capfile.SectionInfo) {
	root := "/"
	s.Host, _ = os.Hostname()
	if len(r.o.nsOf) > 0 {
		pid := int(r.o.nsOf[0])
		root = filepath.Join("/proc", strconv.Itoa(pid), "root")
		if h, err := utsHostname(pid); err == nil {
			s.Host = h
		}
	}
	if conf, err := os.ReadFile(filepath.Join(root, "etc/corosync/corosync.conf")); err == nil {
		s.Node, s.NodeID = corosyncNode(conf, s.Host)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		s.BootID = strings.TrimSpace(string(b))
	}
}

// corosyncNode finds host in a corosync.conf nodelist and returns the node's name and id:
// the node whose name or ring0_addr is host (or its short name), or the only node listed.
func corosyncNode(conf []byte, host string) (name string, id uint32) {
	type node struct {
		name, addr string
		id         uint32
	}
	var nodes []node
	var cur *node
	var stack []string
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case strings.HasSuffix(line, "{"):
			sect := strings.TrimSpace(strings.TrimSuffix(line, "{"))
			stack = append(stack, sect)
			if sect == "node" && len(stack) == 2 && stack[0] == "nodelist" {
				nodes = append(nodes, node{})
				cur = &nodes[len(nodes)-1]
			}
		case line == "}":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			cur = nil
		case cur != nil:
			key, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			value = strings.TrimSpace(value)
			switch strings.TrimSpace(key) {
			case "name":
				cur.name = value
			case "ring0_addr":
				cur.addr = value
			case "nodeid":
				if n, err := strconv.ParseUint(value, 10, 32); err == nil {
					cur.id = uint32(n)
				}
			}
		}
	}
	short, _, _ := strings.Cut(host, ".")
	for _, n := range nodes {
		nm := n.name
		if nm == "" {
			nm = n.addr
		}
		if host != "" && (nm == host || nm == short || n.addr == host) {
			return nm, n.id
		}
	}
	if len(nodes) == 1 {
		if nodes[0].name != "" {
			return nodes[0].name, nodes[0].id
		}
		return nodes[0].addr, nodes[0].id
	}
	return "", 0
}
