// Package shim exposes terraform-provider-random's Plugin Framework provider,
// which lives in an internal package, to the servicemesh engine build.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	randomprovider "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// New returns a fresh terraform-provider-random provider instance.
func New() provider.Provider { return randomprovider.New() }
