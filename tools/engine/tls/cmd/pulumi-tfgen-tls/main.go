// Command pulumi-tfgen-tls generates schema.json and bridge-metadata.json for
// the servicemesh tls provider build:
//
//	go run ./cmd/pulumi-tfgen-tls schema --out cmd/pulumi-resource-tls
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"servicemesh.local/engine/tls/provider"
)

func main() { tfgen.Main("tls", provider.Info(nil)) }
