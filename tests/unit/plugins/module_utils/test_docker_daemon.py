# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json logic: merge/remove/replace, reload-vs-restart, built-in checks, dockerd validation."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.seed.fleet.plugins.module_utils._docker_daemon import (
    DaemonConfigError,
    DockerdValidator,
    builtin_errors,
    changes,
    classify,
    compute,
    load_text,
    merge_patch,
    render,
)

BASE = {"live-restore": True, "log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}


# --- merge / remove / replace --------------------------------------------

@pytest.mark.parametrize(
    "config, remove, replace, expected",
    [
        ({}, [], False, BASE),
        ({"debug": True}, [], False, dict(BASE, debug=True)),
        ({"log-opts": {"max-size": "50m"}}, [], False, dict(BASE, **{"log-opts": {"max-size": "50m", "max-file": "3"}})),
        ({"log-opts": {"max-file": None}}, [], False, dict(BASE, **{"log-opts": {"max-size": "10m"}})),
        ({"live-restore": None}, [], False, {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}),
        ({}, ["log-opts", "not-there"], False, {"live-restore": True, "log-driver": "json-file"}),
        ({"registry-mirrors": ["https://m.example"]}, [], True, {"registry-mirrors": ["https://m.example"]}),
        ({"debug": True, "labels": None}, [], True, {"debug": True}),
    ],
    ids=["noop", "add", "nested-merge", "nested-null-removes", "top-null-removes", "remove-keys",
         "replace", "replace-drops-nulls"],
)
def test_compute(config, remove, replace, expected):
    start = {"live-restore": True, "log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}
    snapshot = render(start)
    assert compute(start, config, remove, replace) == expected
    assert render(start) == snapshot  # inputs never mutated


def test_lists_replace_not_append():
    start = dict(BASE, **{"registry-mirrors": ["https://a"]})
    assert compute(start, {"registry-mirrors": ["https://b"]})["registry-mirrors"] == ["https://b"]


def test_merge_patch_is_rfc7386():
    # RFC 7386 appendix A examples (subset)
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


@pytest.mark.parametrize(
    "config, remove, message",
    [
        ({"debug": True}, ["debug"], "both set in config and listed in remove_keys: debug"),
        ({"": 1}, [], "non-empty strings"),
        ({}, [" "], "non-empty strings"),
        (["debug"], [], "config must be a dictionary"),
    ],
)
def test_compute_bad_input(config, remove, message):
    with pytest.raises(DaemonConfigError, match=message):
        compute(BASE, config, remove)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"debug": true', "is not valid JSON"),
        ("[1, 2]", "JSON object at the top level, found list"),
        ('"x"', "found str"),
    ],
)
def test_load_text_rejects(text, message):
    with pytest.raises(DaemonConfigError, match=message):
        load_text(text, "/etc/docker/daemon.json")


@pytest.mark.parametrize("text", [None, "", "  \n"])
def test_load_text_empty_is_empty_config(text):
    assert load_text(text) == {}


def test_render_is_canonical():
    assert render({"b": 1, "a": {"d": 1, "c": 2}}) == '{\n  "a": {\n    "c": 2,\n    "d": 1\n  },\n  "b": 1\n}\n'
    assert load_text(render(BASE)) == BASE


# --- reload or restart -----------------------------------------------------

