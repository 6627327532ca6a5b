"""Our own .proto files for the kubelet's plugin APIs, and their generated Python stubs.

Stubs are generated at build time (`make setup`, or on first import) into `fakedevices/proto/gen/`,
which is not committed. Import them through `fakedevices.proto.stubs`.
"""
