"""The layer's requirements, derived: pyproject.toml declares Parley's runtime dependencies once;
constraints.txt pins every package CI installs; layers/parley/requirements.txt is what the layer
ships: the runtime dependencies and everything they pull in, at the pinned versions, less what
the Lambda runtime provides (boto3 and its own dependencies). `make requirements` writes it; a
test fails when it drifts.

`make lock` refreshes constraints.txt from a fresh resolution of pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement

from local.template import ROOT

PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / "constraints.txt"
LAYER_REQUIREMENTS = ROOT / "layers" / "parley" / "requirements.txt"
# The python3.13 Lambda runtime ships the AWS SDK; the layer must not shadow it.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
# Markers are evaluated for the layer's runtime, python3.13 on Linux arm64.
LAMBDA: dict[str, str] = {
    **{name: str(value) for name, value in default_environment().items()},
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "platform_machine": "aarch64",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "implementation_name": "cpython",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    """{package: version} of constraints.txt."""
    found = {}
    for text in CONSTRAINTS.read_text().splitlines():
        pin = text.split("#", 1)[0].strip()
        if "==" in pin:
            name, version = pin.split("==", 1)
            found[canonical(name)] = version.strip()
    return found


def runtime_dependencies() -> list[Requirement]:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return [Requirement(text) for text in declared]


def closure(requirements: list[Requirement]) -> set[str]:
    """The packages these requirements install on the layer's runtime (as the installed
    distributions declare their own requirements), less what the runtime provides."""
    pending = [(r, frozenset(r.extras)) for r in requirements]
    seen: set[str] = set()
    while pending:
        requirement, extras = pending.pop()
        name = canonical(requirement.name)
        if name in RUNTIME_PROVIDED or name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({**LAMBDA, "extra": extra}) for extra in (*extras, "")
            ):
                pending.append((needed, frozenset(needed.extras)))
    return seen


def render() -> str:
    pinned = pins()
    lines = [
        "# Derived from pyproject.toml and constraints.txt by `make requirements`: do not edit.",
        "# What the layer ships; boto3 and its dependencies come with the python3.13 Lambda runtime.",
    ]
    for name in sorted(closure(runtime_dependencies())):
        if name not in pinned:
            raise SystemExit(f"{name} is not pinned in constraints.txt: run `make lock`.")
        lines.append(f"{name}=={pinned[name]}")
    return "\n".join(lines) + "\n"


def main() -> None:
    LAYER_REQUIREMENTS.write_text(render())
    print(f"wrote {LAYER_REQUIREMENTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
