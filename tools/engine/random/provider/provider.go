// Package provider describes how the servicemesh engine build bridges
// terraform-provider-random into the Pulumi "random" package.
//
// pulumi-random's own provider module is not served by the Go module proxy we
// can reach, so this is the project's own (minimal) bridge configuration. The
// tokens follow the published pulumi-random naming scheme
// (random:index/randomString:RandomString, ...), which is what the
// pulumi_random Python SDK sends.
package provider

import (
	"context"
	"fmt"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is stamped at build time with -ldflags "-X .../provider.Version=...".
var Version = "4.0.0-dev"

// Info returns the bridge configuration. metadata is the bridge-metadata.json
// written by the tfgen command (nil while generating it).
func Info(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:                           pfbridge.ShimProvider(shim.New()),
		Name:                        "random",
		Description:                 "A Pulumi package to safely use randomness in Pulumi programs.",
		Keywords:                    []string{"pulumi", "random"},
		License:                     "Apache-2.0",
		Homepage:                    "https://pulumi.io",
		Repository:                  "https://github.com/pulumi/pulumi-random",
		Version:                     Version,
		MetadataInfo:                tfbridge.NewProviderMetadata(metadata),
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
		Resources: map[string]*tfbridge.ResourceInfo{
			// random_bytes has no usable "id" attribute of its own; use the base64 value.
			"random_bytes": {ComputeID: bytesID},
		},
		Python: &tfbridge.PythonInfo{RespectSchemaVersion: true},
	}
	// random_string -> random:index/randomString:RandomString, and so on.
	info.MustComputeTokens(tokens.SingleModule("random_", "index",
		func(module, name string) (string, error) {
			return tokens.MakeStandard("random")(module, "Random"+name)
		}))
	return info
}

func bytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", fmt.Errorf("random_bytes state has no base64 property")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", fmt.Errorf("random_bytes base64 property is not a string")
	}
	return resource.ID(v.StringValue()), nil
}
