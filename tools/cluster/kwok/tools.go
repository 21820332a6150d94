//go:build tools

// Package tools pins kwok (sigs.k8s.io/kwok v0.8.0), which this module builds
// (scripts/build-cluster.sh): fake nodes whose pods go Running and Ready as
// the Stage objects in tools/cluster/stages say, without running containers.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
