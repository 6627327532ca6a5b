"""Every path of a node's plugin comes from one layout, and its users agree with it."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from clusters.driver import manifest
from fakedevices.plugin.layout import (
    ANY_DRIVERS_CDI_SPECS,
    STATE_ROOT,
    PluginLayout,
    cdi_spec_glob,
    cdi_specs_of,
    control_socket_in,
    instance_of_lock,
    node_state_dir,
)


def test_a_node_plugin_defaults_to_its_own_state_dir_under_the_state_root() -> None:
    layout = PluginLayout.for_node("drafarm.dev", "worker-0")
    assert layout.state_dir == STATE_ROOT / "worker-0" == node_state_dir("worker-0")
    assert layout.control_socket == control_socket_in(layout.state_dir)
    assert layout.registration_socket == Path("/var/lib/kubelet/plugins_registry/drafarm.dev-reg.sock")
    assert layout.service_socket == Path("/var/lib/kubelet/plugins/drafarm.dev/dra.sock")
    assert {layout.checkpoint_dir.parent, layout.emulators_dir.parent, layout.lock_file.parent} == {layout.state_dir}


def test_an_instances_id_is_read_back_from_its_lock_file() -> None:
    for instance in ("", "v2", "7f3c9a1e-0b2d-4c5e-9f10-plugin.lock"):
        assert instance_of_lock(PluginLayout("drafarm.dev", STATE_ROOT, instance=instance).lock_file) == instance


def test_a_claims_cdi_spec_is_named_after_its_driver_and_uid(tmp_path: Path) -> None:
    layout = PluginLayout("gpu.example.com", tmp_path / "s", cdi_dir=tmp_path)
    other = PluginLayout("fpga.example.com", tmp_path / "s", cdi_dir=tmp_path)
    spec = layout.cdi_spec("0b7e-uid")
    assert spec.parent == tmp_path and layout.claim_of_cdi_spec(spec) == "0b7e-uid"
    assert fnmatch.fnmatch(spec.name, cdi_spec_glob("gpu.example.com"))
    assert fnmatch.fnmatch(spec.name, ANY_DRIVERS_CDI_SPECS)
    assert not fnmatch.fnmatch(spec.name, cdi_spec_glob("fpga.example.com"))
    for written in (spec, other.cdi_spec("other-uid")):
        written.write_text("{}")
    assert layout.cdi_specs() == cdi_specs_of("gpu.example.com", tmp_path) == [spec]
    assert layout.cdi_kind == "gpu.example.com/claim"


def test_the_driver_daemonset_serves_each_node_from_its_default_state_dir() -> None:
    [container] = manifest.daemonset("img", 7)["spec"]["template"]["spec"]["containers"]
    command = " ".join(container["command"] + container.get("args", []))
    assert f"--state-dir {node_state_dir('$NODE_NAME')} " in command
