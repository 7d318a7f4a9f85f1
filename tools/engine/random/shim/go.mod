// Local stand-in for pulumi-random's provider/shim module, which upstream only
// exists as a relative path inside the pulumi-random repository (never published).
// The module path must sit under terraform-provider-random so that the Go
// "internal" import rule lets it reach internal/provider.
module github.com/terraform-providers/terraform-provider-random/shim

go 1.25

require github.com/terraform-providers/terraform-provider-random v1.3.2-0.20260513075824-f8d869dc98d9
