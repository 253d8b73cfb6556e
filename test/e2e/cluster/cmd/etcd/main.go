// Command etcd is a thin wrapper around the upstream etcd server entry point,
// identical to go.etcd.io/etcd/server/v3/main.go. The version comes from the
// same module graph as kube-apiserver (k8s.io/kubernetes pins etcd/server/v3).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
