package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/pcmk-trace/pcmk-trace"

// A rule forbids a package (and its subpackages, when tree is set) some
// dependencies, direct or not.
type rule struct {
	pkg    string
	tree   bool
	forbid func(dep string) bool
	why    string
}

// inModule reports whether dep is one of the module's packages.
func inModule(dep string) bool { return dep == module || strings.HasPrefix(dep, module+"/") }

// under reports whether dep is pkg of the module or below it.
func under(pkg string) func(string) bool {
	return func(dep string) bool {
		p := module + "/" + pkg
		return dep == p || strings.HasPrefix(dep, p+"/")
	}
}

func anyOf(fs ...func(string) bool) func(string) bool {
	return func(dep string) bool {
		return slices.ContainsFunc(fs, func(f func(string) bool) bool { return f(dep) })
	}
}

var rules = []rule{
	{"pcmk", true, inModule, "the wire format is a leaf"},
	{"capture", true, anyOf(under("decode"), under("replay")), "recording does not decode or replay"},
	{"capfile", true, anyOf(under("decode"), under("replay")), "the file format does not decode or replay"},
	{"decode", true, anyOf(under("capture"), under("replay")), "decoding needs no recorder and no replayer"},
	{"export", true, anyOf(under("capture"), under("replay")), "exporting reads decoded messages only"},
	{"replay/qbipc", true, func(dep string) bool {
		return inModule(dep) && !under("pcmk")(dep) && !under("replay/qbipc")(dep) ||
			strings.HasPrefix(dep, "github.com/gopacket/") || strings.HasPrefix(dep, "github.com/beevik/etree")
	}, "the IPC client speaks the wire format only"},
}

// pkgDeps is what go list says of one package.
type pkgDeps struct {
	ImportPath string
	Deps       []string
}

// violations returns a line per forbidden dependency of pkgs.
func violations(pkgs []pkgDeps, rules []rule) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			self := module + "/" + r.pkg
			if p.ImportPath != self && !(r.tree && strings.HasPrefix(p.ImportPath, self+"/")) {
				continue
			}
			for _, d := range p.Deps {
				if r.forbid(d) {
					out = append(out, fmt.Sprintf("%s depends on %s: %s", p.ImportPath, d, r.why))
				}
			}
		}
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func TestDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", "./...")
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkgDeps
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkgDeps
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[strings.TrimPrefix(p.ImportPath, module+"/")] = true
	}
	for _, r := range rules {
		if !seen[r.pkg] {
			t.Errorf("rule for %s names no package of the module", r.pkg)
		}
	}
	for _, v := range violations(pkgs, rules) {
		t.Error(v)
	}
}

// TestRulesBite checks that the rules catch what they should, on made-up
// dependency lists.
func TestRulesBite(t *testing.T) {
	pkgs := []pkgDeps{
		{module + "/pcmk", []string{"bytes", module + "/capfile"}},
		{module + "/replay/qbipc", []string{module + "/pcmk", module + "/decode", "github.com/gopacket/gopacket"}},
		{module + "/decode", []string{module + "/pcmk", module + "/capfile", module + "/replay"}},
		{module + "/capfile", []string{module + "/pcmk"}},
		{module + "/capture", []string{module + "/capfile", module + "/decode"}},
	}
	got := violations(pkgs, rules)
	want := []string{
		module + "/pcmk depends on " + module + "/capfile",
		module + "/replay/qbipc depends on " + module + "/decode",
		module + "/replay/qbipc depends on github.com/gopacket/gopacket",
		module + "/decode depends on " + module + "/replay",
		module + "/capture depends on " + module + "/decode",
	}
	if len(got) != len(want) {
		t.Fatalf("violations:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]+":") {
			t.Errorf("violation %d: %s, want %s", i, got[i], want[i])
		}
	}
}

// exempt reports whether a file may print or exit: commands (cmd/ and any
// package main) and the test cluster's launcher.
func exempt(rel string, f *ast.File) bool {
	return strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "internal/testcluster/") || f.Name.Name == "main"
}

// printsOrExits returns "file:line: what" for each call of os.Exit, log.*
// or fmt.Print*, and each use of os.Stdout or os.Stderr, in f.
func printsOrExits(fset *token.FileSet, f *ast.File) []string {
	names := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = path
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok || x.Obj != nil { // a local variable, not a package
			return true
		}
		what := names[x.Name] + "." + sel.Sel.Name
		switch {
		case what == "os.Exit", what == "os.Stdout", what == "os.Stderr",
			names[x.Name] == "log" && x.Name != "" && isExported(sel.Sel.Name),
			what == "fmt.Print", what == "fmt.Printf", what == "fmt.Println":
			out = append(out, fmt.Sprintf("%s: %s", fset.Position(sel.Pos()), what))
		}
		return true
	})
	return out
}

func isExported(name string) bool { return name != "" && name[0] >= 'A' && name[0] <= 'Z' }

func TestOnlyCommandsPrintOrExit(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		if exempt(filepath.ToSlash(rel), f) {
			return nil
		}
		for _, v := range printsOrExits(fset, f) {
			t.Errorf("%s: only commands print or exit", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("parsed %d files: is %s the module?", files, root)
	}
}

// TestPrintCheckBites checks the print rule on made-up files.
func TestPrintCheckBites(t *testing.T) {
	src := `package x

import (
	"fmt"
	l "log"
	"os"
)

func f(w *os.File) {
	fmt.Println("a")
	fmt.Fprintln(w, "fine")
	l.Printf("b")
	os.Exit(1)
	_ = os.Stderr
}

func g(os struct{ Exit func(int) }) {
	os.Exit(1) // a parameter, not the package
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := printsOrExits(fset, f)
	want := []string{"x.go:10:2: fmt.Println", "x.go:12:2: log.Printf", "x.go:13:2: os.Exit", "x.go:14:6: os.Stderr"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
