"""The `drafarm` command line: a thin layer over the library."""

from __future__ import annotations

import click

from harness.cli_cluster import cluster
from harness.cli_farm import farm
from harness.cli_images import images
from harness.cli_matrix import matrix
from harness.cli_plugin import fault, plugin
from harness.cli_profile import profile
from harness.cli_scenario import scenario
from harness.cli_soak import soak
from harness.cli_toolchain import toolchain


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="drafarm")
def cli() -> None:
    """drafarm: a fake DRA device farm and test harness for real Kubernetes clusters."""


cli.add_command(farm)
cli.add_command(toolchain)
cli.add_command(cluster)
cli.add_command(plugin)
cli.add_command(fault)
cli.add_command(images)
cli.add_command(profile)
cli.add_command(scenario)
cli.add_command(matrix)
cli.add_command(soak)


def main() -> None:
    cli()
