"""The kind node image, assembled offline from Debian packages and the pinned toolchain."""
