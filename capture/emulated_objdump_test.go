package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every encoding harmless accepts, checked against GNU objdump's x86-64
// disassembler: the same length, and the register it names as written is
// the one the instruction writes (test and cmp write none; harmless may
// name one for cmp, which only keeps a probe at the entry).
func TestHarmlessMatchesObjdump(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("no objdump (binutils)")
	}
	type insn struct {
		n, dst int
		code   []byte
	}
	var all []insn
	var stream []byte
	for _, rex := range append([]byte{0}, 0x40, 0x41, 0x44, 0x45, 0x48, 0x49, 0x4c, 0x4d, 0x4f) {
		for _, op := range []byte{0x85, 0x89, 0x8b, 0x83, 0x81} {
			for modrm := 0xc0; modrm <= 0xff; modrm++ {
				code := []byte{op, byte(modrm), 0x11, 0x22, 0x33, 0x44}
				if rex != 0 {
					code = append([]byte{rex}, code...)
				}
				n, dst := harmless(code)
				if n == 0 {
					t.Fatalf("% x: not decoded", code)
				}
				all = append(all, insn{n, dst, code[:n]})
				stream = append(stream, code[:n]...)
			}
		}
	}
	bin := filepath.Join(t.TempDir(), "code.bin")
	if err := os.WriteFile(bin, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "i386:x86-64", "--insn-width=16", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	regs := map[string]int{}
	for i, names := range [][]string{{"rax", "eax"}, {"rcx", "ecx"}, {"rdx", "edx"}, {"rbx", "ebx"},
		{"rsp", "esp"}, {"rbp", "ebp"}, {"rsi", "esi"}, {"rdi", "edi"}} {
		for _, n := range names {
			regs[n] = i
		}
	}
	for i := 8; i < 16; i++ {
		regs["r"+strconv.Itoa(i)], regs["r"+strconv.Itoa(i)+"d"] = i, i
	}
	k, off := 0, 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) < 3 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			continue
		}
		at, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(f[0]), ":"), 16, 64)
		if err != nil {
			continue
		}
		if k >= len(all) || int(at) != off {
			t.Fatalf("objdump's instruction at %#x, harmless's at %#x (%d of %d)", at, off, k, len(all))
		}
		in := all[k]
		words := strings.Fields(f[2])
		for len(words) > 0 && strings.HasPrefix(words[0], "rex") {
			words = words[1:]
		}
		if len(words) != 2 {
			t.Fatalf("% x: objdump says %q", in.code, f[2])
		}
		ops := strings.Split(words[1], ",")
		dst, ok := regs[strings.TrimPrefix(ops[len(ops)-1], "%")]
		if !ok {
			t.Fatalf("% x: objdump says %q: destination not a register", in.code, f[2])
		}
		switch words[0] {
		case "test", "cmp":
			if in.dst != -1 && in.dst != dst {
				t.Errorf("% x (%s): harmless names %d, the operand is %d", in.code, f[2], in.dst, dst)
			}
		default:
			if in.dst != dst {
				t.Errorf("% x (%s): harmless says it writes %d, objdump %d", in.code, f[2], in.dst, dst)
			}
		}
		if !bytes.Equal(stream[off:off+in.n], in.code) {
			t.Fatal("stream out of step")
		}
		off += in.n
		k++
	}
	if k != len(all) {
		t.Fatalf("objdump decoded %d instructions, harmless %d", k, len(all))
	}
}
