package capture

import "encoding/binary"

// A uprobe replaces an instruction with a breakpoint. Most instructions
// must then run out of line, one step under the trap flag: a second
// exception per hit, which on a virtual machine can cost far more than the
// breakpoint itself (about 17 us of a message's 18 us on the AMD EPYC VM
// bench/record.sh ran on). The kernel emulates a few instructions instead
// (jumps, conditional jumps, calls, pushes) and skips the step. Libqb's hot
// functions start with a few harmless instructions and then such a branch
// (test %rdi,%rdi; je), so the probe goes on that branch when the
// instructions before it leave alone the arguments the program reads.

// argRegs are the x86-64 argument registers in order (rdi, rsi, rdx, rcx,
// r8, r9), by their encoding numbers.
var argRegs = [...]byte{7, 6, 2, 1, 8, 9}

// emulatedOffset returns the offset in code (a function's first bytes) of
// the first instruction the kernel's x86-64 uprobes emulate and emulated
// accepts (a forward jump, a register push), reached
// through instructions that neither branch nor change the first args
// argument registers; 0 when there is none (the probe stays at the entry).
// It knows only a few instruction forms and stops at anything else.
func emulatedOffset(code []byte, args int) int {
	off := 0
	for off < len(code) {
		if emulated(code[off:]) {
			return off
		}
		n, dst := harmless(code[off:])
		if n == 0 || (dst >= 0 && isArg(byte(dst), args)) {
			return 0
		}
		off += n
	}
	return 0
}

// emulated reports whether the instruction at the start of b is one the
// kernel emulates on a uprobe hit: a jmp or jcc with a forward relative
// target, a push of a register. (Calls are emulated too, but not
// everywhere with user shadow stacks. A backward jump could make a loop
// through the probe, which would then fire more than once per call.)
func emulated(b []byte) bool {
	switch {
	case len(b) >= 2 && (b[0] >= 0x70 && b[0] <= 0x7f || b[0] == 0xeb): // jcc, jmp rel8
		return int8(b[1]) >= 0
	case len(b) >= 5 && b[0] == 0xe9: // jmp rel32
		return int32(binary.LittleEndian.Uint32(b[1:])) >= 0
	case len(b) >= 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f: // jcc rel32
		return int32(binary.LittleEndian.Uint32(b[2:])) >= 0
	case b[0] >= 0x50 && b[0] <= 0x57: // push r64
		return true
	case len(b) >= 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57: // push r8-r15
		return true
	}
	return false
}

// harmless decodes an instruction that does not branch and writes at most
// one general register: its length and that register (-1 for none), or a
// length of 0 for anything it does not know.
func harmless(b []byte) (n, dst int) {
	if len(b) >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa {
		return 4, -1 // endbr64
	}
	rex := byte(0)
	if len(b) > 0 && b[0]&0xf0 == 0x40 {
		rex, b = b[0], b[1:]
		n = 1
	}
	if len(b) < 2 {
		return 0, -1
	}
	op, modrm := b[0], b[1]
	if modrm>>6 != 3 {
		return 0, -1 // memory operands: not decoded
	}
	reg := modrm>>3&7 | rex>>2&1<<3
	rm := modrm&7 | rex&1<<3
	switch op {
	case 0x85: // test r, r: flags only
		return n + 2, -1
	case 0x89: // mov r/m <- r
		return n + 2, int(rm)
	case 0x8b: // mov r <- r/m
		return n + 2, int(reg)
	case 0x83: // add/sub/... r/m, imm8
		if len(b) < 3 {
			return 0, -1
		}
		return n + 3, int(rm)
	case 0x81: // add/sub/... r/m, imm32
		if len(b) < 6 {
			return 0, -1
		}
		return n + 6, int(rm)
	}
	return 0, -1
}

func isArg(r byte, args int) bool {
	for _, a := range argRegs[:min(args, len(argRegs))] {
		if r == a {
			return true
		}
	}
	return false
}

// branchTargetIn reports whether code, loaded at base, holds at any offset
// bytes of a jmp, jcc or call whose relative target is in [lo, hi].
func branchTargetIn(code []byte, base, lo, hi uint64) bool {
	in := func(next uint64, disp int64) bool {
		t := next + uint64(disp)
		return t >= lo && t <= hi
	}
	for i := 0; i < len(code); i++ {
		at := base + uint64(i)
		c := code[i]
		switch {
		case (c >= 0x70 && c <= 0x7f || c == 0xeb) && i+2 <= len(code):
			if in(at+2, int64(int8(code[i+1]))) {
				return true
			}
		case (c == 0xe8 || c == 0xe9) && i+5 <= len(code):
			if in(at+5, int64(int32(binary.LittleEndian.Uint32(code[i+1:])))) {
				return true
			}
		case c == 0x0f && i+6 <= len(code) && code[i+1] >= 0x80 && code[i+1] <= 0x8f:
			if in(at+6, int64(int32(binary.LittleEndian.Uint32(code[i+2:])))) {
				return true
			}
		}
	}
	return false
}
