//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ipc.c: eBPF programs that record libqb IPC messages (Pacemaker, corosync).
 *
 * Shared memory: one uprobe on qb_rb_chunk_commit() entry sees every message
 * written to a request, response or event ring, already complete in the ring.
 * The ring's shared header names the connection, the channel and the service.
 *
 * Socket transport: libqb sends each message as one datagram (send() or
 * writev()) on an AF_UNIX SOCK_DGRAM socket bound to an abstract name under
 * "/dev/shm/qb-". Syscall tracepoints, filtered here on the socket's own
 * address, see them without adding a uprobe hit to shared-memory messages.
 * The enter side checks the socket and parks the arguments; the exit side
 * copies exactly the bytes the kernel accepted.
 *
 * Every message leaves through one BPF ring buffer as one or more pieces
 * (struct ipc_hdr + up to PIECE_MAX bytes); the loader reassembles them.
 * Anything that could not be recorded is counted per cause in "counters".
 *
 * Struct offsets of libqb's private structs are those of libqb 1.x and 2.x
 * on x86_64 (docs/protocol.md 9.2); the loader checks the
 * version. bpf/README.md says why each choice was made and what it costs.
 */

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char __license[] SEC("license") = "Dual BSD/GPL";

/* Largest payload of one ring buffer record. */
#define PIECE_MAX 32768
/* Largest message copied; longer ones are truncated and counted. 20 MiB is
 * four times the largest libqb buffer Pacemaker negotiates (5 MiB). */
#define COPY_MAX (20u << 20)
/* Iterations of the copy loop: one per piece plus one per iovec. */
#define MAX_IOV 64
#define COPY_LOOPS (COPY_MAX / PIECE_MAX + 2 * MAX_IOV + 2)
/* Bytes of a ring header path or socket name we look at. */
#define NAME_BUF 128

/* Values shared with capfile (Kind, Hook, Channel, Transport, Flags). */
enum ipc_kind {
	IPC_KIND_MESSAGE = 1,
	IPC_KIND_CONNECT = 2,
	IPC_KIND_DISCONNECT = 3,
};

enum ipc_hook {
	IPC_HOOK_RB_COMMIT = 1,
	IPC_HOOK_SOCK_SEND = 2,
	IPC_HOOK_RB_PEEK = 3,
	IPC_HOOK_RB_READ = 4,
	IPC_HOOK_SOCK_RECV = 5,
	IPC_HOOK_CONNECT = 6,
	IPC_HOOK_DISCONNECT = 7,
};

enum ipc_channel {
	IPC_CHANNEL_NONE = 0,
	IPC_CHANNEL_REQUEST = 1,
	IPC_CHANNEL_RESPONSE = 2,
	IPC_CHANNEL_EVENT = 3,
};

enum ipc_transport {
	IPC_TRANSPORT_SHM = 1,
	IPC_TRANSPORT_SOCKET = 2,
};

enum ipc_flag {
	IPC_FLAG_TRUNCATED = 1,
	IPC_FLAG_RX = 8,
};

/* Indexes into the counters map. */
enum ipc_counter {
	IPC_LOST_RING_FULL = 0,  /* a ring buffer reservation failed */
	IPC_LOST_COPY_FAILED,    /* reading the message from user memory failed */
	IPC_LOST_TOO_LARGE,      /* sent with more than MAX_IOV iovecs: dropped */
	IPC_TRUNCATED_LIMIT,     /* longer than COPY_MAX: truncated */
	IPC_HIT_COMMIT,          /* qb_rb_chunk_commit calls */
	IPC_HIT_SOCK,            /* send-side syscalls on a libqb socket */
	IPC_HIT_LIFECYCLE,       /* connect and disconnect probe hits */
	IPC_HIT_RX,              /* receive-side probe hits */
	IPC_SKIP_OTHER_RING,     /* commits to a ring that is not IPC (blackbox) */
	IPC_SKIP_FILTER,         /* messages dropped by --pid/--comm/--service */
	IPC_EXECS,               /* execs put in the execs map */
	IPC_EXECS_UNSEEN,        /* execs the execs map had no room for */
	IPC_COUNTER_MAX,
};

/*
 * struct ipc_hdr starts every ring buffer record. All pieces of a message
 * carry the same header except offset and len.
 */
struct ipc_hdr {
	__u64 ktime;       /* bpf_ktime_get_ns() at the probe */
	__u64 seq;         /* kernel message number, the same in every piece */
	__u32 orig_len;    /* message length as sent */
	__u32 cap_len;     /* bytes the kernel copies in total (<= orig_len) */
	__u32 offset;      /* offset of this piece in the message */
	__u32 len;         /* bytes of data in this piece */
	__u32 pid;         /* writer's tgid, initial pid namespace */
	__u32 tid;
	__u32 nspid;       /* writer's tgid in its own pid namespace */
	__u32 uid;
	__u32 pidns;       /* inode numbers of the pid and mount namespaces */
	__u32 mntns;
	__u32 client_pid;  /* from the connection name; set for --pid only, */
	__u32 server_pid;  /* the loader reads them from conn */
	__u32 max_msg_size; /* connect and disconnect records */
	__u8 kind;
	__u8 hook;
	__u8 channel;
	__u8 transport;
	__u32 flags;
	__u32 _pad;
	char comm[16];
	char service[32];
	char conn[48];     /* "qb-<srvpid>-<clipid>-<fd>-<rand6>" */
};

struct ipc_event {
	struct ipc_hdr hdr;
	__u8 data[PIECE_MAX];
};

/* Run-time knobs, set by the loader before loading. */
const volatile __u32 snaplen = 0; /* 0: whole messages */
const volatile __u8 snap_compressed_whole = 0; /* snaplen spares bzip2 messages */
const volatile __u8 filter_pid = 0;
const volatile __u8 filter_comm = 0;
const volatile __u8 filter_service = 0;
const volatile __u8 filter_pidns = 0;
const volatile __u8 watch_execs = 0; /* fill the execs map for the library watcher */
/* The events ring's size in bytes (the loader sets it with the map's). */
const volatile __u64 ring_size = 16 << 20;

/* Message numbers; global so pieces never mix, whatever the preemption. */
__u64 next_seq = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* the loader sets the configured size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPC_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[16]);
	__type(value, __u8);
} filter_comms SEC(".maps");

/*
 * A process as the connection names of its peers name it: its pid
 * namespace and its pid there.
 */
struct proc_key {
	__u32 pidns;
	__u32 pid;
};

