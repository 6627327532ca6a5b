"""The files drafarm adds to the node's root filesystem: entrypoint, systemd units, runtime configuration.

What kind expects of a node image (learned from kind's node-image contract, written here for drafarm):
systemd as PID 1 reached through an entrypoint that prints "detected cgroup v1" on cgroup v1 hosts
(kind waits for that line, or systemd's "Reached target ... Multi-User System"); containerd on
/run/containerd/containerd.sock with a version-3 config naming its snapshotter; `kubeadm`, `kubectl`,
`ctr`, `crictl` on PATH; `/kind/version`; a kubelet unit that starts once kubeadm wrote its config.
Host-specific containerd and kubelet settings are not baked in: the provider patches them at `up`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakedevices.plugin.layout import CDI_SPEC_DIRS

BIN = "/usr/local/bin"
CNI_BIN = "/opt/cni/bin"
IMAGES_DIR = "/kind/images"
ENTRYPOINT = f"{BIN}/drafarm-node-entrypoint"
CONTROL_PLANE_ONLY = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


@dataclass(frozen=True)
class NodeFile:
    path: str
    content: str
    mode: int = 0o644


_ENTRYPOINT = """\
#!/bin/bash
# drafarm kind node: prepare what systemd and the kubelet need inside a container, then exec init.
set -o errexit -o nounset -o pipefail

log() { echo "drafarm-node: $*"; }

# systemd in a container wants /sys read-only; the kubelet needs mounts to propagate.
mount -o remount,ro /sys || log "could not remount /sys read-only; continuing"
mount --make-rshared /

kubelet_cgroups_v1() {
  # cgroup v1 with a private cgroup namespace: give the kubelet its own root (/kubelet, and
  # /kubelet.slice for the systemd driver) in every hierarchy, held by a bind mount of itself so that
  # systemd does not remove it before the kubelet starts.
  mount --make-rprivate /sys/fs/cgroup
  local dir sub
  for dir in $(findmnt -lun -o target -t cgroup); do
    for sub in kubelet kubelet.slice; do
      mkdir -p "$dir/$sub"
      if [[ -f $dir/cpuset.cpus ]]; then
        cat "$dir/cpuset.cpus" >"$dir/$sub/cpuset.cpus"
        cat "$dir/cpuset.mems" >"$dir/$sub/cpuset.mems"
      fi
      mount --bind "$dir/$sub" "$dir/$sub"
    done
  done
}

if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  log "cgroup v2"
else
  if [[ $(grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/self/cgroup | cut -d: -f3) != / ]]; then
    log "cgroup v1 without a private cgroup namespace is not supported; run the node with --cgroupns=private"
    exit 1
  fi
  kubelet_cgroups_v1
  log "detected cgroup v1"
fi

# every node needs its own machine id (the image has none)
rm -f /etc/machine-id
systemd-machine-id-setup >/dev/null

log "starting $*"
exec "$@"
"""

_KUBELET_CGROUPS_V2 = """\
#!/bin/bash
# cgroup v2: the kubelet's cgroup roots (/kubelet, /kubelet.slice) with every controller enabled.
# Done from the kubelet unit, once systemd has moved its processes out of the root cgroup.
set -o errexit -o nounset -o pipefail
[[ -f /sys/fs/cgroup/cgroup.controllers ]] || exit 0
enable_all() {
  sed -e 's/ / +/g' -e 's/^/+/' <"/sys/fs/cgroup/$1/cgroup.controllers" >"/sys/fs/cgroup/$1/cgroup.subtree_control"
}
enable_all /
for group in kubelet kubelet.slice; do
  mkdir -p "/sys/fs/cgroup/$group"
  enable_all "$group"
done
"""

_IMPORT_IMAGES = f"""\
#!/bin/bash
# Import the images kubeadm runs (built offline by drafarm) into containerd, all at once, and pin them.
# containerd may be restarted meanwhile (kind applies config patches at boot): retry until imported.
set -o nounset -o pipefail
deadline=$((SECONDS + 300))
# kind names a control-plane node <cluster>-control-plane[N]; other nodes never run the control plane.
control_plane=false
[[ $(hostname) == *-control-plane* ]] && control_plane=true

import() {{
  until ctr --namespace k8s.io images import --all-platforms "$1" >/dev/null; do
    if ((SECONDS > deadline)); then
      echo "drafarm: importing $1 failed for 300s" >&2
      return 1
    fi
    sleep 1
  done
}}

