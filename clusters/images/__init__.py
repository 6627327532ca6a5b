"""Offline container images: built from host files and Debian packages, never pulled from a registry."""
