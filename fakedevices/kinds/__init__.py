"""Device kinds: one package per kind (gpu, fpga, camera), each a `DeviceKind` (base.py), all found
through the one registry (registry.py). Adding a kind: write its package here and name it in
`registry.BUILTIN`, or ship it in a distribution of its own under the registry's entry point group."""