/*
 * The processes whose command --comm names: what is written to them is
 * kept too. Filled by the loader for the processes running at start, then
 * by the exec program and by their own messages.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct proc_key);
	__type(value, __u8);
} comm_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[32]);
	__type(value, __u8);
} filter_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} filter_pidnss SEC(".maps");

/*
 * struct pending parks what an entry probe (or sys_enter) learnt until the
 * matching return probe (or sys_exit) of the same thread runs.
 */
struct pending {
	__u64 src;     /* buffer, iovec array, or pointer to the buffer pointer */
	__u32 iovcnt;  /* > 0: src is an iovec array */
	__s32 nr;      /* syscall number, for syscalls; -1 for probes */
	struct ipc_hdr hdr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending);
} pending_calls SEC(".maps");

/* Client connections being set up: the connection response, by pid_tgid. */
struct connecting {
	__u64 response;
	__u8 transport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct connecting);
} pending_connects SEC(".maps");

/*
 * Processes that own a libqb datagram socket (socket transport). The send
 * syscalls of every other process leave after one lookup here. Filled by
 * the loader for the processes running at start, then by the bind and fork
 * programs below.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);  /* tgid */
	__type(value, __u8);
} socket_owners SEC(".maps");

/* The processes that exec'd since the library watcher last looked (tgid,
 * in the initial pid namespace), when watch_execs: it reads their maps for
 * a libqb not probed yet, instead of walking /proc whenever a process or
 * thread appeared. IPC_EXECS counts what it put there, so that the watcher
 * reads the map only when there is something (a lookup walks every bucket);
 * a full map is counted (IPC_EXECS_UNSEEN): the watcher walks /proc then. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__type(key, __u32);
	__type(value, __u8);
} execs SEC(".maps");

/*
 * The socket transport's syscall hooks slow every system call of every
 * process a little, so the loader attaches them only once a process of that
 * transport exists. A libqb socket server starting (qb_ipcs_us_init) or
 * client connecting (qb_ipcc_us_connect) owns such sockets from then on,
 * and says so through this ring, which the loader waits on.
 */
struct ipc_notice {
	__u64 ktime;
	__u32 pid;
	__u32 _pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} notices SEC(".maps");

/* Keep in BTF the types the loader decodes and its tests check. */
struct ipc_types {
	struct ipc_hdr hdr;
	struct ipc_notice notice;
	enum ipc_kind kind;
	enum ipc_hook hook;
	enum ipc_channel channel;
	enum ipc_transport transport;
	enum ipc_flag flag;
	enum ipc_counter counter;
};
const struct ipc_types *unused_ipc_types __attribute__((unused));

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		__sync_fetch_and_add(v, n);
}

/* ---------------------------------------------------------------------- */
/* Identity                                                                */

/* The initial pid namespace's inode number (include/linux/proc_ns.h). */
#define PROC_PID_INIT_INO 0xEFFFFFFCU

/*
 * task_proc_key names a task's process by its pid namespace and its pid
 * there (tgid: its pid in the initial namespace).
 */
static __always_inline struct proc_key task_proc_key(struct task_struct *task, __u32 tgid)
{
	struct pid *pid = task->group_leader->thread_pid;
	unsigned int level = pid->level;
	struct proc_key k = {.pidns = PROC_PID_INIT_INO, .pid = tgid};
	if (level) {
		/* numbers[] has level+1 entries; the last is the task's own namespace. */
		struct upid up = {};
		bpf_core_read(&up, sizeof(up), &pid->numbers[level & 31]);
		k.pid = up.nr;
		k.pidns = BPF_CORE_READ(up.ns, ns.inum);
	}
	return k;
}

static __always_inline void fill_identity(struct ipc_hdr *h)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->ktime = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->uid = (__u32)bpf_get_current_uid_gid();

	/* Direct loads through the task's BTF pointers: much cheaper than a
	 * bpf_probe_read_kernel() call per field. */
	struct task_struct *task = bpf_get_current_task_btf();
	h->mntns = task->nsproxy->mnt_ns->ns.inum;
	struct proc_key k = task_proc_key(task, h->pid);
	h->nspid = k.pid;
	h->pidns = k.pidns;
}

/* current_proc_key names the current process for comm_procs. */
static __always_inline struct proc_key current_proc_key(void)
{
	return task_proc_key(bpf_get_current_task_btf(), bpf_get_current_pid_tgid() >> 32);
}

__attribute__((noinline)) int conn_pids(struct ipc_hdr *h);

/*
 * comm_ok applies --comm to both ends of a connection, as --pid does: it
 * keeps what processes of the named commands write, and what is written to
 * them, known by the peer pids in the connection name (as the server's pid
 * namespace sees them; the writer's namespace stands for it). It also
 * fills h->comm.
 */
static __always_inline bool comm_ok(struct ipc_hdr *h)
{
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	if (!filter_comm)
		return true;
	struct proc_key k = current_proc_key();
	if (bpf_map_lookup_elem(&filter_comms, h->comm)) {
		if (!bpf_map_lookup_elem(&comm_procs, &k)) {
			__u8 one = 1;
			bpf_map_update_elem(&comm_procs, &k, &one, BPF_ANY);
		}
		return true;
	}
	conn_pids(h);
	k.pid = h->client_pid;
	if (k.pid && bpf_map_lookup_elem(&comm_procs, &k))
		return true;
	k.pid = h->server_pid;
	return k.pid && bpf_map_lookup_elem(&comm_procs, &k);
}

/*
 * conn_pids fills h->server_pid and h->client_pid from h->conn
 * ("qb-<srvpid>-<clipid>-<fd>-<rand6>"). Only --pid needs them in the
 * kernel; the loader reads them from the connection name. Global, with its
 * counters in h, for the verifier (see parse_name).
 */
__attribute__((noinline)) int conn_pids(struct ipc_hdr *h)
{
	if (!h)
		return 0;
	volatile __u32 *field = &h->_pad, *srv = &h->server_pid, *cli = &h->client_pid;
	*field = 0;
	*srv = 0;
	*cli = 0;
	for (int i = 3; i < sizeof(h->conn); i++) {
		char c = h->conn[i];
		if (c == '-') {
			if (*field == 1)
				break;
			*field = 1;
		} else if (c >= '0' && c <= '9') {
			if (*field == 0)
				*srv = *srv * 10 + (c - '0');
			else
				*cli = *cli * 10 + (c - '0');
		} else {
			break;
		}
	}
	*field = 0;
	return 0;
}

/* pid_ok applies --pid to the writer and to both ends named by the connection. */
static __always_inline bool pid_ok(struct ipc_hdr *h)
{
	if (!filter_pid)
		return true;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_lookup_elem(&filter_pids, &tgid))
		return true;
	conn_pids(h);
	if (h->server_pid && bpf_map_lookup_elem(&filter_pids, &h->server_pid))
		return true;
	if (h->client_pid && bpf_map_lookup_elem(&filter_pids, &h->client_pid))
		return true;
	return false;
}

