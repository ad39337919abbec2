package analyse

import "flag"

// The -update flag rewrites golden files. Tests read it through
// flowUpdating, so that one definition serves the package.
var _ = flag.Bool("update", false, "rewrite golden files")
