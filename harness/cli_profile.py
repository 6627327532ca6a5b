"""`drafarm profile ...`: check a driver profile, or write a starting one from what a driver publishes."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from fakedevices.spec.problems import SpecError
from fakedevices.spec.reader import DNS_SUBDOMAIN
from harness.profile_init import PLACEHOLDER_ENV, starting_profile
from harness.profiles import ROLES, load_profile

EXIT_INVALID = 2


@click.group()
def profile() -> None:
    """Driver profiles: how the suites test a DRA driver (docs/profiles.md)."""


@profile.command()
@click.argument("file")
def validate(file: str) -> None:
    """Check FILE (or a built-in profile name); exit 2 listing every problem."""
    try:
        parsed = load_profile(file)
    except SpecError as exc:
        for line in str(exc).splitlines():
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was changed.", err=True)
        sys.exit(EXIT_INVALID)
    roles = ", ".join(sorted(parsed.classes))
    click.echo(f"{file}: valid profile {parsed.name!r} for driver {parsed.driver}: roles {roles}")
    unknown = sorted(set(parsed.classes) - set(ROLES))
    if unknown:
        click.echo(f"note: no suite uses role(s) {', '.join(unknown)} (roles the suites use: {', '.join(ROLES)})")


@profile.command()
@click.option("--driver", required=True, help="The DRA driver's name (as in its ResourceSlices).")
@click.option(
    "--kubeconfig",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A kubeconfig of a cluster where the driver runs and publishes its devices.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here.")
def init(driver: str, kubeconfig: Path, output: Path | None) -> None:
    """Write a starting profile from the driver's DeviceClasses and the devices its slices publish."""
    from harness.kube import Kube

    if not DNS_SUBDOMAIN.match(driver):
        raise click.BadParameter(f"{driver!r} is not a driver name (a DNS subdomain such as gpu.example.com)")
    if output is not None and output.exists():
        raise click.BadParameter(f"{output} exists; give a new file (nothing was changed)", param_hint="--output")
    kube = Kube(kubeconfig.absolute())
    try:
        slices = kube.items("ResourceSlice", fields={"spec.driver": driver})
        classes = kube.items("DeviceClass")
    except Exception as exc:
        raise click.ClickException(f"cannot read the cluster through {kubeconfig}: {exc}") from exc
    if not slices:
        raise click.ClickException(
            f"driver {driver} publishes no ResourceSlices on this cluster: is it deployed and registered, and is "
            "the name the one in its slices' spec.driver?"
        )
    document = starting_profile(driver, classes, slices)
    text = (
        "# Written by `drafarm profile init` from what the driver publishes; see docs/profiles.md.\n"
        f"# Fill in spec.proof ({PLACEHOLDER_ENV}: the env vars, device nodes or a command that show a container\n"
        "# got a device) and deviceEnv, and list the capabilities the driver has.\n"
    ) + yaml.safe_dump(document, sort_keys=False)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)
    click.echo(f"edit spec.proof: {PLACEHOLDER_ENV} is a placeholder, then `drafarm profile validate`", err=True)
