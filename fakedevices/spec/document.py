"""The head every drafarm document (farm spec, driver profile, scenario) starts with: apiVersion, kind, metadata."""

from __future__ import annotations

from typing import Any

from fakedevices.spec.reader import Reader


def open_document(document: Any, api_version: str, kind: str) -> tuple[Reader, Reader]:
    """The document's root, its apiVersion and kind checked, and its metadata; the problems of every field
    read through them collect in `root.problems`."""
    root = Reader(document, "", [])
    root.string("apiVersion", choices=(api_version,))
    root.string("kind", choices=(kind,))
    return root, root.child("metadata")
