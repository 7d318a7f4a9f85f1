"""The service mesh: one interface (`MeshAttachment`, in `mesh.attachment`) over Istio (sidecar or
ambient), Linkerd and Consul, the components that install each (`mesh.implementations`), and
namespace enrolment (`mesh.injected_namespace`).

Nothing is imported here: each mesh's settings module (`mesh.<provider>.settings`) is read by the
settings loader, which the mesh components themselves import, so importing this package must stay
free of components."""
