"""The in-container client for drafarm's emulated devices: ``python3 -m fakedevices.client <cmd>``.

Stdlib only: this package is copied into minimal container images. It finds its devices in env vars
(see ENV.md and ``env.py``) or in explicit flags, talks the line-JSON protocol (docs/emulator-protocol.md)
and prints JSON. Exit codes: 0 ok, 1 the device refused or failed, 2 usage or connection problem,
3 a ``--check`` found a wrong result.
"""
