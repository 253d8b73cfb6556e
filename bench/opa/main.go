// Command opa is OPA itself, built from the Go module registry at the version pinned in go.mod, so
// the benchmark compares gloo-guard with exactly the OPA a user would download.
package main

import (
	"errors"
	"os"

	"github.com/open-policy-agent/opa/cmd"
)

func main() {
	if err := cmd.RootCommand.Execute(); err != nil {
		var exit *cmd.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.Exit)
		}
		os.Exit(1)
	}
}
