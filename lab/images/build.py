"""Build seed.fleet's lab and test images with no registry.

bookworm (debootstrap from the host's Debian mirror, then ``docker import``)
  -> systemd  (a systemd host: python3, sudo, iproute2, ca-certificates, ssh)
  -> node     (systemd + the Debian packages our roles install, pre-fetched)

Every image carries the label ``org.seed-fleet.recipe``: a hash of its recipe
(its folder's files and its parent's hash). An image is rebuilt only when that
hash changes, so repeated runs cost a few ``docker image inspect`` calls.

Usage: build.py [IMAGE ...]   (default: all)
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LABEL = "org.seed-fleet.recipe"
SUITE = "bookworm"
BASE = "seed-fleet/bookworm"
# name -> parent image (None: the debootstrap root image itself).
IMAGES = {
    "bookworm": None,
    "systemd": "bookworm",
    "node": "systemd",
    "demo-app": "bookworm",
}
# Images that are also saved as an archive for ``docker load`` on lab hosts
# (the air-gapped path: app hosts have no registry either).
SAVE: dict[str, Path] = {"demo-app": REPO / ".lab" / "images" / "demo-app.tar"}


def say(msg: str) -> None:
    print(f"[images] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def debian_mirror() -> str:
    """The Debian mirror this host already uses (override: SEED_FLEET_DEBIAN_MIRROR)."""
    env = os.environ.get("SEED_FLEET_DEBIAN_MIRROR")
    if env:
        return env
    candidates: list[str] = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        text = path.read_text(errors="replace")
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(
                (k.strip().lower(), v.strip())
                for k, v in (line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#"))
            )
            if SUITE in fields.get("suites", "").split() and "security" not in fields.get("uris", ""):
                candidates.extend(fields.get("uris", "").split())
    sources_list = Path("/etc/apt/sources.list")
    if sources_list.exists():
        for line in sources_list.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                candidates.append(parts[1] if not parts[1].startswith("[") else parts[2])
    for uri in candidates:
        if uri.startswith("http"):
            return uri
    sys.exit("[images] no Debian mirror for bookworm found in /etc/apt; set SEED_FLEET_DEBIAN_MIRROR")


def recipe_hash(name: str) -> str:
    digest = hashlib.sha256()
    parent = IMAGES[name]
    digest.update(recipe_hash(parent).encode() if parent else f"debootstrap minbase {SUITE}".encode())
    folder = HERE / name
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_ref(name: str) -> str:
    return BASE if name == "bookworm" else f"seed-fleet/{name}"


def current_hash(ref: str) -> str | None:
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{ index .Config.Labels \"%s\" }}" % LABEL, f"{ref}:latest"],
        capture_output=True, text=True, check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def build_root(want: str) -> None:
    if not shutil.which("debootstrap"):
        say("installing Debian's debootstrap")
        run(["apt-get", "install", "-y", "-qq", "debootstrap"], stdout=subprocess.DEVNULL)
    mirror = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="seed-fleet-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        say(f"debootstrap --variant=minbase {SUITE} (about 30 s)")
        started = time.monotonic()
        run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror], stdout=subprocess.DEVNULL)
        say(f"debootstrap done in {time.monotonic() - started:.0f} s; docker import")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        run(
            ["docker", "import", "--change", f"LABEL {LABEL}={want}", "--change", 'CMD ["/bin/bash"]',
             "-", f"{BASE}:latest"],
            stdin=tar.stdout, stdout=subprocess.DEVNULL,
        )
        if tar.wait() != 0:
            sys.exit("[images] tar of the root file system failed")


_DONE: set[str] = set()


def build(name: str, force: bool) -> None:
    if name in _DONE:
        return
    _DONE.add(name)
    parent = IMAGES[name]
    if parent:
        build(parent, False)
    ref = image_ref(name)
    want = recipe_hash(name)
    if not force and current_hash(ref) == want:
        say(f"{ref}:latest is up to date ({want})")
        _save(name, ref, want)
        return
    say(f"building {ref}:latest (recipe {want})")
    started = time.monotonic()
    if parent is None:
        build_root(want)
    else:
        run([
            "docker", "build", "--quiet", "--build-arg", f"BASE={image_ref(parent)}:latest",
            "--label", f"{LABEL}={want}", "-t", f"{ref}:latest", "-t", f"{ref}:{want}", str(HERE / name),
        ], stdout=subprocess.DEVNULL)
    say(f"built {ref}:latest in {time.monotonic() - started:.0f} s")
    _save(name, ref, want, rebuilt=True)


def _save(name: str, ref: str, want: str, rebuilt: bool = False) -> None:
    target = SAVE.get(name)
    if not target:
        return
    stamp = target.with_suffix(".recipe")
    if not rebuilt and target.exists() and stamp.exists() and stamp.read_text() == want:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"saving {ref}:latest to {target.relative_to(REPO)}")
    run(["docker", "save", "-o", str(target), f"{ref}:latest"])
    stamp.write_text(want)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", help=f"images to build (default: all of {', '.join(IMAGES)})")
    parser.add_argument("--force", action="store_true", help="rebuild the named images even when up to date")
    args = parser.parse_args()
    unknown = [n for n in args.images if n not in IMAGES]
    if unknown:
        parser.error(f"unknown image(s): {', '.join(unknown)}")
    for name in args.images or list(IMAGES):
        build(name, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
