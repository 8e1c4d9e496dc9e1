# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The options of the modules whose waits show progress (plugins/plugin_utils/progress.py)."""

    DOCUMENTATION = r"""
options:
  progress_interval:
    description:
      - Seconds after which a long wait shows a progress line (what it waits for, its status, the seconds waited) in the
        output of the run, live, and in AWX and ansible-runner as an event; the task then goes on waiting.
      - The wait is cut into slices of this length. The collection's action plugin of the same name runs the module once
        per slice and prints the line between them; each next slice reads the state again, writes nothing that was
        written already, and resumes the wait. No C(async) is involved, so stopping the run stops the wait.
      - When unset, the action plugin uses V(30). V(0) waits in one call, silently, as a module run without the action
        plugin does.
    type: int
  progress_resume:
    description:
      - Set by the action plugin between the slices of a wait (what the wait resumes, such as the run the first slice
        started, and when the wait began). Not for playbooks.
    type: dict
notes:
  - A wait that outlasts O(progress_interval) shows as progress lines of the task, such as
    C([localhost] waiting for addon 'db' (status allocating), 30s).
"""
