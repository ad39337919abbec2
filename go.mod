module github.com/pcmk-trace/pcmk-trace

go 1.26.0

require (
	github.com/HdrHistogram/hdrhistogram-go v1.1.2
	github.com/beevik/etree v1.8.1
	github.com/cilium/ebpf v0.22.0
	github.com/dsnet/compress v0.0.1
	github.com/gopacket/gopacket v1.7.7
	github.com/spf13/pflag v1.1.0
	golang.org/x/sys v0.50.0
)

require golang.org/x/net v0.55.0 // indirect

tool github.com/cilium/ebpf/cmd/bpf2go
