"""The kind provider: multi-node clusters of kind nodes from an offline node image."""
