// Command etcd runs the etcd server of the pinned go.etcd.io/etcd/server/v3 module.
// Written for drafarm: the server module has relative replaces, so it cannot be `go install`ed.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
