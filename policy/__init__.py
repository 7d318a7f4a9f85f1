"""The project's CrossGuard policy pack: the mesh's guarantees as rules no stack can drop.

`checks`, `pod_security` and `exposure` hold each rule as a pure function over plain resources,
`pack` wires them into CrossGuard policies, `offline` runs those policies without the Pulumi CLI,
and `__main__` is what `pulumi preview --policy-pack policy` starts.
"""
