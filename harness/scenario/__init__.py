"""Scenario files: a DRA situation written down once (farm, objects, order of events, what should
happen) and replayed on any Kubernetes version. `schema` parses and checks a file, `runner` plays its
steps on a `target` cluster, `expectations` judges what happened, `report` prints it, `capture` writes
one from a running cluster."""
