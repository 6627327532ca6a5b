"""How long an instance of the node's plugin takes to stop while another one serves the node (a rolling
upgrade; `server.PluginServer.stop`), wait by wait. A DaemonSet's terminationGracePeriodSeconds must
cover `STOP_S`, or the instance is killed mid-switch (clusters/driver/manifest.py)."""

from __future__ import annotations

DRAIN_S = 2.0
"""How long a stopping instance keeps answering the kubelet after it deregistered, while another instance
is registered: the kubelet's plugin manager sees a registration socket gone on its next round (every
second) and calls the other instance from then on; calls sent here before that must not fail."""
GRPC_GRACE_S = 1.0
"""How long calls in progress get when a kubelet socket stops serving (registration, then the DRA one:
the health stream the kubelet keeps open there takes all of it)."""
HANDOVER_S = 5.0
"""How long a stopping instance waits for another to take its sockets over before it closes them."""
CONNECTIONS_S = 2.0
"""How long a stopping instance whose sockets another one has taken lets its containers' connections
still open end by themselves (a command in progress finishes) before it closes them."""
STOP_S = 2 * (GRPC_GRACE_S + 1) + DRAIN_S + HANDOVER_S + CONNECTIONS_S
"""The bounded waits of a stop end to end (each gRPC stop waits a second past its grace); stopping the
threads and the emulators after them takes a moment more."""
