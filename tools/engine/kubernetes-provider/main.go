// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider
// (github.com/pulumi/pulumi-kubernetes/provider/v4) with the committed schema.
//
// Upstream's main package embeds schema-embed.json and terraform-mapping-embed.json,
// which its Makefile generates and which are therefore absent from the module zip.
// schema.json / terraform-mapping.json here are the module's own generated files,
// re-serialised with the release version filled in (see ../build, "kubernetes schema").
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