/* pidns_ok applies --ns-of: the writer must live in one of the given pid namespaces. */
static __always_inline bool pidns_ok(void)
{
	if (!filter_pidns)
		return true;
	__u32 inum = current_proc_key().pidns;
	return bpf_map_lookup_elem(&filter_pidnss, &inum) != NULL;
}

/* pidns_ok_filled is pidns_ok for a header fill_identity has filled. */
static __always_inline bool pidns_ok_filled(const struct ipc_hdr *h)
{
	if (!filter_pidns)
		return true;
	return bpf_map_lookup_elem(&filter_pidnss, &h->pidns) != NULL;
}

static __always_inline bool service_ok(const struct ipc_hdr *h)
{
	if (!filter_service)
		return true;
	return bpf_map_lookup_elem(&filter_services, h->service) != NULL;
}

/* ---------------------------------------------------------------------- */
/* Names                                                                   */

/* How the text after "/dev/shm/qb-<srv>-<cli>-<fd>-<rand6>/qb-" is built. */
enum name_form {
	NAME_RING_HEADER, /* "<chan>-<svc>-header": shared ring header path */
	NAME_RING_BASE,   /* "<chan>-<svc>": ring base name (connect response) */
	NAME_SOCK_TX,     /* "<svc>-<suffix>": datagram socket, sending side */
	NAME_SOCK_RX,     /* "<svc>-<suffix>": datagram socket, receiving side */
	NAME_SOCK_BASE,   /* "<svc>": socket base name (connect response) */
	NAME_DESCRIPTION, /* nothing: connection description "<dir>/qb" */
};

/*
 * struct name_buf holds a libqb name: a ring header path, a socket's bound
 * name or a connection description. The padding lets parse_name load whole
 * words near the end without bounds checks; the reader keeps it zeroed.
 */
struct name_buf {
	char s[NAME_BUF];
	char pad[16];
} __attribute__((aligned(8)));

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* word loads 8 bytes at offset off of b, aligned or not (x86 allows both). */
static __always_inline __u64 word(const struct name_buf *b, int off)
{
	return *(const __u64 *)(b->s + off);
}

/* match returns the high bit of each byte of v equal to c; only the lowest
 * flagged byte is reliable, which is the one we use. */
static __always_inline __u64 match(__u64 v, __u8 c)
{
	v ^= c * ONES;
	return (v - ONES) & ~v & HIGHS;
}

/* first returns the index of the lowest byte flagged in m (m != 0). */
static __always_inline int first(__u64 m)
{
	int i = 0;
	if (!(m & 0xffffffffULL)) {
		i += 4;
		m >>= 32;
	}
	if (!(m & 0xffff)) {
		i += 2;
		m >>= 16;
	}
	if (!(m & 0xff))
		i += 1;
	return i;
}

/* low returns a mask of the k lowest bytes of a word, k clamped to [0, 8]. */
static __always_inline __u64 low(int k)
{
	if (k <= 0)
		return 0;
	if (k >= 8)
		return ~0ULL;
	return (1ULL << (k * 8)) - 1;
}

static __always_inline bool at(const struct name_buf *b, int i, char c)
{
	return b->s[i & (NAME_BUF - 1)] == c;
}

/* ends_with reports whether b[0:n) ends with the len bytes of s. */
static __always_inline bool ends_with(const struct name_buf *b, int n, const char *s, int len)
{
	if (n < len)
		return false;
#pragma unroll
	for (int i = 0; i < 10; i++) {
		if (i >= len)
			break;
		if (!at(b, n - len + i, s[i]))
			return false;
	}
	return true;
}

/* "/dev/shm" and "/qb-" as little-endian words */
#define DEV_SHM 0x6d68732f7665642fULL
#define SLASH_QB 0x2d62712fU

/*
 * parse_name reads a libqb name of n bytes in b (n < 0: up to its NUL) and
 * fills h->conn, h->channel and h->service. It returns 0 when b is not a
 * libqb IPC name (for example a blackbox ring, "/dev/shm/qb-corosync-...").
 * The names look like "/dev/shm/qb-<srvpid>-<clipid>-<fd>-<rand6>/qb-...".
 *
 * It works on words rather than characters and is a global function: the
 * verifier checks it once, on its own, instead of once per state of every
 * caller. Positions found in the data (the '/', the end) are laundered
 * through h: the verifier then sees one unknown value, not one exact value
 * per possible position, and the states it walks stay few.
 */
