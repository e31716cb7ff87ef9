"""The systemd unit in deploy/: accepted by systemd (`systemd-analyze verify`), hardened, and
running a command line that statusgen accepts."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from statusgen.cli import _parser
from tests.conftest import ROOT

UNIT = ROOT / "deploy" / "statusgen-subscriptions.service"
STATUSGEN = "/opt/statusgen/bin/statusgen"


def directives() -> dict[str, dict[str, list[str]]]:
    """section → key → every value (a key may be given more than once), comments left out."""
    found: dict[str, dict[str, list[str]]] = {}
    section = ""
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            found[section] = {}
            continue
        key, value = line.split("=", 1)
        found[section].setdefault(key, []).append(value)
    return found


def setting(section: str, key: str) -> str:
    [value] = directives()[section][key]
    return value


def test_the_service_runs_as_its_own_user_with_its_secrets_from_a_file_and_restarts() -> None:
    assert set(directives()) == {"Unit", "Service", "Install"}
    assert setting("Service", "User") == setting("Service", "Group") == "statusgen"
    assert setting("Service", "EnvironmentFile") == "/etc/statusgen/subscriptions.env"
    assert "SECRET" not in setting("Service", "Environment")  # secrets only in the file
    assert setting("Service", "Restart") == "on-failure"
    assert setting("Unit", "After") == setting("Unit", "Wants") == "network-online.target"
    assert setting("Install", "WantedBy") == "multi-user.target"


def test_it_may_use_the_network_and_read_the_site_and_nothing_more() -> None:
    service = directives()["Service"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectControlGroups", "RestrictNamespaces", "RestrictSUIDSGID",
                "LockPersonality"):
        assert service[key] == ["yes"], key
    assert service["ProtectSystem"] == ["strict"]  # all of the file system read-only...
    assert service["ReadWritePaths"] == ["-/srv/status/.statusgen"]  # ...but the SQLite store, if there is one
    assert service["CapabilityBoundingSet"] == [""] and service["UMask"] == ["0077"]
    assert service["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert service["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]


def test_its_command_line_is_one_statusgen_accepts() -> None:
    command = shlex.split(setting("Service", "ExecStart"))
    assert command[0] == STATUSGEN
    args = _parser().parse_args(command[1:])
    assert (args.command, args.subscriptions_action) == ("subscriptions", "serve")
    assert (args.host, args.port, str(args.site)) == ("127.0.0.1", 8025, setting("Service", "WorkingDirectory"))
    assert setting("Service", "ReadWritePaths") == f"-{args.site}/.statusgen"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """`systemd-analyze verify` (Debian's systemd) where it is installed, with the program it
    starts put in place; where it is not, the tests above are what checks the unit."""
    analyze = shutil.which("systemd-analyze")
    program = tmp_path / "bin" / "statusgen"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(STATUSGEN, str(program)), encoding="utf-8")
    assert unit.read_text(encoding="utf-8").count(str(program)) == 1
    if analyze is None:
        return
    done = subprocess.run([analyze, "verify", unit.name], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
