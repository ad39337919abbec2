package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// upArgs are the arguments of scripts/testcluster that start c.
func (c *Cluster) upArgs() []string {
	if c.Nodes > 1 {
		return []string{"up", "--nodes", strconv.Itoa(c.Nodes)}
	}
	return []string{"up"}
}

// findNodes fills NodePIDs (and InitPID, node1's) from the script.
func (c *Cluster) findNodes() error {
	if c.Nodes <= 1 {
		c.NodePIDs = []int{c.InitPID}
		return nil
	}
	c.NodePIDs = make([]int, c.Nodes)
	for i := range c.NodePIDs {
		out, err := c.script("pid", "--node", strconv.Itoa(i+1))
		if err != nil {
			return fmt.Errorf("testcluster pid --node %d %s: %w: %s", i+1, c.Name, err, bytes.TrimSpace(out))
		}
		if c.NodePIDs[i], err = strconv.Atoi(strings.TrimSpace(string(out))); err != nil {
			return fmt.Errorf("testcluster pid --node %d %s: %q", i+1, c.Name, out)
		}
	}
	c.InitPID = c.NodePIDs[0]
	return nil
}

// NodePID returns the host pid of node n's PID 1 (nodes count from 1).
func (c *Cluster) NodePID(n int) int { return c.NodePIDs[n-1] }

// NodeCommand returns a command that runs name with args on node n (counting from 1).
func (c *Cluster) NodeCommand(ctx context.Context, n int, name string, args ...string) *exec.Cmd {
	nsargs := append([]string{"-t", strconv.Itoa(c.NodePID(n)), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", nsargs...)
}

// ExecNode is [Cluster.Exec] on node n.
func (c *Cluster) ExecNode(ctx context.Context, n int, name string, args ...string) ([]byte, error) {
	if n < 1 || n > len(c.NodePIDs) {
		return nil, fmt.Errorf("%s %s: cluster %s has no node %d", name, strings.Join(args, " "), c.Name, n)
	}
	var stdout, stderr bytes.Buffer
	cmd := c.NodeCommand(ctx, n, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s on node%d: %w: %s", name, strings.Join(args, " "), n, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// MustExecNode is ExecNode with a 60 s limit that fails the test on error.
func (c *Cluster) MustExecNode(t testing.TB, n int, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := c.ExecNode(ctx, n, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Partition takes node n's link to the other nodes down.
func (c *Cluster) Partition(n int) error {
	if out, err := c.script("partition", "--node", strconv.Itoa(n)); err != nil {
		return fmt.Errorf("partition node%d: %w: %s", n, err, bytes.TrimSpace(out))
	}
	return nil
}

// Heal brings every node's link up again.
func (c *Cluster) Heal() error {
	if out, err := c.script("heal"); err != nil {
		return fmt.Errorf("heal: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
