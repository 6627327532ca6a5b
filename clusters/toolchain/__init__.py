"""The Go toolchain that builds real Kubernetes components (and their runtime) from pinned Go modules."""
