// Package shim exposes the Terraform random provider's internal constructor.
// Its module path sits under terraform-provider-random so that Go allows the
// import of that module's internal/provider package.
package shim

import (
	tfpf "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream terraform-plugin-framework provider.
func NewProvider() tfpf.Provider { return provider.New() }