__attribute__((noinline)) int parse_name(const struct name_buf *b, int n, struct ipc_hdr *h, int form)
{
	if (!b || !h)
		return 0;
	volatile __u32 *launder = &h->_pad;

	/* "/dev/shm/qb-" then a digit (the server pid) */
	if (word(b, 0) != DEV_SHM || (__u32)word(b, 8) != SLASH_QB || b->s[12] < '0' || b->s[12] > '9')
		return 0;

	/* The connection key runs from "qb-" (offset 9) to the next '/'; it
	 * has at least 15 bytes, so the '/' is at 24 or later. */
	int slash = 0;
#pragma unroll
	for (int k = 3; k < 8; k++) {
		__u64 m = match(word(b, k * 8), '/');
		if (m) {
			slash = k * 8 + first(m);
			break;
		}
	}
	*launder = slash;
	slash = *launder & 63;
	if (slash < 24 || slash - 9 >= sizeof(h->conn))
		return 0;

	if (n < 0) {
#pragma unroll
		for (int k = 3; k < NAME_BUF / 8; k++) {
			__u64 m = match(word(b, k * 8), 0);
			if (m) {
				n = k * 8 + first(m);
				break;
			}
		}
		if (n < 0)
			return 0;
		*launder = n;
		n = *launder & (NAME_BUF - 1);
	}
	*launder = 0;
	if (n >= NAME_BUF || n < slash + 3)
		return 0;

	__u64 *conn = (__u64 *)h->conn;
#pragma unroll
	for (int j = 0; j < sizeof(h->conn) / 8; j++)
		conn[j] = word(b, 9 + 8 * j) & low(slash - 9 - 8 * j);

	if (form == NAME_DESCRIPTION)
		return n == slash + 3 && at(b, slash + 1, 'q') && at(b, slash + 2, 'b');

	/* "/qb-" after the key */
	if ((__u32)word(b, slash) != SLASH_QB)
		return 0;
	int rest = slash + 4;
	int svc = rest, end = n;
	switch (form) {
	case NAME_RING_HEADER:
	case NAME_RING_BASE:
		if (at(b, rest, 'r') && at(b, rest + 2, 'q')) {
			h->channel = IPC_CHANNEL_REQUEST;
			svc = rest + 8; /* "request-" */
		} else if (at(b, rest, 'r') && at(b, rest + 2, 's')) {
			h->channel = IPC_CHANNEL_RESPONSE;
			svc = rest + 9; /* "response-" */
		} else if (at(b, rest, 'e')) {
			h->channel = IPC_CHANNEL_EVENT;
			svc = rest + 6; /* "event-" */
		} else {
			return 0;
		}
		if (form == NAME_RING_HEADER) {
			if (!ends_with(b, n, "-header", 7))
				return 0;
			end = n - 7;
		}
		break;
	case NAME_SOCK_TX:
	case NAME_SOCK_RX:
		/* Service names may contain '-' (stonith-ng): match the suffix. */
		if (ends_with(b, n, "-event-tx", 9)) {
			/* server's event socket: sends events */
			if (form == NAME_SOCK_RX)
				return 0;
			h->channel = IPC_CHANNEL_EVENT;
			end = n - 9;
		} else if (ends_with(b, n, "-request", 8)) {
			/* server's socket: receives requests, sends responses */
			h->channel = form == NAME_SOCK_TX ? IPC_CHANNEL_RESPONSE : IPC_CHANNEL_REQUEST;
			end = n - 8;
		} else if (ends_with(b, n, "-response", 9)) {
			/* client's socket: sends requests, receives responses */
			h->channel = form == NAME_SOCK_TX ? IPC_CHANNEL_REQUEST : IPC_CHANNEL_RESPONSE;
			end = n - 9;
		} else if (ends_with(b, n, "-event", 6)) {
			/* client's event socket: receives events */
			if (form == NAME_SOCK_TX)
				return 0;
			h->channel = IPC_CHANNEL_EVENT;
			end = n - 6;
		} else {
			return 0;
		}
		break;
	case NAME_SOCK_BASE:
		break;
	default:
		return 0;
	}

	int len = end - svc;
	if (len <= 0)
		return 0;
	if (len >= sizeof(h->service))
		len = sizeof(h->service) - 1;
	__u64 *service = (__u64 *)h->service;
#pragma unroll
	for (int j = 0; j < sizeof(h->service) / 8; j++)
		service[j] = word(b, (svc + 8 * j) & (NAME_BUF - 1)) & low(len - 8 * j);
	return 1;
}

/* ring_name reads the shared header path of a libqb ring buffer (rb). */
static __always_inline int ring_name(const void *rb, struct name_buf *b)
{
	const void *shared_hdr = NULL;
	/* struct qb_ringbuffer_s: shared_hdr @8 */
	if (bpf_probe_read_user(&shared_hdr, sizeof(shared_hdr), rb + 8))
		return -1;
	/* struct qb_ringbuffer_shared_s: hdr_path @12 */
	int n = bpf_probe_read_user_str(b->s, NAME_BUF, shared_hdr + 12);
	return n > 0 ? n - 1 : -1;
}

/*
 * sock_name finds the socket behind fd and, when it is an AF_UNIX datagram
 * socket bound to an abstract name, copies the name (without the leading
 * NUL) into buf. It returns the name's length or -1.
 */
static __always_inline int sock_name(int fd, struct name_buf *b)
{
	/* Direct loads where the task's BTF pointers reach; reads of whole
	 * spans elsewhere: each bpf_probe_read_kernel() is a helper call. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return -1;
	struct file **fds = fdt->fd;
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return -1;
	struct socket *sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return -1;

	/* A socket's file points back at it: that tells sockets from other
	 * files without reading the inode. */
	__u64 span[4] = {};
	__u32 o_type = bpf_core_field_offset(struct socket, type);
	__u32 o_file = bpf_core_field_offset(struct socket, file);
	__u32 o_sk = bpf_core_field_offset(struct socket, sk);
	if (o_type + 2 > sizeof(span) || o_file + 8 > sizeof(span) || o_sk + 8 > sizeof(span))
		return -1; /* not the layout of any kernel so far */
	if (bpf_probe_read_kernel(span, sizeof(span), sock))
		return -1;
	const char *sp = (const char *)span;
	if (*(struct file **)(sp + o_file) != file || *(short *)(sp + o_type) != SOCK_DGRAM)
		return -1;
	struct sock *sk = *(struct sock **)(sp + o_sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		return -1;
	struct unix_address *addr = BPF_CORE_READ((struct unix_sock *)sk, addr);
	if (!addr)
		return -1;

	/* struct unix_address: len, then the address: family, NUL, name */
	__u64 head[4] = {};
	__u32 o_len = bpf_core_field_offset(struct unix_address, len);
	__u32 o_name = bpf_core_field_offset(struct unix_address, name);
	if (o_len + 4 > sizeof(head) || o_name + 2 + 13 > sizeof(head))
		return -1;
	if (bpf_probe_read_kernel(head, sizeof(head), addr))
		return -1;
	const char *hp = (const char *)head;
	/* len counts sun_family (2 bytes), the leading NUL and "/dev/shm/qb-". */
	if (*(int *)(hp + o_len) < 2 + 1 + 12)
		return -1;
	const char *name = hp + o_name + 2;
	if (name[0] != 0 || name[1] != '/' || name[2] != 'd' || name[9] != '/' || name[10] != 'q' || name[11] != 'b' || name[12] != '-')
		return -1;
	const char *path = (const char *)&addr->name[0].sun_path[0];
	int n = bpf_probe_read_kernel_str(b->s, NAME_BUF, path + 1);
	return n > 0 ? n - 1 : -1;
}

/* ---------------------------------------------------------------------- */
/* Copying                                                                 */

struct copy_ctx {
	struct ipc_hdr hdr; /* template; offset and len change per piece */
	__u64 src;          /* user address of the next byte of this segment */
	__u64 iov;          /* user address of the next struct iovec */
	__u32 seg_left;     /* bytes left in this segment */
	__u32 iov_left;     /* iovecs not read yet */
	__u32 left;         /* bytes still to copy */
	__u32 lost;         /* counter index + 1 when the copy was abandoned */
};

struct iovec_user {
	__u64 base;
	__u64 len;
};

static __always_inline __u64 wakeup_flags(void)
{
	/* Wake the reader only when the ring fills up; it polls otherwise. */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail > ring_size / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * PIECE reserves a record whose data holds C bytes when the piece fits in
 * it, and copies the piece into it. Reservations are of constant size (the
 * verifier wants it), so pieces come in power-of-two classes.
 */
#define PIECE(C)                                                                    \
	if (n <= (C)) {                                                             \
		e = bpf_ringbuf_reserve(&events, sizeof(struct ipc_hdr) + (C), 0); \
		if (!e)                                                             \
			goto ring_full;                                             \
		if (bpf_probe_read_user(e->data, n, (const void *)c->src))          \
			goto copy_failed;                                           \
		goto copied;                                                        \
	}

/*
 * copy_step emits the next piece of the message described by c, or loads the
 * next iovec. It returns 1 when the copy is over. Global, like parse_name:
 * the verifier checks it once with c unknown, instead of walking every
 * iteration of the copy loop with exact offsets.
 */
__attribute__((noinline)) int copy_step(struct copy_ctx *c)
{
	struct ipc_event *e;

	if (!c || c->left == 0)
		return 1;
	if (c->seg_left == 0) {
		struct iovec_user v;
		if (c->iov_left == 0) {
			c->lost = IPC_LOST_COPY_FAILED + 1;
			return 1;
		}
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)c->iov)) {
			c->lost = IPC_LOST_COPY_FAILED + 1;
			return 1;
		}
		c->iov += sizeof(v);
		c->iov_left--;
		c->src = v.base;
		c->seg_left = v.len < c->left ? v.len : c->left;
		return 0;
	}

	__u32 n = c->seg_left < PIECE_MAX ? c->seg_left : PIECE_MAX;
	PIECE(128)
	PIECE(256)
	PIECE(512)
	PIECE(1024)
	PIECE(2048)
	PIECE(4096)
	PIECE(8192)
	PIECE(16384)
	PIECE(32768)
	return 1; /* not reached: n <= PIECE_MAX */

