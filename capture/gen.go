package capture

//go:generate go tool bpf2go -tags linux -target amd64 -type ipc_hdr -type ipc_notice -type ipc_counter ipc ../bpf/ipc.c -- -mcpu=v3 -Wall -Werror
