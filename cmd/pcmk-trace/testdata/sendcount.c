//go:build ignore
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// sendcount: an independent witness for the recorder's completeness test. It counts, per
// process of one pid namespace, the libqb send calls that succeeded (uretprobes on the
// send functions of libqb's API, return value > 0) and the bytes they sent. It shares no
// code or hook with the recorder, which probes qb_rb_chunk_commit and syscalls.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct count {
	__u64 n;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* pid inside the namespace */
	__type(value, struct count);
} sends SEC(".maps");

const volatile __u64 ns_dev = 0;
const volatile __u64 ns_ino = 0;

SEC("uretprobe")
int count_send(struct pt_regs *ctx)
{
	long rc = PT_REGS_RC(ctx);
	struct bpf_pidns_info ns = {};
	if (rc <= 0 || bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns, sizeof(ns)))
		return 0;
	__u32 key = ns.tgid;
	struct count *c = bpf_map_lookup_elem(&sends, &key);
	if (!c) {
		struct count zero = {};
		bpf_map_update_elem(&sends, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&sends, &key);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->n, 1);
	__sync_fetch_and_add(&c->bytes, rc);
	return 0;
}
