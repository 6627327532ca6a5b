"""Where the built binaries of one pinned version are, building the missing ones on first use."""

from __future__ import annotations

from pathlib import Path

from clusters.toolchain import builder, components
from clusters.toolchain.builder import Reporter
from clusters.toolchain.versions import ToolPins


class ToolchainMissingError(RuntimeError):
    pass


def binaries(pins: ToolPins, build_missing: bool = True, report: Reporter | None = None) -> dict[str, Path]:
    """`{binary name: path}` for every cluster module; builds what is missing unless told not to."""
    mods = [components.cluster_binaries_only(m) for m in components.modules(pins, components.CLUSTER_MODULES)]
    missing = builder.missing(mods)
    if missing and build_missing:
        results = builder.build(mods, report)
        failed = [r for r in results if r.outcome == "failed"]
        if failed:
            first = failed[0]
            raise ToolchainMissingError(
                f"building {first.module}/{first.binary} failed: {first.detail}\n"
                f"fix the cause and run `drafarm toolchain build --k8s-version {pins.kubernetes}`"
            )
        missing = builder.missing(mods)
    if missing:
        names = ", ".join(f"{m.module}/{m.binary}" for m in missing)
        raise ToolchainMissingError(
            f"not built yet: {names}; run `drafarm toolchain build --k8s-version {pins.kubernetes}`"
        )
    return {s.binary: s.path for s in builder.status(mods)}


def program(pins: ToolPins, module_name: str, name: str, report: Reporter | None = None) -> Path:
    """The path of one binary that a cluster does not need (e.g. `dra-test-driver`), building only it
    if it is missing; the module's other binaries are left as they are."""
    (module,) = components.modules(pins, (module_name,))
    only = components.with_binary(module, name)
    results = builder.build([only], report)
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        raise ToolchainMissingError(
            f"building {failed[0].module}/{name} failed: {failed[0].detail}\n"
            f"fix the cause and run `drafarm toolchain build --k8s-version {pins.kubernetes} --only {module_name}`"
        )
    return builder.binary_path(only, only.binaries[0])


def bin_dir_of(pins: ToolPins, module_name: str) -> Path:
    for module in components.modules(pins, (module_name,)):
        return builder.bin_dir(module)
    raise ValueError(module_name)