pids=()
for archive in {IMAGES_DIR}/*.tar; do
  name=$(basename "$archive" .tar)
  if ! $control_plane && [[ " {" ".join(CONTROL_PLANE_ONLY)} " == *" $name "* ]]; then
    continue
  fi
  import "$archive" &
  pids+=($!)
done
failed=0
for pid in "${{pids[@]}}"; do
  wait "$pid" || failed=1
done
((failed == 0)) || exit 1
ctr --namespace k8s.io images list -q | while read -r ref; do
  ctr --namespace k8s.io images label "$ref" io.cri-containerd.pinned=pinned >/dev/null
done
"""

_CONTAINERD_UNIT = f"""\
[Unit]
Description=containerd (drafarm node)
After=network.target local-fs.target

[Service]
ExecStart={BIN}/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=1
TasksMax=infinity

[Install]
WantedBy=multi-user.target
"""

_IMPORT_UNIT = f"""\
[Unit]
Description=Import drafarm's offline images into containerd
After=containerd.service
Requires=containerd.service
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={BIN}/drafarm-import-images

[Install]
WantedBy=multi-user.target
"""

_KUBELET_UNIT = f"""\
[Unit]
Description=kubelet (drafarm node)
After=containerd.service drafarm-import-images.service
Wants=containerd.service
# kubeadm writes the config; until then there is nothing to run (and no crash loop)
ConditionPathExists=/var/lib/kubelet/config.yaml

[Service]
ExecStartPre={BIN}/drafarm-kubelet-cgroups
ExecStartPre=/bin/sh -c "[ -f /sys/fs/cgroup/cgroup.controllers ] || mkdir -p /sys/fs/cgroup/systemd/kubelet"
ExecStart={BIN}/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# kubeadm writes the node's flags here
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
Restart=always
StartLimitInterval=0
RestartSec=1s
CPUAccounting=true
MemoryAccounting=true
Slice=kubelet.slice
KillMode=process

[Install]
WantedBy=multi-user.target
"""

_KUBELET_SLICE = """\
[Unit]
Description=The kubelet and its pods
Before=slices.target

[Slice]
CPUAccounting=true
MemoryAccounting=true
"""


def containerd_config(sandbox_image: str) -> str:
    """containerd 2.x (config version 3): CRI with CDI, systemd cgroups (systemd is the node's PID 1)."""
    images = '"io.containerd.cri.v1.images"'
    runtime = '"io.containerd.cri.v1.runtime"'
    return f"""\
# drafarm kind node; the provider patches host-specific settings (restrict_oom_score_adj) at `up`.
version = 3

[plugins.{images}]
  snapshotter = "overlayfs"

[plugins.{images}.pinned_images]
  sandbox = "{sandbox_image}"

[plugins.{runtime}]
  enable_cdi = true
  cdi_spec_dirs = ["{CDI_SPEC_DIRS[0]}", "{CDI_SPEC_DIRS[1]}"]

[plugins.{runtime}.containerd]
  default_runtime_name = "runc"

[plugins.{runtime}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins.{runtime}.containerd.runtimes.runc.options]
  SystemdCgroup = true

[plugins.{runtime}.cni]
  bin_dirs = ["{CNI_BIN}"]
  conf_dir = "/etc/cni/net.d"
"""


def node_files(k8s_version: str, sandbox_image: str) -> list[NodeFile]:
    units = "/etc/systemd/system"
    return [
        NodeFile(ENTRYPOINT, _ENTRYPOINT, 0o755),
        NodeFile(f"{BIN}/drafarm-kubelet-cgroups", _KUBELET_CGROUPS_V2, 0o755),
        NodeFile(f"{BIN}/drafarm-import-images", _IMPORT_IMAGES, 0o755),
        NodeFile(f"{units}/containerd.service", _CONTAINERD_UNIT),
        NodeFile(f"{units}/drafarm-import-images.service", _IMPORT_UNIT),
        NodeFile(f"{units}/kubelet.service", _KUBELET_UNIT),
        NodeFile(f"{units}/kubelet.slice", _KUBELET_SLICE),
        NodeFile("/etc/containerd/config.toml", containerd_config(sandbox_image)),
        NodeFile("/etc/crictl.yaml", "runtime-endpoint: unix:///run/containerd/containerd.sock\n"),
        NodeFile("/etc/sysctl.d/10-drafarm-node.conf", "net.ipv4.ip_forward = 1\n"),
        NodeFile("/etc/machine-id", ""),
        NodeFile("/kind/version", k8s_version + "\n"),
    ]


ENABLED_UNITS = ("containerd.service", "drafarm-import-images.service", "kubelet.service")

# Units that only make sense on a real machine, masked so they neither fail nor wait in a container.
MASKED_UNITS = (
    "systemd-udevd.service",
    "systemd-udev-trigger.service",
    "systemd-modules-load.service",
    "systemd-remount-fs.service",
    "getty.target",
    "console-getty.service",
    "systemd-timesyncd.service",
)
