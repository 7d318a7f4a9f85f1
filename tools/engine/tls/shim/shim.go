// Package shim exposes terraform-provider-tls's Plugin Framework provider,
// which lives in an internal package, to the servicemesh engine build.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	tlsprovider "github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// New returns a fresh terraform-provider-tls provider instance.
func New() provider.Provider { return tlsprovider.New() }
