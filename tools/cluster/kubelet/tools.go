//go:build tools

// Package tools pins the kubelet of the real node (scripts/build-cluster.sh,
// scripts/cluster.sh --real-node), from the same k8s.io/kubernetes v1.34.4
// as the control plane. A module of its own, so that adding it does not
// change the inputs (and the stamp) of the control-plane group.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kubelet"
)
