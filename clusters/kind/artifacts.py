"""What a kind cluster and its farm need built before `up` (a line per step): the toolchain's programs,
the node image, and the images of the suites' pods and of the driver. All are cached by version and a
fingerprint of their inputs, so a warm run only looks them up."""

from __future__ import annotations

from clusters.host import dockerd
from clusters.host.docker_cli import DockerError
from clusters.images import catalog
from clusters.images import driver as driver_image
from clusters.images.node.build import NodeImageError, build_node_image
from clusters.kind.config import KindSettings
from clusters.provider import ClusterError, StepReporter
from clusters.toolchain import builder, components, lookup
from clusters.toolchain.goenv import GoMissingError
from clusters.toolchain.progress import BuildProgress
from clusters.toolchain.versions import ToolPins

MODULES = (*components.CLUSTER_MODULES, "kind", *components.NODE_IMAGE_MODULES)


def prepare(settings: KindSettings, step: StepReporter) -> None:
    pins = settings.pins
    with BuildProgress(pins, step, MODULES) as progress:
        try:
            lookup.binaries(pins, build_missing=True, report=progress)
            lookup.program(pins, "kubernetes", "kube-proxy", report=progress)
            lookup.program(pins, "kind", "kind", report=progress)
            if not settings.image:
                _coredns(pins, progress)
        except (lookup.ToolchainMissingError, GoMissingError) as exc:
            raise ClusterError(str(exc)) from exc
    for spec in (catalog.WORKLOAD, driver_image.DRIVER):
        if not catalog.archive_path(spec).is_file():
            step(f"building image {spec.ref} offline from host files")
        catalog.build(spec)
    if settings.image:
        return
    _node_image(settings, step)


def _coredns(pins: ToolPins, progress: BuildProgress) -> None:
    """The node image's CoreDNS, built here so its build shows progress like the rest."""
    failed = [
        r
        for r in builder.build(components.modules(pins, components.NODE_IMAGE_MODULES), progress)
        if r.outcome == "failed"
    ]
    if failed:
        raise lookup.ToolchainMissingError(f"building {failed[0].module}/{failed[0].binary} failed: {failed[0].detail}")


def _node_image(settings: KindSettings, step: StepReporter) -> None:
    """The node image lives in docker's store: build it there, and stop drafarm's dockerd again if it was
    started only for this (`up` starts it again and owns it from then on)."""
    was_running = dockerd.find() is not None
    try:
        endpoint = dockerd.ensure(step)
        step(f"node image for {settings.pins.kubernetes} (built offline unless cached)")
        build_node_image(settings.pins.kubernetes, endpoint, step)
    except (DockerError, NodeImageError) as exc:
        raise ClusterError(f"building the node image failed: {exc}") from exc
    finally:
        if not was_running:
            dockerd.stop_if_idle(step)
