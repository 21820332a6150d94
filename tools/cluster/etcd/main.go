// Command etcd is the etcd server (go.etcd.io/etcd/server/v3 v3.6.16), the
// version Kubernetes 1.34 is tested with. Built here rather than taken from
// Debian (3.4.23) because a 3.4 server answers no watch progress requests:
// kube-apiserver then refuses the streaming lists that newer clients (kwok's
// client-go v0.36) ask for, and every refusal held pod updates back 20-30 s.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
