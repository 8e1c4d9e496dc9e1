# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the collection's own modules inside the task's worker process, when that is where Ansible would run them anyway.

Why: every module call normally starts a new Python interpreter that unpacks the module and imports
``ansible.module_utils.basic`` and ``requests`` again (about 0.6 CPU-second a call), while the worker process forked
from ``ansible-playbook`` already holds them. For a fleet of hundreds of units that start-up, not the APIs, was most of
the run (docs/user-guide.md, "Fleets"). The shipped playbooks run every unit with ``connection: local`` and the
controller's interpreter, so the module runs on the same machine, as the same user, with the same Python either way.

The module still runs as a module: its arguments go through ``AnsibleModule`` exactly as Ansible sends them (check
mode, diff, ``no_log``, the task's ``environment``), its result is parsed by Ansible as any module's, and a failure is a
failed result. Anything else (another connection, ``become``, another interpreter, ``async``) takes Ansible's usual
path, as does every call when ``HEROKUMIGRATE_MODULE_PROCESS=always`` is set in the controller's environment.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import sys
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

try:  # ansible-core >= 2.19 encodes module arguments with a serialization profile
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:  # pragma: no cover - ansible-core < 2.19
    Direction = get_module_encoder = None

MODULES = "ansible_collections.herokumigrate.northflank.plugins.modules."
ACTIONS = "ansible_collections.herokumigrate.northflank.plugins.action."
# The profile Ansible uses for a module that declares none (ansible-core >= 2.19).
PROFILE = "legacy"
OPT_OUT = "HEROKUMIGRATE_MODULE_PROCESS"


def same_python(interpreter):
    """Whether the interpreter Ansible would start for the module is the one running this worker."""
    if not interpreter:
        return False
    try:
        return os.path.samefile(interpreter, sys.executable)  # symbolic links followed
    except OSError:
        return False


def runs_here(action, task_vars):
    """Whether the module would run on this controller, as this user, with this Python: then it runs in-process.
    Decided once per task (an action that runs several modules asks for each)."""
    decided = getattr(action, "_herokumigrate_runs_here", None)
    if decided is None:
        decided = action._herokumigrate_runs_here = _runs_here(action, task_vars)
    return decided


def _runs_here(action, task_vars):
    if os.environ.get(OPT_OUT, "").lower() == "always" or action._task.async_val:
        return False
    if getattr(action._connection, "transport", None) != "local" or action._play_context.become:
        return False
    interpreter = (task_vars or {}).get("ansible_python_interpreter")
    if interpreter is not None:
        interpreter = action._templar.template(interpreter)
    return same_python(to_text(interpreter) if interpreter else None)


def preload(*module_names):
    """Imports the collection's modules ``module_names`` now. Called where an action plugin is imported: the strategy
    imports it in ``ansible-playbook`` itself, before forking the task's workers, so that every worker finds the module
    and its module_utils imported, instead of compiling them again (the collection loader keeps no bytecode)."""
    for name in module_names:
        try:
            importlib.import_module(MODULES + name)
        except Exception:  # pylint: disable=broad-except  # the call in the worker reports it, as it would anyway
            pass


def clear_module_messages():
    """Warnings and deprecations are gathered in module-level globals: a call must not return an earlier call's."""
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()


def run_module(action, module_name, module_args, task_vars):
    """The result of the collection's module ``module_name`` run in this process, as ``ActionBase._execute_module``
    would return it."""
    args = dict(module_args)
    action._update_module_args(module_name, args, task_vars)
    environment = {}
    action._compute_environment_string(environment)
    payload = {"ANSIBLE_MODULE_ARGS": args}
    if get_module_encoder is not None:
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        basic._ANSIBLE_ARGS = to_bytes(json.dumps(payload, cls=encoder))
        basic._ANSIBLE_PROFILE = PROFILE
    else:
        basic._ANSIBLE_ARGS = to_bytes(json.dumps(payload))
    clear_module_messages()
    saved_environment = dict(os.environ)
    os.environ.update({key: to_text(value) for key, value in environment.items()})
    stdout, rc = io.StringIO(), 0
    try:
        with contextlib.redirect_stdout(stdout):
            module = importlib.import_module(MODULES + module_name.rsplit(".", 1)[-1])
            try:
                module.main()
                rc = 1  # a module exits; one that returns has printed no result
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # a defect of the module: a failed task, as from a module process, not a crashed worker
        return dict(failed=True, exception=traceback.format_exc(),
                    msg="module %s failed unexpectedly (%s); please report it" % (module_name, type(exc).__name__))
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        basic._ANSIBLE_ARGS = None
        clear_module_messages()
    answer = {"rc": rc, "stdout": stdout.getvalue(), "stderr": ""}
    if len(inspect.signature(action._parse_returned_data).parameters) > 1:
        data = action._parse_returned_data(answer, PROFILE)
    else:  # pragma: no cover - ansible-core < 2.19
        data = action._parse_returned_data(answer)
    remove_internal_keys(data)
    return data


class InProcessAction(ActionBase):
    """The base of the collection's actions: ``_execute_module`` runs a module of the collection in-process when it
    would run on this controller anyway (``runs_here``), and the usual way otherwise."""

    _supports_check_mode = True
    _supports_async = True

    def __init_subclass__(cls, **kwargs):
        """An action plugin of the collection (``plugins/action/<name>.py``) preloads the module of its name."""
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith(ACTIONS):
            preload(cls.__module__[len(ACTIONS):])

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False, **kwargs):
        name = module_name or self._task.action
        ours = "." not in name or name.startswith("herokumigrate.northflank.")
        if ours and not wrap_async and runs_here(self, task_vars):
            return run_module(self, name, self._task.args if module_args is None else module_args, task_vars or {})
        return super(InProcessAction, self)._execute_module(module_name=module_name, module_args=module_args,
                                                            task_vars=task_vars, wrap_async=wrap_async, **kwargs)


class ModuleAction(InProcessAction):
    """The action of a module with nothing else to do: run it (in-process when it can) and return its result."""

    def run(self, tmp=None, task_vars=None):
        result = super(ModuleAction, self).run(tmp, task_vars)
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
