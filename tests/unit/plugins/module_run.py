# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of our modules as Ansible does, in the test's process: (exit code, parsed result)."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run(module, capsys, args, check=False, diff=False):
    """module.main() with `args` (plus check/diff mode); an exception other than its exit fails the test."""
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)
