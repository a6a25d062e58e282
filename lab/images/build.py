"""Build seed.fleet's lab and test images with no registry, per Debian suite.

debian:<suite> (debootstrap from the host's Debian mirror, then ``docker import``)
  -> systemd:<suite>  (a systemd host: python3, sudo, iproute2, ca-certificates, ssh)
  -> node:<suite>     (systemd + the Debian packages our roles install, pre-fetched)
demo-app  (the test app, on bookworm whatever the suites; saved as an archive for ``docker load``)

Images are named ``seed-fleet/<image>:<suite>`` (e.g. ``seed-fleet/node:trixie``) and
also tagged ``<suite>-<recipe hash>``. Every image carries the label
``org.seed-fleet.recipe``: a hash of its recipe (the suite, its folder's files and its
parent's hash). An image is rebuilt only when that hash changes, so repeated runs cost
a few ``docker image inspect`` calls.

Usage: build.py [--suite SUITE ...] [IMAGE ...]   (default: every image; suites from
       SEED_FLEET_SUITES, comma-separated, else bookworm)
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
# The Debian suites a host image can be built from (the releases the roles support).
SUITES = ("bookworm", "trixie")
DEFAULT_SUITES = "bookworm"
# name -> parent image (None: the debootstrap root image itself).
IMAGES = {
    "debian": None,
    "systemd": "debian",
    "node": "systemd",
    "demo-app": "debian",
}
# Images built once, on one fixed suite, not per suite (the test app).
ONCE = {"demo-app"}
# The lab, the scenarios and the benchmark load it from the archive as seed-fleet/demo-app:bookworm.
DEMO_APP_SUITE = "bookworm"
# Images that are also saved as an archive for ``docker load`` on lab hosts
# (the air-gapped path: app hosts have no registry either).
SAVE: dict[str, Path] = {"demo-app": REPO / ".lab" / "images" / "demo-app.tar"}


def say(msg: str) -> None:
    print(f"[images] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def debian_mirror() -> str:
    """The Debian mirror this host already uses for its own release (override:
    SEED_FLEET_DEBIAN_MIRROR). The same mirror serves every suite."""
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
            suites = fields.get("suites", "").split()
            if any(x in SUITES for x in suites) and "security" not in fields.get("uris", ""):
                candidates.extend(fields.get("uris", "").split())
    sources_list = Path("/etc/apt/sources.list")
    if sources_list.exists():
        for line in sources_list.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] in SUITES:
                candidates.append(parts[1] if not parts[1].startswith("[") else parts[2])
    for uri in candidates:
        if uri.startswith("http"):
            return uri
    sys.exit("[images] no Debian mirror for %s found in /etc/apt; set SEED_FLEET_DEBIAN_MIRROR" % "/".join(SUITES))


def recipe_hash(name: str, suite: str) -> str:
    digest = hashlib.sha256()
    parent = IMAGES[name]
    digest.update(recipe_hash(parent, suite).encode() if parent else f"debootstrap minbase {suite}".encode())
    folder = HERE / name
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_ref(name: str, suite: str) -> str:
    """The reference scenarios, the lab and the benchmark use: seed-fleet/node:trixie (demo-app: its one suite)."""
    return f"seed-fleet/{name}:{DEMO_APP_SUITE if name in ONCE else suite}"


def current_hash(ref: str) -> str | None:
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{ index .Config.Labels \"%s\" }}" % LABEL, ref],
        capture_output=True, text=True, check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def build_root(suite: str, ref: str, want: str) -> None:
    if not shutil.which("debootstrap"):
        say("installing Debian's debootstrap")
        run(["apt-get", "install", "-y", "-qq", "debootstrap"], stdout=subprocess.DEVNULL)
    mirror = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="seed-fleet-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        say(f"debootstrap --variant=minbase {suite} (about 30 s)")
        started = time.monotonic()
        run(["debootstrap", "--variant=minbase", suite, str(rootfs), mirror], stdout=subprocess.DEVNULL)
        say(f"debootstrap done in {time.monotonic() - started:.0f} s; docker import")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        run(
            ["docker", "import", "--change", f"LABEL {LABEL}={want}", "--change", 'CMD ["/bin/bash"]',
             "-", ref],
            stdin=tar.stdout, stdout=subprocess.DEVNULL,
        )
        if tar.wait() != 0:
            sys.exit("[images] tar of the root file system failed")
    run(["docker", "tag", ref, f"{ref}-{want}"])


_DONE: set[tuple[str, str]] = set()


def build(name: str, suite: str, force: bool) -> None:
    if (name, suite) in _DONE:
        return
    _DONE.add((name, suite))
    parent = IMAGES[name]
    if parent:
        build(parent, suite, False)
    ref = image_ref(name, suite)
    want = recipe_hash(name, suite)
    if not force and current_hash(ref) == want:
        say(f"{ref} is up to date ({want})")
        _save(name, ref, want)
        return
    say(f"building {ref} (recipe {want})")
    started = time.monotonic()
    if parent is None:
        build_root(suite, ref, want)
    else:
        tags = ["-t", ref] if name in ONCE else ["-t", ref, "-t", f"{ref}-{want}"]
        run([
            "docker", "build", "--quiet", "--build-arg", f"BASE={image_ref(parent, suite)}",
            "--label", f"{LABEL}={want}", *tags, str(HERE / name),
        ], stdout=subprocess.DEVNULL)
    say(f"built {ref} in {time.monotonic() - started:.0f} s")
    _save(name, ref, want, rebuilt=True)


def _save(name: str, ref: str, want: str, rebuilt: bool = False) -> None:
    target = SAVE.get(name)
    if not target:
        return
    stamp = target.with_suffix(".recipe")
    if not rebuilt and target.exists() and stamp.exists() and stamp.read_text() == want:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"saving {ref} to {target.relative_to(REPO)}")
    run(["docker", "save", "-o", str(target), ref])
    stamp.write_text(want)


def suites_wanted(cli: list[str] | None) -> list[str]:
    names = cli or [s for s in re.split(r"[,\s]+", os.environ.get("SEED_FLEET_SUITES", DEFAULT_SUITES)) if s]
    unknown = [s for s in names if s not in SUITES]
    if unknown:
        sys.exit(f"[images] unsupported suite(s): {', '.join(unknown)} (supported: {', '.join(SUITES)})")
    return list(dict.fromkeys(names))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", help=f"images to build (default: all of {', '.join(IMAGES)})")
    parser.add_argument("--suite", action="append", choices=SUITES,
                        help="Debian suite to build for (repeat for several; default: SEED_FLEET_SUITES or bookworm)")
    parser.add_argument("--force", action="store_true", help="rebuild the named images even when up to date")
    args = parser.parse_args()
    unknown = [n for n in args.images if n not in IMAGES]
    if unknown:
        parser.error(f"unknown image(s): {', '.join(unknown)}")
    suites = suites_wanted(args.suite)
    for name in args.images or list(IMAGES):
        for suite in [DEMO_APP_SUITE] if name in ONCE else suites:
            build(name, suite, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
