//go:build !unix

package main

// kernelName returns "": the section header's kernel field stays empty where there is no uname.
func kernelName() string { return "" }
