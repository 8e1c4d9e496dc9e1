#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_addon_import
short_description: Import data into a Northflank addon from a live database or a dump URL, once
version_added: 1.0.0
description:
  - Imports a database into a Northflank addon, from a connection string to a live database (for example the Heroku
    Postgres C(DATABASE_URL)) or from a C(.gz) / C(.zst) dump reachable over HTTP, then restores that import into the
    addon.
  - Northflank keeps an import as a backup of the addon under the import's O(name). The module finds it by that name in
    C(GET .../backups), so an import is started once per name. A completed import is never repeated, one in progress is
    waited for (not started again), and a failed one is reported with the status Northflank gives it.
  - After the import completes, the module restores it into the addon (C(POST .../backups/{backup}/restore)) unless a
    restore of that import already completed or is in progress (then it is waited for).
  - B(A restore replaces the addon's databases with the imported ones.) Import into a new addon, or one whose data may
    be overwritten.
  - Failures are final and never retried by a re-run, which reports the same failure. To try again, import under another
    O(name).
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
options:
  project:
    description:
      - ID of the project holding the addon.
    type: str
    required: true
  addon:
    description:
      - ID of the addon to import into.
    type: str
    required: true
  name:
    description:
      - Name of the import, which Northflank gives the backup it creates. 3 to 39 letters and digits, separated by
        single hyphens, spaces, C(/) or C(:).
      - This name is what makes the import happen once. Use a new name to import again.
      - Defaults to a name derived from O(source_name). One of O(name) and O(source_name) is required.
    type: str
  source_name:
    description:
      - A non-secret name of the source, for example the Heroku add-on name V(postgresql-cubic-12345) or the Heroku app
        name.
      - When O(name) is not set, the import is named V(heroku-import-) followed by this name in lower case with other
        characters than letters and digits turned into hyphens; if that is longer than 39 characters, V(heroku-import-)
        followed by 16 hex digits of its SHA-256.
      - Never derived from the connection string or the URL, which are secret.
    type: str
  connection_string:
    description:
      - Connection string of the database to import from, for example V(postgres://user:password@host:5432/dbname).
      - A secret; never printed. Needed only to start the import; a re-run that finds the import needs neither it nor
        O(import_url).
      - Mutually exclusive with O(import_url).
    type: str
  import_url:
    description:
      - URL of a dump file (C(.gz) or C(.zst)) that Northflank downloads, for example a pre-signed link to a Heroku
        backup.
      - Treated as a secret (pre-signed URLs carry credentials); never printed. Mutually exclusive with
        O(connection_string).
    type: str
  import_all_databases:
    description:
      - With O(connection_string), import every database of the server rather than only the one named in the string.
    type: bool
  compression:
    description:
      - With O(connection_string), how Northflank compresses the dump it takes.
    type: str
    choices: [gz, zstd]
  restore:
    description:
      - Restore the completed import into the addon. With V(false), the import is only kept as a backup of the addon.
    type: bool
    default: true
  wait:
    description:
      - Wait for the import and then the restore to end. With V(false), the task returns once the import (or the
        restore) is started; a later run with the same O(name) picks up where it is.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the import and the restore, each. When it runs out the task fails; a re-run resumes the
        wait.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds before the first status read while waiting. Each next wait doubles, up to six times this value (5, 10,
        20, 30, 30... seconds by default), so that a long import costs few of the 1000 requests an hour Northflank
        allows.
      - At least V(1).
    type: int
    default: 5
attributes:
  check_mode:
    description: Sends no write request; reports whether an import or a restore would be started.
    support: full
  diff_mode:
    description: Shows the status of the import and the restore before and after.
    support: full
  idempotent:
    description: An import is started once per O(name); a re-run that finds it completed and restored sends no write.
    support: full
notes:
  - The module makes one C(GET .../backups) read to find the import, one C(GET .../restores) read to find its restore,
    and while waiting one read per poll.
"""

EXAMPLES = r"""
- name: Copy the Heroku Postgres database into the Northflank addon
  herokumigrate.northflank.northflank_addon_import:
    project: acme-web
    addon: acme-web-db
    source_name: "{{ heroku_addon.name }}"
    connection_string: "{{ heroku_config_vars.DATABASE_URL }}"
  register: import_result

- name: Import a dump file under an explicit name, without restoring it yet
  herokumigrate.northflank.northflank_addon_import:
    project: acme-web
    addon: acme-web-db
    name: heroku-backup-b042
    import_url: "{{ heroku_backup_url }}"
    restore: false
"""

RETURN = r"""
name:
  description: Name of the import (given or derived from O(source_name)).
  returned: always
  type: str
  sample: heroku-import-postgresql-cubic-12345
actions:
  description: What this task started (or, in check mode, would start), in order.
  returned: always
  type: list
  elements: str
  sample: [import, restore]
backup:
  description:
    - The backup holding the import, as Northflank returns it (C(id), C(name), C(status), C(config)...). Holds no
      credentials.
    - Absent in check mode when the import has not been started yet.
  returned: when the import exists
  type: dict
  sample:
    id: 5f8d0d55b54764421b7156c3
    name: heroku-import-postgresql-cubic-12345
    status: completed
restore_result:
  description: The restore of the import, as Northflank lists it (C(id), C(status), C(restoreTimestamp)...).
  returned: when a restore exists
  type: dict
  sample:
    id: 5f8d0d55b54764421b7156d9
    status: completed
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

import hashlib
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import NorthflankError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import (
    NorthflankModule, progress_spec)

ADDON = "/v1/projects/{project}/addons/{addon}"
IMPORT = ADDON + "/import"
BACKUPS = ADDON + "/backups"
BACKUP = BACKUPS + "/{backup}"
RESTORE = BACKUP + "/restore"
RESTORES = BACKUP + "/restores"

# Backup, import and restore statuses (the SDK's GetAddonBackupsResponseBackup.status).
DONE = "completed"
RUNNING = ("scheduled", "in-progress", "aborting")
FAILED = ("failed", "aborted", "not-supported")
PREFIX = "heroku-import-"
IMPORT_NAME = re.compile(r"^[a-zA-Z0-9]+((-|\s|/|:)[a-zA-Z0-9]+)*$")


def import_name(name, source_name):
    """The import's name: the given one, or one derived from the (non-secret) source name."""
    if name:
        return name
    slug = re.sub(r"[^a-z0-9]+", "-", source_name.lower()).strip("-")
    if slug and len(PREFIX + slug) <= 39:
        return PREFIX + slug
    return PREFIX + hashlib.sha256(source_name.encode("utf-8")).hexdigest()[:16]


def latest(items):
    """The most recent of several backups or restores (ISO timestamps sort as strings)."""
    return max(items, key=lambda i: i.get("createdAt") or i.get("restoreTimestamp") or "") if items else None


class AddonImport(NorthflankModule):
    kind = "addon import"

    def validate(self):
        params = self.params
        if params["poll_interval"] < 1:
            return "poll_interval must be at least 1 second"
        self.name = import_name(params["name"], params["source_name"])
        if not (3 <= len(self.name) <= 39) or not IMPORT_NAME.match(self.name):
            return ("import name %r is not valid on Northflank: use 3 to 39 letters and digits separated by single "
                    "hyphens, spaces, '/' or ':'" % self.name)
        return None

    def route(self, **params):
        return dict(params, project=self.params["project"], addon=self.params["addon"])

    def poll_status(self, fetch, what):
        return self.poll(fetch, done=lambda r: r.get("status") == DONE,
                         failed=lambda r: r.get("status") in FAILED and self.failure(r, what),
                         what="%r %s" % (self.name, what), describe=lambda r: "status %s" % r.get("status"),
                         **self.pacing())

    def failure(self, item, what):
        return ("Northflank reports %s status %r%s; a re-run will not retry it: import under another name to try again"
                % (what, item.get("status"), " (ended at %s)" % item["completedAt"] if item.get("completedAt") else ""))

    # -- reads ------------------------------------------------------------------------------
    def find_backup(self):
        try:
            backups = self.client.list(BACKUPS, "backups", **self.route())
        except NorthflankError as exc:
            if exc.status != 404:
                raise
            if self.module.check_mode:  # an earlier task of this check-mode run may be what creates the addon
                return None
            self.fail("addon %r does not exist in project %r" % (self.params["addon"], self.params["project"]), exc)
        named = [b for b in backups if b.get("name") == self.name]
        completed = [b for b in named if b.get("status") == DONE]
        return latest(completed or named)

    def find_restore(self, backup):
        restores = self.client.list(RESTORES, "restores", **self.route(backup=backup["id"]))
        for status in ((DONE,), RUNNING, FAILED):
            match = [r for r in restores if r.get("status") in status]
            if match:
                return latest(match)
        return None

    # -- the cycle --------------------------------------------------------------------------
    def _run(self):
        params, check = self.params, self.module.check_mode
        actions = []
        backup = self.find_backup()
        before = dict(name=self.name, backup=backup and backup.get("status"), restore=None)

        if backup is None:
            actions.append("import")
            if check:
                if params["restore"]:
                    actions.append("restore")
                return self.result(actions, before, None, None)
            backup = self.start_import()
        if backup.get("status") in FAILED:
            self.fail("import %r into addon %r failed: %s"
                      % (self.name, params["addon"], self.failure(backup, "import")), backup=backup, actions=actions)
        if backup.get("status") != DONE:
            if check and params["restore"]:
                actions.append("restore")
            if check or not params["wait"]:
                return self.result(actions, before, backup, None)
            # A wait cut short by progress_interval reports the import started (the next slice finds it by name).
            self.partial = self.result(actions, before, None, None)
            backup = self.poll_status(lambda: self.client.get(BACKUP, **self.route(backup=backup["id"])), "import")

        restore = None
        if params["restore"]:
            restore = self.find_restore(backup)
            before["restore"] = restore and restore.get("status")
            if restore is None:
                actions.append("restore")
                if check:
                    return self.result(actions, before, backup, None)
                restore_id = (self.client.post(RESTORE, None, **self.route(backup=backup["id"])) or {}).get("restoreId")
                restore = dict(id=restore_id, status="scheduled")
            if restore.get("status") in FAILED:
                self.fail("restore of import %r into addon %r failed: %s"
                          % (self.name, params["addon"], self.failure(restore, "restore")), backup=backup,
                          restore_result=restore, actions=actions)
            if restore.get("status") != DONE and params["wait"] and not check:
                self.partial = self.result(actions, before, backup, None)
                restore = self.poll_status(lambda: self.find_restore_by_id(backup, restore["id"]), "restore")
        return self.result(actions, before, backup, restore)

    def start_import(self):
        params = self.params
        body = dict(name=self.name)
        if params["connection_string"]:
            body.update(connectionString=params["connection_string"])
            if params["import_all_databases"] is not None:
                body["importAllDatabases"] = params["import_all_databases"]
            if params["compression"]:
                body["compressionType"] = params["compression"]
        elif params["import_url"]:
            body.update(importUrl=params["import_url"])
        else:
            self.fail("import %r has not been started yet: set connection_string or import_url to start it" % self.name)
        self.client.post(IMPORT, body, **self.route())
        # The import answers without an ID (https://northflank.com/docs/v1/api/addons/import-addon-backup):
        # the backup is found by its name.
        backup = self.find_backup()
        if backup is None:
            self.fail("Northflank accepted import %r into addon %r but lists no backup of that name"
                      % (self.name, params["addon"]))
        return backup

    def find_restore_by_id(self, backup, restore_id):
        restores = self.client.list(RESTORES, "restores", **self.route(backup=backup["id"]))
        found = [r for r in restores if r.get("id") == restore_id] if restore_id else restores
        return latest(found) or dict(id=restore_id, status="scheduled")

    def result(self, actions, before, backup, restore):
        after = dict(name=self.name, backup=backup.get("status") if backup else (DONE if "import" in actions else None),
                     restore=restore.get("status") if restore else (DONE if "restore" in actions else None))
        result = dict(changed=bool(actions), name=self.name, actions=actions)
        if actions:
            result["diff"] = dict(before=before, after=after)
        if backup is not None:
            result["backup"] = backup
        if restore is not None:
            result["restore_result"] = restore
        return result


def main():
    spec = AddonImport.spec(
        **progress_spec(),
        project=dict(type="str", required=True),
        addon=dict(type="str", required=True),
        name=dict(type="str"),
        source_name=dict(type="str"),
        connection_string=dict(type="str", no_log=True),
        import_url=dict(type="str", no_log=True),
        import_all_databases=dict(type="bool"),
        compression=dict(type="str", choices=["gz", "zstd"]),
        restore=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        poll_interval=dict(type="int", default=5),
    )
    module = AnsibleModule(
        argument_spec=spec,
        required_one_of=[("name", "source_name")],
        mutually_exclusive=[("connection_string", "import_url")],
        supports_check_mode=True,
    )
    AddonImport(module).run()


if __name__ == "__main__":
    main()
