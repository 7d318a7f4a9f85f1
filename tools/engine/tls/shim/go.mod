// Local stand-in for pulumi-tls's provider/shim module, which upstream only exists
// as a relative path inside the pulumi-tls repository (never published).
// The module path must sit under terraform-provider-tls so that the Go "internal"
// import rule lets it reach internal/provider.
module github.com/hashicorp/terraform-provider-tls/shim

go 1.25

require github.com/hashicorp/terraform-provider-tls v1.2.1-0.20260819085117-d044ca7c6f52
