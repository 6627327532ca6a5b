"""Commands of ``python3 -m fakedevices.client`` (stdlib only). Every command prints one JSON object."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fakedevices.client import env
from fakedevices.client.check import fpga_expected, gpu_expected
from fakedevices.client.jsontext import parse_json
from fakedevices.client.transport import ClientError, Connection, DeviceError, Message

EXIT_OK, EXIT_DEVICE, EXIT_USAGE, EXIT_CHECK = 0, 1, 2, 3
MAX_TIMEOUT_SECONDS = 86_400.0
# The kinds this client has commands of its own for, each with the key that says where it is reached.
# `info`, `<kind>-info` and `raw` serve any other kind the environment names as well.
COMMAND_KINDS = {"gpu": env.SOCKET, "fpga": env.SOCKET, "camera": env.ADDR}

_SIZE = re.compile(r"(\d+)\s*([KMGT]i?)?B?", re.IGNORECASE)
_UNITS = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}


class CheckFailed(Exception):
    """A ``--check`` found a wrong result."""

    def __init__(self, message: str, output: Message) -> None:
        super().__init__(message)
        self.output = output


def parse_size(text: str) -> int:
    """``1024``, ``4Ki``, ``2MiB``, ``1G`` -> bytes."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ClientError(f"size {text!r} must be a number with an optional unit (Ki, Mi, Gi, K, M, G)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


def _seconds(text: str) -> float:
    """A timeout: a finite number of seconds above 0 (argparse reports the ValueError as a usage error)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds above 0 and at most {MAX_TIMEOUT_SECONDS:g}")
    return value


_FLAGS = {env.SOCKET: "--socket", env.ADDR: "--addr/--token"}


def _keys(kind: str) -> list[str]:
    """How a kind's device is reached: its one key if the client knows the kind, else either."""
    return [COMMAND_KINDS[kind]] if kind in COMMAND_KINDS else [env.SOCKET, env.ADDR]


def _pick(args: argparse.Namespace, kind: str, environ: Mapping[str, str]) -> env.DeviceRef:
    if args.addr and env.ADDR in _keys(kind):
        return env.DeviceRef(kind=kind, id=None, addr=args.addr, token=args.token)
    if args.socket and env.SOCKET in _keys(kind):
        return env.DeviceRef(kind=kind, id=None, socket=args.socket)
    refs = [r for r in env.discover(environ) if r.kind == kind]
    if args.device is not None:
        wanted = env.normalize_id(args.device)
        refs = [r for r in refs if r.id == wanted or r.device == args.device]
    if not refs:
        which = f" named {args.device!r}" if args.device else ""
        names = " or ".join(f"{env.var_name(kind, key)} (or {env.var_name(kind, key, '0')})" for key in _keys(kind))
        flags = " or ".join(_FLAGS[key] for key in _keys(kind))
        raise ClientError(f"no {kind} device{which} in the environment: set {names} or pass {flags}")
    return refs[0]


def _connect(ref: env.DeviceRef, timeout: float) -> Connection:
    if ref.addr and env.ADDR in _keys(ref.kind):
        return Connection.tcp(ref.addr, timeout)
    if ref.socket and env.SOCKET in _keys(ref.kind):
        return Connection.unix(ref.socket, timeout)
    missing = " or ".join(env.var_name(ref.kind, key, ref.id) for key in _keys(ref.kind))
    what = {env.SOCKET: "socket", env.ADDR: "address"}
    raise ClientError(f"{ref.label}: no {' or '.join(what[key] for key in _keys(ref.kind))} ({missing})")


def _with_token(ref: env.DeviceRef, message: Message) -> Message:
    if ref.addr and ref.token:
        return {**message, "token": ref.token}
    return message


def _info(ref: env.DeviceRef, timeout: float) -> Message:
    with _connect(ref, timeout) as conn:
        response = conn.request(_with_token(ref, {"op": "info"}))
    response.pop("ok", None)
    return {"ref": ref.label, **response}


# ---- commands ------------------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    if args.socket or args.addr:
        kind = args.kind or ("camera" if args.addr else "gpu")
        return {"ok": True, "devices": [_info(_pick(args, kind, environ), args.timeout)]}
    refs = [r for r in env.discover(environ) if args.kind in (None, r.kind)]
    if args.device is not None:
        refs = [r for r in refs if r.id == env.normalize_id(args.device) or r.device == args.device]
    if not refs:
        raise ClientError("no drafarm devices in the environment (DRAFARM_<KIND>[_<ID>]_SOCKET/ADDR unset)")
    return {"ok": True, "devices": [_info(ref, args.timeout) for ref in refs]}


