"""The farm spec: its schema (schema.py, which asks the kind registry for each kind's block), node name
patterns, and loading it from a file or a shipped example (loader.py). Built on fakedevices.spec's
field-by-field reader, as the kinds' own options and configs are."""
