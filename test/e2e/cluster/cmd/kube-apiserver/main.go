// Command kube-apiserver is a thin wrapper around the upstream kube-apiserver
// (k8s.io/kubernetes/cmd/kube-apiserver), identical to upstream's main package.
// It exists so the binary can be built from the Go module proxy alone; see
// ../../README.md.
package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric registration
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
