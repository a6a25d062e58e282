# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""seed.fleet.to_toml: containerd's and Podman's config files from data; what it writes, TOML reads back."""
from __future__ import annotations

import datetime
import math
import tomllib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.to_toml import FilterModule, to_toml

# container_runtime's skeleton for containerd 1.x (roles/container_runtime/vars/main.yml).
CONTAINERD_1 = {
    "version": 2,
    "plugins": {
        "io.containerd.grpc.v1.cri": {
            "cni": {"bin_dir": "/usr/lib/cni", "conf_dir": "/etc/cni/net.d"},
            "containerd": {"runtimes": {"runc": {"runtime_type": "io.containerd.runc.v2", "options": {"SystemdCgroup": True}}}},
        },
        "io.containerd.internal.v1.opt": {"path": "/var/lib/containerd/opt"},
    },
}


def test_containerd_skeleton_exact_text():
    """The exact text the Jinja macro it replaced wrote (same bytes on the hosts: no restart on upgrade)."""
    assert to_toml(CONTAINERD_1) == (
        'version = 2\n'
        '\n[plugins]\n'
        '\n[plugins."io.containerd.grpc.v1.cri"]\n'
        '\n[plugins."io.containerd.grpc.v1.cri".cni]\n'
        'bin_dir = "/usr/lib/cni"\n'
        'conf_dir = "/etc/cni/net.d"\n'
        '\n[plugins."io.containerd.grpc.v1.cri".containerd]\n'
        '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes]\n'
        '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
        'runtime_type = "io.containerd.runc.v2"\n'
        '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
        'SystemdCgroup = true\n'
        '\n[plugins."io.containerd.internal.v1.opt"]\n'
        'path = "/var/lib/containerd/opt"\n'
    )


@pytest.mark.parametrize(
    "data",
    [
        CONTAINERD_1,
        {},
        {"a": 1, "b": -2, "c": 0.5, "d": True, "e": False, "f": "x", "g": [1, 2], "h": [], "i": {}},
        {"storage": {"driver": "overlay", "options": {"overlay": {"mountopt": "nodev"}}}},
        {"unqualified-search-registries": ["docker.io"],
         "registry": [{"prefix": "docker.io", "location": "docker.io",
                       "mirror": [{"location": "m1:5000", "insecure": True}, {"location": "m2"}]},
                      {"prefix": "quay.io", "location": "quay.io", "blocked": False}]},
        {"nested": {"arr": [[1, 2], ["a", "b"]], "inline": [{"x": 1, "y": {"z": "w"}}, 3]}},
        {"with.dot": {"and space": {"ünï": "cödé", "": "empty key"}}},
        {"big": 2 ** 62, "small": -(2 ** 62), "tiny": 1e-12, "huge": 1.5e300, "whole": 3.0},
        {"table_then_array": {"t": {"k": 1}, "a": [{"k": 2}], "s": "v"}},
    ],
    ids=["containerd", "empty", "scalars", "nested-tables", "arrays-of-tables", "inline", "quoted-keys", "numbers", "order"],
)
def test_round_trip(data):
    assert tomllib.loads(to_toml(data)) == data


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('say "hi"', r'"say \"hi\""'),
        ("C:\\path", r'"C:\\path"'),
        ("a\nb\tc\rd", r'"a\nb\tc\rd"'),
        ("\b\f", r'"\b\f"'),
        ("bell\x07 esc\x1b del\x7f", r'"bell\u0007 esc\u001B del\u007F"'),
        ("ünicode ✓ 😀", '"ünicode ✓ 😀"'),
        ("#not a comment", '"#not a comment"'),
        ("'single'", "\"'single'\""),
    ],
)
def test_string_escaping(text, written):
    out = to_toml({"k": text})
    assert out == f"k = {written}\n"
    assert tomllib.loads(out) == {"k": text}


def test_keys_are_quoted_only_when_needed():
    out = to_toml({"bare_key-1": 1, "io.containerd.x": {"a b": 2}, 'q"k': 3})
    assert 'bare_key-1 = 1\n' in out
    assert '"q\\"k" = 3\n' in out
    assert '\n["io.containerd.x"]\n"a b" = 2\n' in out


def test_sorted_case_insensitively_pairs_before_tables_before_arrays():
    out = to_toml({"b": {"x": 1}, "A": [{"y": 2}], "c": 3, "B2": 4})
    assert out == 'B2 = 4\nc = 3\n\n[b]\nx = 1\n\n[[A]]\ny = 2\n'


def test_nested_table_inside_array_of_tables():
    out = to_toml({"registry": [{"location": "a", "mirror": [{"location": "m"}], "opts": {"k": "v"}}]})
    assert out == ('\n[[registry]]\nlocation = "a"\n\n[registry.opts]\nk = "v"\n'
                   '\n[[registry.mirror]]\nlocation = "m"\n')
    assert tomllib.loads(out) == {"registry": [{"location": "a", "mirror": [{"location": "m"}], "opts": {"k": "v"}}]}


def test_special_floats():
    parsed = tomllib.loads(to_toml({"p": math.inf, "n": -math.inf, "x": math.nan}))
    assert parsed["p"] == math.inf and parsed["n"] == -math.inf and math.isnan(parsed["x"])


def test_tuples_are_arrays():
    assert to_toml({"t": (1, "a")}) == 't = [1, "a"]\n'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"k": None}, "k: None (NoneType) has no TOML form"),
        ({"t": {"when": datetime.date(2026, 1, 1)}}, "t.when: datetime.date(2026, 1, 1) (date) has no TOML form"),
        ({"b": b"bytes"}, "b: b'bytes' (bytes) has no TOML form"),
        ({"s": {1, 2}}, "(set) has no TOML form"),
        ({"l": [1, None]}, "l[1]: None (NoneType)"),
        ({1: "x"}, "keys must be strings, got 1 (int) at the root"),
        ({"t": {True: "x"}}, "keys must be strings, got True (bool) at t"),
    ],
)
def test_unsupported_types_fail_with_the_key(data, message):
    with pytest.raises(AnsibleFilterError, match="to_toml") as err:
        to_toml(data)
    assert message in str(err.value)


@pytest.mark.parametrize("data", [[], "text", None, 3])
def test_input_must_be_a_dictionary(data):
    with pytest.raises(AnsibleFilterError, match="the input must be a dictionary"):
        to_toml(data)


def test_registered_under_its_name():
    assert FilterModule().filters() == {"to_toml": to_toml}
