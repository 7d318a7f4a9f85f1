// Command pulumi-tfgen-random generates schema.json and bridge-metadata.json for
// the servicemesh random provider build:
//
//	go run ./cmd/pulumi-tfgen-random schema --out cmd/pulumi-resource-random
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"servicemesh.local/engine/random/provider"
)

func main() { tfgen.Main("random", provider.Info(nil)) }
