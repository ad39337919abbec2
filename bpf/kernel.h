/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kernel.h: the few kernel types and constants ipc.c needs, instead of a
 * generated vmlinux.h. Struct layouts are not trusted: every struct below is
 * marked preserve_access_index, so clang emits CO-RE relocations and the
 * loader resolves each field against the running kernel's BTF. Only the
 * fields ipc.c reads are declared; their order here does not matter.
 *
 * Exceptions with a fixed layout: pt_regs (the x86_64 uprobe context, a
 * kernel ABI) and the uapi constants.
 */
#ifndef PCMK_TRACE_KERNEL_H
#define PCMK_TRACE_KERNEL_H

/* bpf_tracing.h picks the kernel's pt_regs field names when this is set. */
#define __VMLINUX_H__

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

/* uapi/linux/bpf.h */
enum {
	BPF_ANY = 0,
};
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
};

/* uapi socket and file-mode constants */
#define AF_UNIX 1
#define SOCK_DGRAM 2
#define MSG_PEEK 2
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* x86_64 struct pt_regs (arch/x86/include/asm/ptrace.h): fixed ABI. */
struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};

#define __core __attribute__((preserve_access_index))

struct ns_common {
	unsigned int inum;
} __core;

struct pid_namespace {
	struct ns_common ns;
} __core;

struct upid {
	int nr;
	struct pid_namespace *ns;
} __core;

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __core;

struct mnt_namespace {
	struct ns_common ns;
} __core;

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __core;

struct inode {
	unsigned short i_mode;
} __core;

struct file {
	struct inode *f_inode;
	void *private_data;
} __core;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __core;

struct files_struct {
	struct fdtable *fdt;
} __core;

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	struct files_struct *files;
	struct nsproxy *nsproxy;
} __core;

struct sock_common {
	unsigned short skc_family;
} __core;

struct sock {
	struct sock_common __sk_common;
} __core;

struct sockaddr_un {
	unsigned short sun_family;
	char sun_path[108];
} __core;

struct unix_address {
	int len;
	struct sockaddr_un name[1];
} __core;

struct unix_sock {
	struct sock sk;
	struct unix_address *addr;
} __core;

struct socket {
	short type;
	struct file *file;
	struct sock *sk;
} __core;

#endif /* PCMK_TRACE_KERNEL_H */
