"""Reading and validating documents: a file within the limits (loader), YAML with bounds (bounded_yaml),
field by field (reader), reporting every problem (problems). The farm spec (fakedevices.farmspec), the
kinds' options and opaque configs, driver profiles and scenarios are read with it."""
