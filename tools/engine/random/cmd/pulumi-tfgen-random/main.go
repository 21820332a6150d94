// Command pulumi-tfgen-random generates schema.json and bridge-metadata.json
// for the random provider at build time (scripts/build-engine.sh runs
// `pulumi-tfgen-random schema --out DIR`). TF_UPSTREAM_REPO_PATH points at the
// terraform-provider-random module directory, whose docs/ fill in the schema
// descriptions.
package main

import (
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	random "titan-secrets/tools/engine/random"
)

func main() {
	info := random.Provider(nil)
	info.UpstreamRepoPath = os.Getenv("TF_UPSTREAM_REPO_PATH")
	tfgen.Main("random", info)
}
