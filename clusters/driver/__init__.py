"""The farm's DRA driver deployed into a cluster as Kubernetes objects (any provider, or `kubectl apply`)."""
