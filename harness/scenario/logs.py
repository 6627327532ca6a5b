"""Component logs since the scenario began, through the provider's `collect_logs` (no provider: none)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from clusters.provider import ClusterProvider


class ComponentLogs:
    def __init__(self, provider: ClusterProvider | None) -> None:
        self.provider = provider
        self._tmp = tempfile.TemporaryDirectory(prefix="drafarm-scenario-logs-")
        self.overrides: dict[str, Path] = {}
        """Components whose log is this file instead (a scheduler run beside the cluster's)."""
        self._offsets: dict[str, int] = {}
        self._offsets = {name: len(text) for name, text in self._read_all().items()}

    def close(self) -> None:
        self._tmp.cleanup()

    def _read_all(self) -> dict[str, str]:
        if self.provider is None:
            return {}
        dest = Path(self._tmp.name) / "now"
        written = self.provider.collect_logs(dest)
        out = {}
        for path in written:
            if path.suffix == ".log":
                out[path.name] = path.read_text(errors="replace")
        return out

    def since_start(self, component: str) -> str:
        """The component's log written since the scenario began ("" when it has none)."""
        if component in self.overrides:
            return self.overrides[component].read_text(errors="replace")
        for name, text in self._read_all().items():
            if _component_of(name) == component:
                return text[self._offsets.get(name, 0) :]
        return ""

    def available(self) -> bool:
        return self.provider is not None or bool(self.overrides)

    def copy_to(self, dest: Path) -> list[Path]:
        written = self.provider.collect_logs(dest) if self.provider is not None else []
        for component, path in self.overrides.items():
            dest.mkdir(parents=True, exist_ok=True)
            target = dest / f"{component}-beside.log"
            target.write_bytes(path.read_bytes())
            written.append(target)
        return written


def _component_of(file_name: str) -> str:
    return re.sub(r"(-\d+)?\.log$", "", file_name)


def lines_around(text: str, needles: list[str], limit: int = 12) -> list[str]:
    """The last `limit` lines that mention any needle, or that look like an error or a panic."""
    pattern = re.compile("|".join([*(re.escape(n) for n in needles if n), r"\bpanic\b|^goroutine \d+ \["]))
    hits = [line for line in text.splitlines() if pattern.search(line)]
    return [line[:300] for line in hits[-limit:]]
