"""The `local` provider: a one-node cluster of real Kubernetes processes on this host."""