copied:
	__builtin_memcpy(&e->hdr, &c->hdr, sizeof(e->hdr));
	e->hdr.len = n;
	c->hdr.offset += n;
	c->left -= n;
	c->seg_left -= n;
	c->src += n;
	bpf_ringbuf_submit(e, c->left == 0 ? wakeup_flags() : BPF_RB_NO_WAKEUP);
	return c->left == 0;

copy_failed:
	bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
	c->lost = IPC_LOST_COPY_FAILED + 1;
	return 1;

ring_full:
	c->lost = IPC_LOST_RING_FULL + 1;
	return 1;
}

static long copy_piece(__u32 index, void *data)
{
	return copy_step(data) ? 1 : 0;
}

/*
 * compressed reports whether the message of len bytes at src (or behind its first iovec)
 * carries bzip2-compressed text: Pacemaker's dialect A envelope with a
 * compressed length at 28, flag bit 0 at 32 and version 1 at 36. Its start
 * tag is inside the compressed stream, so a cut copy would show nothing of
 * it. Only messages snaplen would cut pay this read.
 */
static __always_inline bool compressed(__u64 src, __u32 iovcnt, __u32 len)
{
	if (iovcnt) {
		struct iovec_user v;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)src) || v.len < 40)
			return false;
		src = v.base;
	} else if (len < 40) {
		return false;
	}
	__u32 env[3]; /* size_compressed, flags, version byte first */
	if (bpf_probe_read_user(env, sizeof(env), (void *)(src + 28)))
		return false;
	return env[0] && (env[1] & 1) && (env[2] & 0xff) == 1;
}

/*
 * emit sends the message described by c->hdr (orig_len set) whose bytes are
 * at src (iovcnt == 0) or described by the iovec array at src.
 */
