"""Stack configuration: the typed settings kit (`settings.models`), the root model
(`settings.stack`) and the one loader that reads it (`settings.loader`).

Nothing is imported here: the root model takes each mesh's settings from its folder, and the mesh
components import the kit, so importing this package must not pull the root model in."""
