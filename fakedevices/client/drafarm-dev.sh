#!/bin/sh
# drafarm-dev.sh: plain-shell fallback of `python3 -m fakedevices.client` for images without python.
# Needs socat, or an nc with unix socket support (OpenBSD netcat: -U and -N). Reads the same env vars
# (fakedevices/client/ENV.md); prints the device's JSON responses, one per line; exits 1 when the device
# refused (a response with "ok":false), 2 on usage or connection problems.
#
#   drafarm-dev.sh info [KIND]              identity of the (first) device of each kind, or of one kind
#   drafarm-dev.sh gpu-run [N]              sum of squares 1..N on the GPU (default 1000)
#   drafarm-dev.sh gpu-alloc BYTES          allocate BYTES of GPU memory (freed when the command ends)
#   drafarm-dev.sh fpga-run TEXT            run the loaded bitstream's function on TEXT
#   drafarm-dev.sh camera-frames N          receive N frames
#   drafarm-dev.sh raw KIND JSON            send one request (KIND: gpu, fpga, camera, ...)
#
# DRAFARM_DEVICE_ID=<ID> picks DRAFARM_<KIND>_<ID>_* instead of DRAFARM_<KIND>_*.
set -u

TIMEOUT="${DRAFARM_TIMEOUT:-30}"

die() {
    printf '{"ok":false,"error":"%s"}\n' "$1"
    printf 'drafarm-dev: %s\n' "$1" >&2
    exit 2
}

# var KIND KEY -> value of DRAFARM_<KIND>[_<ID>]_<KEY>
var() {
    if [ -n "${DRAFARM_DEVICE_ID:-}" ]; then
        name="DRAFARM_${1}_${DRAFARM_DEVICE_ID}_${2}"
    else
        name="DRAFARM_${1}_${2}"
    fi
    eval "printf '%s' \"\${${name}:-}\""
}

json_string() {
    printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# send_unix PATH LINE
send_unix() {
    if command -v socat >/dev/null 2>&1; then
        printf '%s\n' "$2" | socat -t "$TIMEOUT" - "UNIX-CONNECT:$1"
    elif command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -- '-U'; then
        printf '%s\n' "$2" | nc -N -U "$1"
    else
        die "neither socat nor a netcat with -U is installed; install one or use python3 -m fakedevices.client"
    fi
}

# send_tcp HOST:PORT LINE
send_tcp() {
    host="${1%:*}"
    port="${1##*:}"
    host="$(printf '%s' "$host" | tr -d '[]')"
    if command -v socat >/dev/null 2>&1; then
        printf '%s\n' "$2" | socat -t "$TIMEOUT" - "TCP:$1"
    elif command -v nc >/dev/null 2>&1; then
        printf '%s\n' "$2" | nc -N "$host" "$port"
    else
        die "neither socat nor nc is installed; install one or use python3 -m fakedevices.client"
    fi
}

# kinds: the kinds the environment names a device of (DRAFARM_<KIND>[_<ID>]_SOCKET or _ADDR), sorted
kinds() {
    env | sed -n -e 's/^DRAFARM_\([A-Z][A-Z0-9]*\)_\([A-Z0-9_]*_\)\{0,1\}SOCKET=.*/\1/p' \
        -e 's/^DRAFARM_\([A-Z][A-Z0-9]*\)_\([A-Z0-9_]*_\)\{0,1\}ADDR=.*/\1/p' | sort -u
}

# request KIND JSON: to the session's unix socket, or to its address with its token
request() {
    kind="$1"
    body="$2"
    sock="$(var "$kind" SOCKET)"
    addr="$(var "$kind" ADDR)"
    if [ -n "$sock" ]; then
        out="$(send_unix "$sock" "$body")" || die "cannot reach $kind socket $sock"
    elif [ -n "$addr" ]; then
        token="$(var "$kind" TOKEN)"
        body="{\"token\":\"$(json_string "$token")\",${body#\{}"
        out="$(send_tcp "$addr" "$body")" || die "cannot reach $kind at $addr"
    else
        die "no $kind device: set DRAFARM_${kind}_SOCKET, or DRAFARM_${kind}_ADDR and DRAFARM_${kind}_TOKEN"
    fi
    [ -n "$out" ] || die "$kind closed the connection without answering"
    printf '%s\n' "$out"
    case "$out" in
        *'"ok":false'*) return 1 ;;
    esac
    return 0
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
    info)
        status=0
        found=0
        for kind in $(kinds); do
            lower="$(printf '%s' "$kind" | tr 'A-Z' 'a-z')"
            if [ -n "${1:-}" ] && [ "$1" != "$lower" ]; then continue; fi
            if [ -n "$(var "$kind" SOCKET)$(var "$kind" ADDR)" ]; then
                found=1
                request "$kind" '{"op":"info"}' || status=1
            fi
        done
        [ "$found" = 1 ] || die "no drafarm devices in the environment"
        exit "$status"
        ;;
    gpu-run) request GPU "{\"op\":\"run\",\"job\":\"sum-squares\",\"n\":${1:-1000}}" ;;
    gpu-alloc) request GPU "{\"op\":\"alloc\",\"bytes\":${1:?usage: gpu-alloc BYTES}}" ;;
    fpga-run) request FPGA "{\"op\":\"run\",\"input\":\"$(json_string "${1:?usage: fpga-run TEXT}")\"}" ;;
    camera-frames) request CAMERA "{\"op\":\"stream\",\"frames\":${1:-1}}" ;;
    raw)
        kind="$(printf '%s' "${1:?usage: raw KIND JSON}" | tr 'a-z' 'A-Z')"
        request "$kind" "${2:?usage: raw KIND JSON}"
        ;;
    *)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        [ -z "$cmd" ] || [ "$cmd" = "-h" ] || [ "$cmd" = "--help" ] || exit 2
        ;;
esac