static __always_inline void emit(struct copy_ctx *c, __u64 src, __u32 iovcnt)
{
	__u32 cap = c->hdr.orig_len;
	if (snaplen && cap > snaplen && !(snap_compressed_whole && compressed(src, iovcnt, cap))) {
		cap = snaplen;
		c->hdr.flags |= IPC_FLAG_TRUNCATED;
	}
	if (iovcnt > MAX_IOV) {
		/* Not from libqb, which sends one or two iovecs. */
		count(IPC_LOST_TOO_LARGE, 1);
		return;
	}
	if (cap > COPY_MAX) {
		cap = COPY_MAX;
		c->hdr.flags |= IPC_FLAG_TRUNCATED;
		count(IPC_TRUNCATED_LIMIT, 1);
	}
	c->hdr.cap_len = cap;
	c->hdr.offset = 0;
	c->hdr.seq = 0;
	c->left = cap;
	c->lost = 0;
	if (iovcnt) {
		c->iov = src;
		c->iov_left = iovcnt;
		c->seg_left = 0;
	} else {
		c->src = src;
		c->iov_left = 0;
		c->seg_left = cap;
	}

	if (cap == 0) {
		/* Nothing to copy: a lifecycle record, or snaplen hid it all. */
		struct ipc_hdr *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(IPC_LOST_RING_FULL, 1);
			return;
		}
		__builtin_memcpy(e, &c->hdr, sizeof(*e));
		e->len = 0;
		bpf_ringbuf_submit(e, wakeup_flags());
	} else if (iovcnt == 0 && cap <= PIECE_MAX) {
		/* One piece, the common case: no loop. */
		copy_step(c);
		if (c->lost) {
			count(c->lost - 1, 1);
			return;
		}
	} else {
		/* Pieces need a message number to be put together again; a lone
		 * piece does not, and skipping the shared counter spares the CPUs
		 * a cache line bouncing between them on every message. */
		c->hdr.seq = __sync_fetch_and_add(&next_seq, 1) + 1;
		bpf_loop(COPY_LOOPS, copy_piece, c, 0);
		if (c->lost) {
			count(c->lost - 1, 1);
			return;
		}
		if (c->left) {
			/* The iovecs held fewer bytes than the syscall returned. */
			count(IPC_LOST_COPY_FAILED, 1);
			return;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Shared memory: qb_rb_chunk_commit(rb, len)                              */

/*
 * The start of struct qb_ringbuffer_shared_s, read in one go from write_pt
 * on; _align puts hdr_path on a word boundary for parse_name.
 */
struct ring_shared {
	__u32 _align;
	__u32 write_pt;
	__u32 read_pt;
	__u32 word_size;
	struct name_buf hdr_path; /* char hdr_path[PATH_MAX]: its start */
};

/*
 * A writer thread's ring, as its first message showed it. Every helper call
 * costs (speculation barriers make each call and return dear), so the next
 * messages of the thread on the ring read user memory once before the copy
 * (the write pointer and the start of the header path, which tells that the
 * ring is still the one cached) and skip the name parser, the identity and
 * the filters.
 */
struct ring_key {
	__u64 pid_tgid;
	__u64 rb;
};

/* Bytes of the header path compared per message: "/dev/shm/", the
 * connection key (unique per connection) and the channel's first letters. */
#define PATH_CHECK 64

enum ring_verdict {
	RING_KEEP = 1,
	RING_FILTERED, /* an IPC ring that --pid, --service or --ns-of leave out */
	RING_OTHER,    /* not an IPC ring (a blackbox log) */
};

struct ring_seen {
	__u64 shared_hdr;
	__u64 shared_data;
	__u32 verdict;
	__u32 _pad;
	struct ring_shared sh; /* as read when learnt */
	struct ipc_hdr hdr;    /* names and identity; the rest is per message */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ring_key);
	__type(value, struct ring_seen);
} rings SEC(".maps");

/* What a new ring_seen starts from. */
const struct ring_seen ring_unknown = {};

/*
 * ring_learn reads the ring at key->rb, written by the current thread, into
 * seen (its entry in rings). Global, like parse_name, and for the stack: the
 * probe's own frame holds the message's header.
 */
__attribute__((noinline)) int ring_learn(struct ring_key *key, struct ring_seen *seen)
{
	if (!key || !seen)
		return -1;
	seen->verdict = 0;
	/* struct qb_ringbuffer_s: shared_hdr @8, shared_data @16 */
	if (bpf_probe_read_user(&seen->shared_hdr, 16, (const void *)key->rb + 8) ||
	    bpf_probe_read_user(&seen->sh.write_pt, 12 + NAME_BUF, (const void *)seen->shared_hdr))
		return -1;
	seen->sh.hdr_path.s[NAME_BUF - 1] = 0;
	__builtin_memset(&seen->hdr, 0, sizeof(seen->hdr));
	if (!parse_name(&seen->sh.hdr_path, -1, &seen->hdr, NAME_RING_HEADER)) {
		seen->verdict = RING_OTHER;
		return 0;
	}
	/* The identity before the pid namespace filter, which reads it. */
	fill_identity(&seen->hdr);
	bool keep = comm_ok(&seen->hdr) && pid_ok(&seen->hdr) && service_ok(&seen->hdr) && pidns_ok_filled(&seen->hdr);
	seen->verdict = keep ? RING_KEEP : RING_FILTERED;
	return 0;
}

/* The start of the shared header, read per message once the ring is known. */
struct ring_head {
	__u32 _align;
	__u32 write_pt;
	__u32 read_pt;
	__u32 word_size;
	__u64 path[PATH_CHECK / 8];
};

/* same_ring reports whether head still shows the ring seen was learnt from. */
static __always_inline bool same_ring(const struct ring_head *head, const struct ring_seen *seen)
{
	const __u64 *p = (const __u64 *)seen->sh.hdr_path.s;
	__u64 diff = 0;
#pragma unroll
	for (int i = 0; i < PATH_CHECK / 8; i++)
		diff |= head->path[i] ^ p[i];
	return diff == 0;
}

SEC("uprobe")
int BPF_KPROBE(rb_commit, void *rb, __u64 len)
{
	struct ring_key key = {.pid_tgid = bpf_get_current_pid_tgid(), .rb = (__u64)rb};
	struct ring_head head;
	struct copy_ctx c = {};
	__u32 write_pt;

	count(IPC_HIT_COMMIT, 1);
	struct ring_seen *seen = bpf_map_lookup_elem(&rings, &key);
	if (seen && !bpf_probe_read_user(&head.write_pt, 12 + PATH_CHECK, (const void *)seen->shared_hdr) &&
	    same_ring(&head, seen)) {
		write_pt = head.write_pt;
		c.hdr.ktime = bpf_ktime_get_ns();
	} else {
		/* Unknown, or the address now holds another ring. */
		if (!seen) {
			bpf_map_update_elem(&rings, &key, &ring_unknown, BPF_ANY);
			seen = bpf_map_lookup_elem(&rings, &key);
		}
		if (!seen || ring_learn(&key, seen)) {
			if (seen)
				bpf_map_delete_elem(&rings, &key);
			count(IPC_LOST_COPY_FAILED, 1);
			return 0;
		}
		write_pt = seen->sh.write_pt;
		c.hdr.ktime = seen->hdr.ktime;
	}
	if (seen->verdict == RING_OTHER) {
		count(IPC_SKIP_OTHER_RING, 1);
		return 0;
	}
	__u64 ktime = c.hdr.ktime;
	__builtin_memcpy(&c.hdr, &seen->hdr, sizeof(c.hdr));
	c.hdr.ktime = ktime;
	/* --comm follows processes as they appear: never cached. */
	if (seen->verdict != RING_KEEP || (filter_comm && !comm_ok(&c.hdr))) {
		count(IPC_SKIP_FILTER, 1);
		return 0;
	}

	/* The chunk starts at write_pt (not yet advanced): two header words,
	 * then the payload, contiguous thanks to libqb's double mapping. */
	c.hdr.kind = IPC_KIND_MESSAGE;
	c.hdr.hook = IPC_HOOK_RB_COMMIT;
	c.hdr.transport = IPC_TRANSPORT_SHM;
	c.hdr.orig_len = len;
	emit(&c, seen->shared_data + 4 * ((__u64)write_pt + 2), 0);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Socket transport: send(), writev(), sendmsg() on libqb datagram sockets */

struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__s64 ret;
};

/* park_sock checks fd and remembers the call until its sys_exit. */
static __always_inline void park_sock(int nr, int fd, __u64 src, __u32 iovcnt, bool rx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!bpf_map_lookup_elem(&socket_owners, &tgid))
		return;

	struct pending p = {};
	struct name_buf name = {};
	int n = sock_name(fd, &name);
	if (n < 0 || !parse_name(&name, n, &p.hdr, rx ? NAME_SOCK_RX : NAME_SOCK_TX)) {
		/* Should an earlier exit have been missed, its record must not
		 * meet this call's exit. */
		bpf_map_delete_elem(&pending_calls, &id);
		return;
	}
	count(rx ? IPC_HIT_RX : IPC_HIT_SOCK, 1);
	if (!comm_ok(&p.hdr) || !pid_ok(&p.hdr) || !service_ok(&p.hdr) || !pidns_ok()) {
		count(IPC_SKIP_FILTER, 1);
		return;
	}
	p.src = src;
	p.iovcnt = iovcnt;
	p.hdr.kind = IPC_KIND_MESSAGE;
	p.hdr.hook = rx ? IPC_HOOK_SOCK_RECV : IPC_HOOK_SOCK_SEND;
	p.hdr.transport = IPC_TRANSPORT_SOCKET;
	if (rx)
		p.hdr.flags = IPC_FLAG_RX;
	p.hdr.ktime = bpf_ktime_get_ns();
	p.nr = nr;
	bpf_map_update_elem(&pending_calls, &id, &p, BPF_ANY);
}

/* A parked call older than this was not followed by its exit (the thread
 * died): the record is not used for a later, unrelated call. libqb's
 * datagram sockets do not block, so a real call takes microseconds. */
#define PARK_MAX_NS 1000000000ULL

