"""Put a collection that the pinned `ansible` package no longer carries into the venv.

ansible 14 (ansible-core 2.21) dropped awx.awx, which playbooks/awx_configure.yml and
tests/checks/test_awx_surveys.py use; Galaxy is unreachable here. The collection is taken,
unchanged, from an older `ansible` wheel on PyPI (pip download, the ordinary client) and
unpacked into this venv's site-packages/ansible_collections, where the `ansible` package
keeps its collections. Idempotent: nothing happens when the collection is there.

Usage: python tests/lib/vendor_collection.py awx.awx ansible==12.3.0   (run with the venv's python)
"""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(fqcn: str, requirement: str) -> int:
    namespace, name = fqcn.split(".")
    site = Path(sysconfig.get_paths()["purelib"])
    dest = site / "ansible_collections" / namespace / name
    if (dest / "MANIFEST.json").is_file():
        return 0
    cache = REPO / ".cache" / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    wanted = requirement.replace("==", "-")
    wheels = sorted(cache.glob(f"{wanted}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                        "--only-binary", ":all:", "-d", str(cache), requirement], check=True)
        wheels = sorted(cache.glob(f"{wanted}-*.whl"))
    if not wheels:
        sys.exit(f"[venv] no wheel for {requirement} in {cache}")
    prefix = f"ansible_collections/{namespace}/{name}/"
    with zipfile.ZipFile(wheels[-1]) as whl:
        members = [m for m in whl.namelist() if m.startswith(prefix)]
        if not members:
            sys.exit(f"[venv] {wheels[-1].name} carries no {fqcn}")
        whl.extractall(site, members)
    version = json.loads((dest / "MANIFEST.json").read_text())["collection_info"]["version"]
    print(f"[venv] {fqcn} {version} from {wheels[-1].name} (the pinned ansible package no longer carries it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