def _kind_info(kind: str) -> Callable[[argparse.Namespace, Mapping[str, str]], Message]:
    def run(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
        return {"ok": True, **_info(_pick(args, kind, environ), args.timeout)}

    return run


def cmd_gpu_alloc(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    sizes = [parse_size(s) for s in args.sizes]
    ref = _pick(args, "gpu", environ)
    done: list[Message] = []
    with _connect(ref, args.timeout) as conn:
        for size in sizes:
            try:
                response = conn.request({"op": "alloc", "bytes": size})
            except DeviceError as exc:
                raise DeviceError(str(exc), {"ref": ref.label, "allocations": done, "refused_bytes": size}) from None
            response.pop("ok", None)
            done.append(response)
        if args.free:
            for allocation in done:
                conn.request({"op": "free", "handle": allocation["handle"]})
    return {"ok": True, "ref": ref.label, "allocations": done, "total_bytes": sum(sizes)}


def cmd_gpu_run(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    ref = _pick(args, "gpu", environ)
    request: Message = {"op": "run", "job": args.job}
    if args.n is not None:
        request["n"] = args.n
    with _connect(ref, args.timeout) as conn:
        response = conn.request(request)
    response["ref"] = ref.label
    if args.check:
        expected = gpu_expected(response["job"], response["n"])
        _check(response, "result", expected, f"gpu job {response['job']} n={response['n']}")
    return response


def cmd_fpga_run(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    ref = _pick(args, "fpga", environ)
    value: Any = parse_json(args.input, "--input") if args.json else args.input
    with _connect(ref, args.timeout) as conn:
        response = conn.request({"op": "run", "input": value})
    response["ref"] = ref.label
    if args.check:
        _check(response, "output", fpga_expected(response["function"], value), f"fpga function {response['function']}")
    return response


def _check(response: Message, key: str, expected: Any, what: str) -> None:
    """`--check`: the response's `key` must be `expected`, which the response then shows too."""
    response["expected"] = expected
    if response[key] != expected:
        raise CheckFailed(f"{what}: got a wrong result", response)


def cmd_camera_frames(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    ref = _pick(args, "camera", environ)
    request = _with_token(ref, {"op": "stream", "frames": args.count, "seconds": args.seconds})
    if args.count == 0 and args.seconds == 0:
        raise ClientError("camera-frames needs --count N or --seconds T (or both)")
    frames: list[Message] = []
    total_bytes = 0
    end: Message | None = None
    error: str | None = None
    with _connect(ref, args.timeout) as conn:
        conn.send(request)
        while True:
            response = conn.receive()
            if response is None:
                error = error or "camera closed the connection"
                break
            if not response.get("ok"):
                error = str(response.get("error"))
                break
            if "frame" in response:
                frame = response["frame"]
                total_bytes += len(frame.pop("data", ""))
                frames.append(frame)
                if args.show_frames:
                    print(json.dumps({"frame": frame}), flush=True)
                continue
            end = response
            break
    summary = _frames_summary(ref, frames, total_bytes, end)
    if error is not None:
        raise DeviceError(error, summary)
    if args.check:
        problems = _frame_problems(frames)
        if problems:
            summary["problems"] = problems
            raise CheckFailed(f"camera frames inconsistent: {problems[0]}", summary)
    return summary


def _frames_summary(ref: env.DeviceRef, frames: list[Message], total_bytes: int, end: Message | None) -> Message:
    times = [float(f["t"]) for f in frames]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    counters = [int(f["counter"]) for f in frames]
    first = frames[0] if frames else {}
    return {
        "ok": True,
        "ref": ref.label,
        "camera": first.get("camera"),
        "serial": first.get("serial"),
        "session": first.get("session"),
        "frames": len(frames),
        "bytes": total_bytes,
        "counters": counters,
        "counters_increasing": all(b > a for a, b in itertools.pairwise(counters)),
        "server_seconds": round(times[-1] - times[0], 6) if len(times) > 1 else 0.0,
        "min_gap": round(min(gaps), 6) if gaps else None,
        "interval": None if end is None else end.get("interval"),
        "end": None if end is None else end.get("reason"),
    }


def _frame_problems(frames: list[Message]) -> list[str]:
    if not frames:
        return ["no frames received"]
    problems = []
    first = frames[0]
    for i, frame in enumerate(frames):
        for key in ("camera", "serial", "session"):
            if frame.get(key) != first.get(key):
                problems.append(f"frame {i}: {key} {frame.get(key)!r} != {first.get(key)!r}")
        if frame.get("seq") != i + 1:
            problems.append(f"frame {i}: seq {frame.get('seq')} != {i + 1}")
        if i and frame["counter"] <= frames[i - 1]["counter"]:
            problems.append(f"frame {i}: counter {frame['counter']} not above {frames[i - 1]['counter']}")
    return problems


def cmd_camera_ptz(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    ref = _pick(args, "camera", environ)
    request: Message = {"op": "ptz"}
    for axis in ("pan", "tilt", "zoom"):
        if getattr(args, axis) is not None:
            request[axis] = getattr(args, axis)
    with _connect(ref, args.timeout) as conn:
        response = conn.request(_with_token(ref, request))
        if args.release:
            conn.request({"op": "release-control"})
    return {**response, "ref": ref.label}


def cmd_camera_release(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    ref = _pick(args, "camera", environ)
    with _connect(ref, args.timeout) as conn:
        return {**conn.request(_with_token(ref, {"op": "release-control"})), "ref": ref.label}


def cmd_raw(args: argparse.Namespace, environ: Mapping[str, str]) -> Message:
    ref = _pick(args, args.kind or "gpu", environ)
    request = parse_json(args.request, "request")
    if not isinstance(request, dict):
        raise ClientError(f'request must be a JSON object such as {{"op": "info"}}, got {type(request).__name__}')
    with _connect(ref, args.timeout) as conn:
        return conn.request(_with_token(ref, request))


# ---- argument parsing ----------------------------------------------------------------------------
def build_parser(kinds: Sequence[str] = tuple(COMMAND_KINDS)) -> argparse.ArgumentParser:
    """The commands; `kinds` are the kinds `info --kind`, `<kind>-info` and `raw --kind` accept."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--socket", help="GPU/FPGA session socket (default: DRAFARM_<KIND>[_<ID>]_SOCKET)")
    common.add_argument("--addr", help="camera host:port (default: DRAFARM_CAMERA[_<ID>]_ADDR)")
    common.add_argument("--token", help="camera session token (default: DRAFARM_CAMERA[_<ID>]_TOKEN)")
    common.add_argument("--device", help="which device when several are given: its <ID> or device name")
    common.add_argument("--timeout", type=_seconds, default=30.0, help="socket timeout in seconds (default 30)")
    parser = argparse.ArgumentParser(prog="python3 -m fakedevices.client", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", parents=[common], help="identity and session of every device given")
    p.add_argument("--kind", choices=kinds)
    p.set_defaults(func=cmd_info)
    for kind in kinds:
        sub.add_parser(f"{kind}-info", parents=[common], help=f"one {kind}'s identity").set_defaults(
            func=_kind_info(kind)
        )

    p = sub.add_parser("gpu-alloc", parents=[common], help="allocate GPU memory (in one connection)")
    p.add_argument("sizes", nargs="+", metavar="SIZE", help="bytes, or with a unit: 512Mi, 2Gi, 1G")
    p.add_argument("--free", action="store_true", help="free the allocations again before exiting")
    p.set_defaults(func=cmd_gpu_alloc)

    p = sub.add_parser("gpu-run", parents=[common], help="run a compute job")
    p.add_argument("--job", default="sum-squares", choices=["sum-squares", "matmul"])
    p.add_argument("--n", type=int)
    p.add_argument("--check", action="store_true", help="verify the result (exit 3 if wrong)")
    p.set_defaults(func=cmd_gpu_run)

    p = sub.add_parser("fpga-run", parents=[common], help="run the loaded bitstream's function")
    p.add_argument("--input", required=True)
    p.add_argument("--json", action="store_true", help="parse --input as JSON (vector-add)")
    p.add_argument("--check", action="store_true", help="verify the result (exit 3 if wrong)")
    p.set_defaults(func=cmd_fpga_run)

    p = sub.add_parser("camera-frames", parents=[common], help="receive frames and summarize them")
    p.add_argument("--count", type=int, default=0, help="stop after N frames")
    p.add_argument("--seconds", type=float, default=0.0, help="stop after T seconds (server clock)")
    p.add_argument("--check", action="store_true", help="verify identity and counters (exit 3 if wrong)")
    p.add_argument("--show-frames", action="store_true", help="print each frame header as it arrives")
    p.set_defaults(func=cmd_camera_frames)

    p = sub.add_parser("camera-ptz", parents=[common], help="move the camera (takes exclusive control)")
    p.add_argument("--pan", type=float)
    p.add_argument("--tilt", type=float)
    p.add_argument("--zoom", type=float)
    p.add_argument("--release", action="store_true", help="release control afterwards")
    p.set_defaults(func=cmd_camera_ptz)

    sub.add_parser("camera-release", parents=[common], help="release exclusive control").set_defaults(
        func=cmd_camera_release
    )

    p = sub.add_parser("raw", parents=[common], help="send one JSON request, print the response")
    p.add_argument("--kind", choices=kinds)
    p.add_argument("request")
    p.set_defaults(func=cmd_raw)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    kinds = [*COMMAND_KINDS, *(kind for kind in env.kinds_in(environ) if kind not in COMMAND_KINDS)]
    args = build_parser(kinds).parse_args(argv)
    func: Callable[[argparse.Namespace, Mapping[str, str]], Message] = args.func
    try:
        output = func(args, environ)
    except DeviceError as exc:
        print(json.dumps({**exc.response, "ok": False, "error": str(exc)}))
        print(f"drafarm client: device error: {exc}", file=sys.stderr)
        return EXIT_DEVICE
    except CheckFailed as exc:
        print(json.dumps({**exc.output, "ok": False, "error": str(exc)}))
        print(f"drafarm client: check failed: {exc}", file=sys.stderr)
        return EXIT_CHECK
    except ClientError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))
        print(f"drafarm client: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(output))
    return EXIT_OK
