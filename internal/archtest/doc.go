// Package archtest holds the architecture test: which packages of the
// module may import which, and that only commands print or exit. It has no
// code of its own; see arch_test.go.
package archtest
