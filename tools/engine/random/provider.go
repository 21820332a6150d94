// Package random wires the upstream Terraform random provider (through the
// ./shim module) into the Pulumi Terraform bridge. It is our own minimal
// equivalent of github.com/pulumi/pulumi-random/provider/v4, whose module is
// not available from the Go module proxy reachable here. Resource tokens
// (random:index/randomBytes:RandomBytes, ...) match the published 4.x
// provider and the @pulumi/random SDK.
package random

import (
	"context"
	"errors"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is set at link time (-X titan-secrets/tools/engine/random.Version=4.18.4).
// The bridge refuses to start with an empty or non-semver version.
var Version string

// Provider returns the bridge configuration. metadata is the content of
// bridge-metadata.json (nil when generating it).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         "random",
		Version:      Version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		Keywords:     []string{"pulumi", "random"},
		License:      "Apache-2.0",
		Homepage:     "https://pulumi.io",
		Repository:   "https://github.com/pulumi/pulumi-random",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			// Some old RandomString states lack a schema version: treat them as V1.
			"random_string": {PreStateUpgradeHook: func(a tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
				if a.PriorStateSchemaVersion == 0 {
					return 1, a.PriorState, nil
				}
				return a.PriorStateSchemaVersion, a.PriorState, nil
			}},
			// RandomBytes has no TF id: the published provider uses base64 as the Pulumi ID.
			"random_bytes": {ComputeID: randomBytesID},
		},
		JavaScript:                  &tfbridge.JavaScriptInfo{RespectSchemaVersion: true},
		Python:                      &tfbridge.PythonInfo{RespectSchemaVersion: true},
		Golang:                      &tfbridge.GolangInfo{RespectSchemaVersion: true, GenerateResourceContainerTypes: true},
		CSharp:                      &tfbridge.CSharpInfo{RespectSchemaVersion: true},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	// random_password -> random:index/randomPassword:RandomPassword, etc.
	info.MustComputeTokens(tokens.SingleModule("random_", "index",
		func(module, name string) (string, error) {
			return tokens.MakeStandard("random")(module, "Random"+name)
		}))
	info.MustApplyAutoAliases()
	return info
}

func randomBytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes: no base64 property in state")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", errors.New("random_bytes: base64 property is not a string")
	}
	return resource.ID(v.StringValue()), nil
}