/* emit_parked sends a parked message once the call (syscall nr, or -1 for
 * a return probe) returned ret bytes. */
static __always_inline void emit_parked(int nr, __s64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_calls, &id);
	if (!p)
		return;
	if (p->nr != nr) {
		/* Parked by another call whose exit was missed. */
		bpf_map_delete_elem(&pending_calls, &id);
		return;
	}
	struct copy_ctx c = {};
	__builtin_memcpy(&c.hdr, &p->hdr, sizeof(c.hdr));
	__u64 src = p->src;
	__u32 iovcnt = p->iovcnt;
	bpf_map_delete_elem(&pending_calls, &id);
	if (ret <= 0)
		return;
	__u64 parked = c.hdr.ktime;
	fill_identity(&c.hdr);
	if (parked) {
		/* socket calls: the time the call was made */
		if (c.hdr.ktime - parked > PARK_MAX_NS)
			return;
		c.hdr.ktime = parked;
	}
	c.hdr.orig_len = ret;
	emit(&c, src, iovcnt);
}

/* Every libqb message has at least a 16-byte header; shorter sends (the
 * one-byte wake-ups of the shared-memory transport) leave at once. */
#define MSG_MIN 16

SEC("tracepoint/syscalls/sys_enter_sendto")
int sys_enter_sendto(struct sys_enter_ctx *ctx)
{
	/* sendto(fd, buf, len, flags, addr, addrlen); libqb's send() */
	if (ctx->args[2] < MSG_MIN)
		return 0;
	park_sock(ctx->nr, ctx->args[0], ctx->args[1], 0, false);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int sys_exit_sendto(struct sys_exit_ctx *ctx)
{
	/* Nothing was parked for a short send; a failed one may have been. */
	if (ctx->ret >= 0 && ctx->ret < MSG_MIN)
		return 0;
	emit_parked(ctx->nr, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int sys_enter_writev(struct sys_enter_ctx *ctx)
{
	/* writev(fd, iov, iovcnt); libqb's sendv */
	if (ctx->args[2] > 0)
		park_sock(ctx->nr, ctx->args[0], ctx->args[1], ctx->args[2] > 0xffff ? 0xffff : ctx->args[2], false);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_writev")
int sys_exit_writev(struct sys_exit_ctx *ctx)
{
	emit_parked(ctx->nr, ctx->ret);
	return 0;
}

struct user_msghdr_x86 {
	__u64 msg_name;
	__s32 msg_namelen;
	__u32 _pad;
	__u64 msg_iov;
	__u64 msg_iovlen;
};

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int sys_enter_sendmsg(struct sys_enter_ctx *ctx)
{
	/* sendmsg(fd, msg, flags): libqb does not use it for data today. */
	struct user_msghdr_x86 m;
	if (bpf_probe_read_user(&m, sizeof(m), (const void *)ctx->args[1]) || m.msg_iovlen == 0)
		return 0;
	park_sock(ctx->nr, ctx->args[0], m.msg_iov, m.msg_iovlen > 0xffff ? 0xffff : m.msg_iovlen, false);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int sys_exit_sendmsg(struct sys_exit_ctx *ctx)
{
	emit_parked(ctx->nr, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int sys_enter_recvfrom(struct sys_enter_ctx *ctx)
{
	/* recvfrom(fd, buf, len, flags, ...): libqb peeks at the header first. */
	if (ctx->args[3] & MSG_PEEK)
		return 0;
	park_sock(ctx->nr, ctx->args[0], ctx->args[1], 0, true);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int sys_exit_recvfrom(struct sys_exit_ctx *ctx)
{
	emit_parked(ctx->nr, ctx->ret);
	return 0;
}

/* The start of a struct sockaddr_un naming a libqb datagram socket. */
struct qb_sockaddr {
	__u16 family;
	char path[14]; /* "\0/dev/shm/qb-" */
};

SEC("tracepoint/syscalls/sys_enter_bind")
int sys_enter_bind(struct sys_enter_ctx *ctx)
{
	/* bind(fd, addr, addrlen): libqb binds each datagram socket to an
	 * abstract name under /dev/shm/qb-; its process joins socket_owners
	 * (a failed bind only costs that process a closer look at its sends). */
	struct qb_sockaddr a = {};
	if (ctx->args[2] < sizeof(a) || bpf_probe_read_user(&a, sizeof(a), (const void *)ctx->args[1]))
		return 0;
	if (a.family != AF_UNIX || a.path[0] != 0 || a.path[1] != '/' || a.path[2] != 'd' || a.path[3] != 'e' ||
	    a.path[4] != 'v' || a.path[5] != '/' || a.path[6] != 's' || a.path[7] != 'h' || a.path[8] != 'm' ||
	    a.path[9] != '/' || a.path[10] != 'q' || a.path[11] != 'b' || a.path[12] != '-')
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;
	bpf_map_update_elem(&socket_owners, &tgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork, struct task_struct *parent, struct task_struct *child)
{
	/* A child inherits its parent's sockets. */
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	if (ptgid == ctgid || !bpf_map_lookup_elem(&socket_owners, &ptgid))
		return 0;
	__u8 one = 1;
	bpf_map_update_elem(&socket_owners, &ctgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task)
{
	/* libqb opens its sockets close-on-exec: a program that execs (the
	 * resource agents the executor forks) owns none, so the set keeps to
	 * the daemons and tools themselves. */
	__u32 tgid = task->tgid;
	bpf_map_delete_elem(&socket_owners, &tgid);

	if (watch_execs) {
		__u8 one = 1;
		count(bpf_map_update_elem(&execs, &tgid, &one, BPF_ANY) ? IPC_EXECS_UNSEEN : IPC_EXECS, 1);
	}

	/* A new program, a new command name: keep comm_procs in step. */
	if (filter_comm) {
		char comm[16];
		struct proc_key k = current_proc_key();
		bpf_get_current_comm(comm, sizeof(comm));
		if (bpf_map_lookup_elem(&filter_comms, comm)) {
			__u8 one = 1;
			bpf_map_update_elem(&comm_procs, &k, &one, BPF_ANY);
		} else {
			bpf_map_delete_elem(&comm_procs, &k);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Receive side (--rx): qb_rb_chunk_peek (server), qb_rb_chunk_read (client) */

static __always_inline void park_ring(const void *rb, __u64 out, __u8 hook)
{
	struct pending p = {};
	struct name_buf name = {};

	count(IPC_HIT_RX, 1);
	int n = ring_name(rb, &name);
	if (n < 0 || !parse_name(&name, n, &p.hdr, NAME_RING_HEADER)) {
		count(IPC_SKIP_OTHER_RING, 1);
		return;
	}
	if (!comm_ok(&p.hdr) || !pid_ok(&p.hdr) || !service_ok(&p.hdr) || !pidns_ok()) {
		count(IPC_SKIP_FILTER, 1);
		return;
	}
	p.src = out;
	p.nr = -1;
	p.hdr.kind = IPC_KIND_MESSAGE;
	p.hdr.hook = hook;
	p.hdr.transport = IPC_TRANSPORT_SHM;
	p.hdr.flags = IPC_FLAG_RX;
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_calls, &id, &p, BPF_ANY);
}

SEC("uprobe")
int BPF_KPROBE(rb_peek, void *rb, void **data_out)
{
	park_ring(rb, (__u64)data_out, IPC_HOOK_RB_PEEK);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(rb_peek_ret, long ret)
{
	/* The chunk stays in the ring until qb_rb_chunk_reclaim(). */
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_calls, &id);
	if (!p)
		return 0;
	void *data = NULL;
	if (ret > 0 && bpf_probe_read_user(&data, sizeof(data), (const void *)p->src) == 0)
		p->src = (__u64)data;
	else
		ret = 0;
	emit_parked(-1, ret);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(rb_read, void *rb, void *data_out)
{
	park_ring(rb, (__u64)data_out, IPC_HOOK_RB_READ);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(rb_read_ret, long ret)
{
	emit_parked(-1, ret);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Connection lifecycle                                                    */

/*
 * qb_ipcc_shm_connect(c, r) and qb_ipcc_us_connect(c, r) run once per client
 * connection, after the handshake; r is the server's struct
 * qb_ipc_connection_response: max_msg_size @28, request[] @40,
 * response[] @4136. Emitted at return, when it succeeded.
 */
static __always_inline void park_connect(const void *r, __u8 transport)
{
	struct connecting p = {.response = (__u64)r, .transport = transport};
	count(IPC_HIT_LIFECYCLE, 1);
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_connects, &id, &p, BPF_ANY);
}

static __always_inline void emit_connect(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct connecting *p = bpf_map_lookup_elem(&pending_connects, &id);
	if (!p)
		return;
	struct copy_ctx c = {};
	struct name_buf name = {};
	const void *r = (const void *)p->response;
	__u8 transport = p->transport;
	bpf_map_delete_elem(&pending_connects, &id);
	count(IPC_HIT_LIFECYCLE, 1);
	if ((int)ret != 0)
		return;

	c.hdr.transport = transport;
	int n;
	bool ok;
	if (transport == IPC_TRANSPORT_SHM) {
		n = bpf_probe_read_user_str(name.s, NAME_BUF, r + 40) - 1;
		ok = n > 0 && parse_name(&name, n, &c.hdr, NAME_RING_BASE);
	} else {
		n = bpf_probe_read_user_str(name.s, NAME_BUF, r + 4136) - 1;
		ok = n > 0 && parse_name(&name, n, &c.hdr, NAME_SOCK_BASE);
	}
	if (!ok)
		return;
	c.hdr.channel = IPC_CHANNEL_NONE;
	if (!comm_ok(&c.hdr) || !pid_ok(&c.hdr) || !service_ok(&c.hdr) || !pidns_ok())
		return;
	bpf_probe_read_user(&c.hdr.max_msg_size, sizeof(c.hdr.max_msg_size), r + 28);
	fill_identity(&c.hdr);
	c.hdr.kind = IPC_KIND_CONNECT;
	c.hdr.hook = IPC_HOOK_CONNECT;
	emit(&c, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(ipcc_shm_connect, void *conn, void *r)
{
	park_connect(r, IPC_TRANSPORT_SHM);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ipcc_shm_connect_ret, long ret)
{
	emit_connect(ret);
	return 0;
}

/* socket_transport counts the current process among the socket transport's
 * and tells the loader, which attaches the syscall hooks if not yet done. */
static __always_inline void socket_transport(void)
{
	struct ipc_notice n = {.ktime = bpf_ktime_get_ns(), .pid = bpf_get_current_pid_tgid() >> 32};
	__u8 one = 1;
	bpf_map_update_elem(&socket_owners, &n.pid, &one, BPF_ANY);
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	bpf_ringbuf_output(&notices, &n, sizeof(n), BPF_RB_FORCE_WAKEUP);
}

SEC("uprobe")
int BPF_KPROBE(ipcc_us_connect, void *conn, void *r)
{
	socket_transport();
	park_connect(r, IPC_TRANSPORT_SOCKET);
	return 0;
}

/* qb_ipcs_us_init(s): a server of the socket transport starts. */
SEC("uprobe")
int BPF_KPROBE(ipcs_us_init, void *s)
{
	socket_transport();
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ipcc_us_connect_ret, long ret)
{
	emit_connect(ret);
	return 0;
}

/*
 * qb_ipcs_disconnect(c) on the server; struct qb_ipcs_connection: state @0
 * (1 active, 2 established; later calls see 3, shutting down),
 * request.max_msg_size @328, service @1216, description[] @1268;
 * struct qb_ipcs_service: type @0, name[] @4.
 */
SEC("uprobe")
int BPF_KPROBE(ipcs_disconnect, void *conn)
{
	struct copy_ctx c = {};
	struct name_buf name = {};
	__s32 state = 0;

	count(IPC_HIT_LIFECYCLE, 1);
	if (bpf_probe_read_user(&state, sizeof(state), conn) || (state != 1 && state != 2))
		return 0;
	int n = bpf_probe_read_user_str(name.s, NAME_BUF, conn + 1268) - 1;
	if (n <= 0 || !parse_name(&name, n, &c.hdr, NAME_DESCRIPTION))
		return 0;
	const void *svc = NULL;
	__s32 type = -1;
	__u64 max = 0;
	bpf_probe_read_user(&svc, sizeof(svc), conn + 1216);
	if (svc) {
		bpf_probe_read_user(&type, sizeof(type), svc);
		bpf_probe_read_user_str(c.hdr.service, sizeof(c.hdr.service), svc + 4);
	}
	if (!comm_ok(&c.hdr) || !pid_ok(&c.hdr) || !service_ok(&c.hdr) || !pidns_ok())
		return 0;
	bpf_probe_read_user(&max, sizeof(max), conn + 328);
	c.hdr.max_msg_size = max;
	/* enum qb_ipc_type: 0 socket, 1 shared memory */
	c.hdr.transport = type == 0 ? IPC_TRANSPORT_SOCKET : type == 1 ? IPC_TRANSPORT_SHM : 0;
	fill_identity(&c.hdr);
	c.hdr.kind = IPC_KIND_DISCONNECT;
	c.hdr.hook = IPC_HOOK_DISCONNECT;
	emit(&c, 0, 0);
	return 0;
}
