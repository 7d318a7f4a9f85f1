// Command pulumi-resource-tls serves the Pulumi "tls" resource provider,
// bridged from terraform-provider-tls, with the committed generated schema.
package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"servicemesh.local/engine/tls/provider"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pfbridge.Main(context.Background(), "tls", provider.Info(metadata),
		pfbridge.ProviderMetadata{PackageSchema: schema, BridgeMetadata: metadata})
}