@pytest.mark.parametrize(
    "before, after, action, reload_keys, restart_keys",
    [
        (BASE, BASE, "none", [], []),
        (BASE, dict(BASE, debug=True), "reload", ["debug"], []),
        # dockerd's reload applies debug only `if conf.IsValueSet("debug")`: once the key is gone
        # from the file the old value stays live until a restart
        (dict(BASE, debug=True), BASE, "restart", [], ["debug"]),
        (BASE, dict(BASE, **{"max-concurrent-downloads": 6, "registry-mirrors": ["https://m"]}), "reload",
         ["max-concurrent-downloads", "registry-mirrors"], []),
        (BASE, dict(BASE, **{"live-restore": False}), "reload", ["live-restore"], []),
        (BASE, dict(BASE, **{"log-opts": {"max-size": "20m", "max-file": "3"}}), "restart", [], ["log-opts"]),
        (BASE, dict(BASE, debug=True, **{"data-root": "/srv/docker"}), "restart", ["debug"], ["data-root"]),
        ({}, {"default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]}, "restart", [], ["default-address-pools"]),
    ],
    ids=["same", "add-debug", "drop-debug", "two-reloadable", "live-restore", "log-opts", "mixed", "pools"],
)
def test_classify(before, after, action, reload_keys, restart_keys):
    got = classify(changes(before, after))
    assert got == {"action": action, "reload_keys": reload_keys, "restart_keys": restart_keys}


def test_changes_lists_old_and_new_values():
    assert changes({"debug": False, "x": 1}, {"debug": True}) == [
        {"key": "debug", "before": False, "after": True, "reload": True},
        {"key": "x", "before": 1, "after": None, "reload": False},
    ]


# What dockerd does on SIGHUP, transcribed by hand from moby's daemon/reload.go
# (Daemon.Reload and its reload* helpers; reloadPlatform in daemon/reload_unix.go; the
# authorization plugins in cmd/dockerd/daemon.go) and checked against the list in the
# dockerd reference, "Configuration reload behavior"
# (https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior).
#   "set":   applied only `if conf.IsValueSet(key)`: a value in the file is applied, a key
#            removed from the file leaves the old value live.
#   "reset": reset to the default on every reload ("We always reset"; features "allow ...
#            to be entirely unset"), so removing the key from the file also applies.
DOCKERD_RELOAD = {
    "debug": "set",
    "labels": "set",
    "live-restore": "set",
    "max-concurrent-downloads": "reset",
    "max-concurrent-uploads": "reset",
    "max-download-attempts": "reset",
    "shutdown-timeout": "set",
    "features": "reset",
    "insecure-registries": "set",
    "registry-mirrors": "set",
    "allow-nondistributable-artifacts": "set",
    "runtimes": "set",
    "default-runtime": "set",  # `if conf.DefaultRuntime != ""`
    "authorization-plugins": "set",  # treated as "set": the safe side when in doubt
}
# Keys the reload code never reads: only a restart applies them.
DOCKERD_RESTART_ONLY = ("data-root", "log-opts", "log-driver", "storage-driver", "storage-opts", "hosts", "bip",
                        "default-address-pools", "iptables", "userns-remap", "exec-opts", "mtu", "dns")


@pytest.mark.parametrize("key", sorted(DOCKERD_RELOAD))
def test_reload_behaviour_matches_dockerd(key):
    value = 1 if "max-" in key or key == "shutdown-timeout" else True
    assert classify(changes({}, {key: value}))["action"] == "reload"  # added: the file now sets it
    assert classify(changes({key: value}, {key: 2 if value == 1 else False}))["action"] == "reload"  # changed
    removed = classify(changes({key: value}, {}))
    assert removed["action"] == ("reload" if DOCKERD_RELOAD[key] == "reset" else "restart"), removed


@pytest.mark.parametrize("key", DOCKERD_RESTART_ONLY)
def test_restart_only_keys(key):
    for before, after in (({}, {key: "x"}), ({key: "x"}, {key: "y"}), ({key: "x"}, {})):
        assert classify(changes(before, after)) == {"action": "restart", "reload_keys": [], "restart_keys": [key]}


# --- built-in checks -------------------------------------------------------

@pytest.mark.parametrize(
    "config, message",
    [
        ({"log-opts": {"max-file": 3}}, 'log-opts.max-file must be a string'),
        ({"debug": "yes"}, "debug must be a boolean"),
        ({"live-restore": 1}, "live-restore must be a boolean"),
        ({"max-concurrent-downloads": True}, "max-concurrent-downloads must be a non-negative integer"),
        ({"shutdown-timeout": -1}, "shutdown-timeout must be a non-negative integer"),
        ({"registry-mirrors": "https://m"}, "registry-mirrors must be a list of strings"),
        ({"registry-mirrors": ["mirror.local:5000"]}, "must be an http:// or https:// URL"),
        ({"insecure-registries": [5000]}, "insecure-registries must be a list of strings"),
        ({"data-root": ["/srv"]}, "data-root must be a string"),
        ({"log-opts": "max-size=10m"}, "log-opts must be an object"),
        ({"default-address-pools": [{"base": "10.0.0.0", "size": 24}]}, "default-address-pools entry"),
        ({"default-address-pools": [{"base": "10.0.0.0/8", "size": "24"}]}, "default-address-pools entry"),
        ({"default-address-pools": {"base": "10.0.0.0/8"}}, "default-address-pools must be a list"),
    ],
)
def test_builtin_errors(config, message):
    errors = builtin_errors(config)
    assert any(message in e for e in errors), errors


def test_builtin_accepts_a_realistic_config():
    cfg = dict(BASE, **{
        "registry-mirrors": ["https://mirror.internal:5000"], "insecure-registries": ["10.0.0.5:5000"],
        "data-root": "/srv/docker", "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}],
        "max-concurrent-downloads": 6, "debug": False, "unknown-to-us": {"left": "to dockerd"},
    })
    assert builtin_errors(cfg) == []


# --- dockerd validation (mocked) --------------------------------------------

class FakeDockerd:
    def __init__(self, help_text, result):
        self.help_text, self.result, self.calls, self.seen = help_text, result, [], []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[-1] == "--help":
            return 0, self.help_text, ""
        path = argv[argv.index("--config-file") + 1]
        with open(path) as fh:
            self.seen.append(fh.read())
        self.mode = oct(os.stat(path).st_mode & 0o777)
        return self.result


def test_validate_flag_used_when_available():
    fake = FakeDockerd("  --validate   Validate daemon configuration and exit", (0, "configuration OK", ""))
    v = DockerdValidator(fake, "/usr/bin/dockerd", euid=0, setpriv="/usr/bin/setpriv", timeout_bin="/usr/bin/timeout")
    assert v.validate({"debug": True}) == ("dockerd --validate", None)
    assert fake.calls[-1][:3] == ["/usr/bin/timeout", "30", "/usr/bin/dockerd"]
    assert "--validate" in fake.calls[-1] and "setpriv" not in " ".join(fake.calls[-1])
    assert fake.seen == ['{\n  "debug": true\n}\n']


def test_validate_flag_reports_dockerd_message_without_temp_path():
    err = "unable to configure the Docker daemon with file /tmp/seed-fleet-daemon-json-ab12/daemon.json: " \
          "the following directives don't match any configuration option: bogus"
    fake = FakeDockerd("--validate", (1, "", err))
    method, error = DockerdValidator(fake, "dockerd", euid=0).validate({"bogus": 1})
    assert method == "dockerd --validate"
    assert error == "unable to configure the Docker daemon with file <candidate daemon.json>: " \
                    "the following directives don't match any configuration option: bogus"


def test_loader_fallback_runs_unprivileged():
    stderr = 'level=info msg="Starting up"\ndockerd needs to be started with root privileges.'
    fake = FakeDockerd("--config-file string", (1, "", stderr))
    v = DockerdValidator(fake, "/usr/sbin/dockerd", euid=0, setpriv="/usr/bin/setpriv")
    assert v.validate({"debug": True}) == ("dockerd config loader", None)
    argv = fake.calls[-1]
    assert argv[:4] == ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    assert fake.mode == "0o644"


def test_loader_fallback_failure_and_cleanup():
    fake = FakeDockerd("", (1, "", "unable to configure the Docker daemon with file /tmp/seed-fleet-daemon-json-x/daemon.json:"
                                   " json: cannot unmarshal string into Go struct field Config.debug of type bool"))
    method, error = DockerdValidator(fake, "dockerd", euid=1000).validate({"debug": "x"})
    assert method == "dockerd config loader"
    assert "cannot unmarshal string" in error and "/tmp/" not in error
    assert fake.calls[-1][0] == "dockerd"  # not root: no setpriv needed
    path = [a for a in fake.calls[-1] if a.endswith("daemon.json")][0]
    assert not os.path.exists(os.path.dirname(path))  # temporary copy removed


@pytest.mark.parametrize("config, setpriv", [({"rootless": True}, "/usr/bin/setpriv"), ({"debug": True}, None)])
def test_loader_fallback_declines(config, setpriv):
    fake = FakeDockerd("", (0, "", ""))
    assert DockerdValidator(fake, "dockerd", euid=0, setpriv=setpriv).validate(config) == (None, None)
    assert all(a[-1] == "--help" for a in fake.calls)  # dockerd never started with the candidate


# --- the real dockerd binary, when this machine has one -----------------------

REAL_DOCKERD = shutil.which("dockerd") or ("/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None)
needs_dockerd = pytest.mark.skipif(REAL_DOCKERD is None, reason="no dockerd binary here")


def _real_validator():
    import subprocess

    def run(argv):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
        return proc.returncode, proc.stdout, proc.stderr

    return DockerdValidator(run, REAL_DOCKERD, setpriv=shutil.which("setpriv"), timeout_bin=shutil.which("timeout"))


@needs_dockerd
@pytest.mark.parametrize(
    "config, message",
    [
        (BASE, None),
        (dict(BASE, debug=True, **{"max-concurrent-downloads": 6, "registry-mirrors": ["https://mirror.internal"]}), None),
        ({"bogus-key": 1}, "don't match any configuration option: bogus-key"),
        ({"debug": "x"}, "cannot unmarshal string"),
        ({"log-opts": {"max-file": 3}}, "cannot unmarshal number"),
    ],
    ids=["base", "reloadables", "unknown-key", "wrong-type", "log-opts-number"],
)
def test_real_dockerd(config, message):
    method, error = _real_validator().validate(config)
    assert method in ("dockerd --validate", "dockerd config loader")
    if message is None:
        assert error is None
    else:
        assert error and message in error
