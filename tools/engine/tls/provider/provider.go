// Package provider describes how the servicemesh engine build bridges
// terraform-provider-tls into the Pulumi "tls" package.
//
// pulumi-tls's own provider module is not served by the Go module proxy we can
// reach, so this is the project's own (minimal) bridge configuration. The tokens
// follow the published pulumi-tls naming scheme (tls:index/privateKey:PrivateKey,
// tls:index/getPublicKey:getPublicKey, ...), which is what the pulumi_tls Python
// SDK sends. Secret outputs (privateKeyPem, privateKeyOpenssh, privateKeyPemPkcs8,
// the *_wo write-only inputs, ...) come from the provider's Sensitive and WriteOnly
// attributes; the bridge marks them secret in the schema and in state.
package provider

import (
	"github.com/hashicorp/terraform-provider-tls/shim"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
)

// Version is stamped at build time with -ldflags "-X .../provider.Version=...".
var Version = "5.0.0-dev"

// Info returns the bridge configuration. metadata is the bridge-metadata.json
// written by the tfgen command (nil while generating it).
func Info(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(shim.New()),
		Name:         "tls",
		Description:  "A Pulumi package to create TLS resources in Pulumi programs.",
		Keywords:     []string{"pulumi", "tls"},
		License:      "Apache-2.0",
		Homepage:     "https://pulumi.io",
		Repository:   "https://github.com/pulumi/pulumi-tls",
		GitHubOrg:    "hashicorp",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		// Like pulumi-tls: state without a recorded schema version is version 0, and
		// previews use the provider's own plan.
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
		Python:                         &tfbridge.PythonInfo{RespectSchemaVersion: true},
	}
	// tls_private_key -> tls:index/privateKey:PrivateKey,
	// data source tls_public_key -> tls:index/getPublicKey:getPublicKey, and so on.
	info.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return info
}
