"""Network-placed devices served by a process outside the kubelet plugin (a container on the pool's
network): the device host (`python -m fakedevices.remote`), its host-control protocol, and the proxy the
plugin uses in place of an in-process emulator (`RemoteEmulator`).

docs/emulator-protocol.md ("Host control") is the protocol's reference.
"""
