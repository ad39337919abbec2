package capture

import "testing"

func TestEmulatedOffset(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		args int
		want int
	}{
		// qb_rb_chunk_commit's first instructions in libqb 2.0.6 (Debian 12),
		// 2.0.8 (Debian 13) and 2.0.10 (sid), as objdump shows them.
		{"test; je", []byte{0x48, 0x85, 0xff, 0x74, 0x6e, 0x4c, 0x8b}, 2, 3},
		{"endbr64; test; je", []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x6a}, 2, 7},
		{"endbr64; mov %rsi,%r8; test; je", []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0x89, 0xf0, 0x48, 0x85, 0xff, 0x74, 0x67}, 2, 10},
		// r8 is the fifth argument: a program reading five must stay at the entry.
		{"mov into an argument read", []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0x89, 0xf0, 0x48, 0x85, 0xff, 0x74, 0x67}, 5, 0},
		{"mov %rax,%rdi first", []byte{0x48, 0x89, 0xc7, 0x74, 0x10}, 1, 0},
		{"mov %rdi,%rax first", []byte{0x48, 0x89, 0xf8, 0x74, 0x10}, 1, 3},
		{"jcc rel32", []byte{0x48, 0x85, 0xff, 0x0f, 0x84, 1, 2, 3, 4}, 1, 3},
		{"endbr64; push %r12", []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54, 0x55}, 2, 4},
		{"push at the entry", []byte{0x41, 0x54, 0x55, 0x53}, 2, 0},
		{"sub $0xa8,%rsp; then the stack guard", []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x81, 0xec, 0xa8, 0, 0, 0, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, 2, 0},
		{"sub $8,%rsp; push", []byte{0x48, 0x83, 0xec, 0x08, 0x53}, 2, 4},
		{"memory operand", []byte{0x48, 0x8b, 0x47, 0x08, 0x74, 0x10}, 1, 0},
		{"cut short", []byte{0x48, 0x85}, 1, 0},
		{"jcc cut short", []byte{0x48, 0x85, 0xff, 0x0f, 0x84, 1}, 1, 0},
		{"empty", nil, 1, 0},
		{"backward jcc", []byte{0x48, 0x85, 0xff, 0x75, 0xfb}, 1, 0},
		{"backward jcc rel32", []byte{0x48, 0x85, 0xff, 0x0f, 0x85, 0xf0, 0xff, 0xff, 0xff}, 1, 0},
	} {
		if got := emulatedOffset(tc.code, tc.args); got != tc.want {
			t.Errorf("%s: offset %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Whatever the bytes, the probe goes on an instruction the kernel emulates,
// inside the code, after instructions that leave the arguments alone.
func FuzzEmulatedOffset(f *testing.F) {
	f.Add([]byte{0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0x89, 0xf0, 0x48, 0x85, 0xff, 0x74, 0x67}, uint8(2))
	f.Add([]byte{0x48, 0x83, 0xec, 0x08, 0x53}, uint8(6))
	f.Fuzz(func(t *testing.T, code []byte, args uint8) {
		off := emulatedOffset(code, int(args%7))
		if off == 0 {
			return
		}
		if off >= len(code) || !emulated(code[off:]) {
			t.Fatalf("offset %d in % x", off, code)
		}
		for i := 0; i < off; {
			n, dst := harmless(code[i:])
			if n == 0 || dst >= 0 && isArg(byte(dst), int(args%7)) {
				t.Fatalf("offset %d behind % x at %d", off, code[i:], i)
			}
			i += n
		}
	})
}

func TestBranchTargetIn(t *testing.T) {
	const base = 0x1000
	for _, tc := range []struct {
		name string
		code []byte
		want bool
	}{
		{"jne back to the test", []byte{0x90, 0x90, 0x90, 0x90, 0x90, 0x75, 0xfa}, true},      // 0x1007-6 = 0x1001
		{"jmp rel32 onto the jump", append([]byte{0xe9, 0xfe, 0xff, 0xff, 0xff}, 0x90), true}, // 0x1005-2 = 0x1003
		{"call rel32 into the window", []byte{0xe8, 0xfd, 0xff, 0xff, 0xff}, true},            // 0x1005-3 = 0x1002
		{"jcc rel32 past it", []byte{0x0f, 0x84, 0x10, 0, 0, 0}, false},
		{"jmp to the entry", []byte{0x90, 0x90, 0xeb, 0xfc}, false}, // 0x1004-4 = 0x1000
		{"no branch", []byte{0x48, 0x85, 0xff, 0x90}, false},
	} {
		if got := branchTargetIn(tc.code, base, base+1, base+3); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
