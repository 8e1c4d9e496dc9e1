# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: heroku
short_description: Heroku pipelines and apps as migration units
version_added: 1.0.0
description:
  - Reads a Heroku account and makes one host per pipeline and one per app outside any pipeline, so that slicing the
    inventory (C(--limit), AWX job slicing) never splits a pipeline.
  - Puts each host in a group named after its scenario (V(single_dyno), V(multi_dyno), V(pipeline), V(unsupported)), and
    in
    C(region_<region>) and C(team_<team>) groups (a pipeline whose apps span several regions or teams is in none of
    them).
    Unsupported units carry the reason in C(heroku_migration.reason).
  - "Each host has two variables: C(heroku_unit) (C(kind) V(pipeline) or V(app), C(name), C(id), C(region), C(team),
    C(stack),
    C(generation), C(migration) and C(apps), one entry per app with its stage, process types, scenario and reason) and
    C(heroku_migration) (C(scenario), C(reason), C(warnings)). Both can be used in O(compose), O(groups) and
    O(keyed_groups)."
  - An app outside any pipeline whose name is also a pipeline's becomes host C(<name>-app), so that neither unit hides
    the other.
  - "Each host also gets C(herokumigrate_project), the Northflank project of the unit (C(heroku_unit.project)): its
    Heroku
    name made a valid Northflank name, and when two units of the account would get the same project name (an app named
    like
    a pipeline, apps whose names differ only in characters Northflank folds such as C(a--b) and C(a-b)), each of them
    with a
    short hash of its Heroku kind and name appended. It is computed from every unit of the account, before the O(apps),
    O(pipelines) and O(teams) filters, so that C(--limit) and filters never change it (docs/mapping.md, Names). Set
    C(herokumigrate_project) in host variables to choose another."
  - Costs the pages of C(GET /apps) (1000 apps a page), C(GET /pipeline-couplings) and C(GET /pipelines), plus one
    C(GET /apps/{app}/formation) per app kept by the filters; enable the inventory cache for large accounts.
  - "Each host also gets C(heroku_snapshot): what was read of the unit (C(read_at), UTC; C(from_cache), true when the
    unit was served from the inventory cache; C(pipeline), its C(id), C(name) and C(generation), or null; and C(apps),
    per app its C(app) fields, C(formation) and C(pipeline) with the stage). The role passes it to
    M(herokumigrate.northflank.heroku_app_info) and M(herokumigrate.northflank.heroku_pipeline_info) (option
    O(herokumigrate.northflank.heroku_app_info#module:inventory_snapshot)), which then skip the app, formation, coupling
    and pipeline reads, unless it came from the cache or is older than their C(snapshot_max_age). It holds no secret
    (no config var is read)."
  - Uses a YAML configuration file that ends with C(heroku.yml) or C(heroku.yaml).
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - herokumigrate.northflank.heroku
  - herokumigrate.northflank.heroku.inventory
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [herokumigrate.northflank.heroku]
  apps:
    description:
      - Shell-style patterns of the app names to keep (apps outside pipelines). Default all.
    type: list
    elements: str
    default: ['*']
  pipelines:
    description:
      - Shell-style patterns of the pipeline names to keep. Default all.
    type: list
    elements: str
    default: ['*']
  teams:
    description:
      - Keep only units whose apps belong to one of these teams. Default all, personal apps included.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
# heroku.yml
plugin: herokumigrate.northflank.heroku
pipelines: ['shop-*']
apps: ['shop-*', 'blog']
teams: [acme]
keyed_groups:
  - key: heroku_unit.stack
    prefix: stack
compose:
  heroku_apps: heroku_unit.apps | map(attribute='name') | list
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/heroku-inventory
"""

import re

from ansible.errors import AnsibleError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import HAS_REQUESTS, ApiError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import client_from_params
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import HerokuDiscovery

SCENARIO_GROUPS = ("single_dyno", "multi_dyno", "pipeline", "unsupported")
# The host (in its group) that carries the reason when Heroku cannot be read, in a variable: see
# InventoryModule._unreadable.
ERROR_HOST = "heroku-inventory-error"
ERROR_GROUP = ERROR_VAR = "heroku_inventory_error"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "herokumigrate.northflank.heroku"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith(("heroku.yml", "heroku.yaml")):
            return True
        if path.endswith((".yml", ".yaml")) and self._names_this_plugin(path):
            # Ansible would only say the file "could not be verified": say why, and the fix.
            self.display.warning(
                "heroku inventory: %s names plugin %s but its name does not end with heroku.yml or "
                "heroku.yaml; rename it (e.g. to %s.heroku.yml)" % (path, self.NAME, re.sub(r"\.ya?ml$", "", path))
            )
        return False

    def _names_this_plugin(self, path):
        try:
            with open(path) as handle:
                return any(re.match(r"^plugin:\s*[\"']?%s[\"']?\s*$" % re.escape(self.NAME), line) for line in handle)
        except (IOError, OSError, UnicodeDecodeError):
            return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_options(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        units = None
        if use_cache:
            try:
                units = self._cache[cache_key]
            except KeyError:
                units = None
            else:
                # Read earlier, by another run: the discovery modules read such units again (heroku_snapshot).
                units = [dict(u, snapshot=dict(u["snapshot"], from_cache=True)) if u.get("snapshot") else u
                         for u in units]
        if units is None:
            try:
                units = self._discover()
            except Exception as exc:  # every reason the account cannot be read ends the run, named: see _unreadable
                raise self._unreadable(exc)
            if self.get_option("cache"):
                self._cache[cache_key] = units
        pipelines = set(u["name"] for u in units if u["kind"] == "pipeline")
        for unit in units:
            host = unit["name"]
            if unit["kind"] == "app" and host in pipelines:
                host = "%s-app" % host
                self.display.warning(
                    "heroku inventory: app %s has the name of a pipeline; its host is %s" % (unit["name"], host)
                )
            self._add_unit(host, unit)

    def _read_options(self, path):
        """Read the file's options; an unknown option (``app:`` for ``apps:``) or a wrong type ends the run, naming the
        option, rather than being ignored (an ignored filter would migrate the whole account)."""
        try:
            config = self._read_config_data(path)
        except Exception as exc:  # Ansible's own message quotes the value as a Python repr, and names our module
            found = re.search(r"Config '([^']+)'.*Invalid value provided for '([^']+)'", str(exc), re.S)
            if not found:
                raise
            option, kind = found.groups()
            kinds = {"int": "an integer", "bool": "true or false", "str": "a string", "float": "a number"}
            kind = kinds.get(kind, "a " + kind)
            raise self._invalid(path, "option %s must be %s%s" % (option, kind, self._example(option)))
        unknown = sorted(set(config) - set(self._options))
        if unknown:
            raise self._invalid(
                path,
                "unknown option%s %s%s; the options are described by "
                "ansible-doc -t inventory %s"
                % ("s" if len(unknown) > 1 else "", ", ".join(unknown), self._did_you_mean(unknown), self.NAME),
            )

    @staticmethod
    def _example(option):
        return {
            "apps": " of patterns, e.g. apps: ['shop-*']",
            "pipelines": " of patterns, e.g. pipelines: ['shop-*']",
            "teams": " of team names, e.g. teams: [acme]",
        }.get(option, "")

    def _did_you_mean(self, unknown):
        hints = []
        for name in unknown:
            close = [o for o in ("apps", "pipelines", "teams") if o.rstrip("s") == str(name).rstrip("s")]
            if close:
                hints.append(close[0])
        return " (did you mean %s?)" % ", ".join(hints) if hints else ""

    def _invalid(self, path, why):
        return self._unreadable(AnsibleError("heroku inventory: %s: %s" % (path, why)))

    def _discover(self):
        if not HAS_REQUESTS:
            raise AnsibleError("heroku inventory: " + missing_required_lib("requests"))
        try:
            client = client_from_params(self.get_option)
            return HerokuDiscovery(client).units(
                self.get_option("apps"), self.get_option("pipelines"), self.get_option("teams")
            )
        except ApiError as exc:
            raise AnsibleError("heroku inventory: %s" % exc)

    def _unreadable(self, exc):
        """The error that ends the run when Heroku cannot be read (no key, 401, 403, unreachable, bad URL...).

        Ansible only warns when an inventory source fails to parse, and would go on with no unit: a green run that did
        nothing.
        So, before the error is raised, one host carries it (ERROR_HOST, in group ERROR_GROUP, variable ERROR_VAR) and
        the
        playbooks' first task fails on it with the reason. With ANSIBLE_INVENTORY_UNPARSED_FAILED=true the error ends
        the run
        at once."""
        message = str(exc) if isinstance(exc, (AnsibleError, ApiError)) else "%s: %s" % (exc.__class__.__name__, exc)
        api = next((e for e in (exc, exc.__cause__, exc.__context__) if isinstance(e, ApiError)), None)
        if api is not None and api.status == 401:
            message += "; HEROKU_API_KEY (or api_token) is not a valid Heroku API key"
        elif api is not None and api.status == 403:
            message += "; the Heroku API key may not read this account's apps"
        if not message.startswith("heroku inventory: "):
            message = "heroku inventory: could not read Heroku at %s: %s" % (self.get_option("api_url"), message)
        self.inventory.add_group(ERROR_GROUP)
        self.inventory.add_host(ERROR_HOST, group=ERROR_GROUP)
        self.inventory.set_variable(ERROR_HOST, ERROR_VAR, message)
        self.inventory.set_variable(ERROR_HOST, "ansible_connection", "local")
        return AnsibleError(message)

    def _add_unit(self, name, unit):
        self.inventory.add_host(name)
        self.inventory.add_group(unit["migration"]["scenario"])
        self.inventory.add_child(unit["migration"]["scenario"], name)
        for prefix, value in (("region", unit.get("region")), ("team", unit.get("team"))):
            if value:
                group = self._sanitize_group_name("%s_%s" % (prefix, value))
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
        unit = dict(unit)
        snapshot = unit.pop("snapshot", None)
        host_vars = dict(heroku_unit=unit, heroku_migration=unit["migration"])
        for key, value in host_vars.items():
            self.inventory.set_variable(name, key, value)
        if snapshot:
            # What was read of the unit, for the discovery modules to skip those requests (docs/heroku-discovery.md).
            self.inventory.set_variable(name, "heroku_snapshot", snapshot)
        if unit.get("project"):
            # The plan names the project after it (role variable herokumigrate_project); host_vars files still win.
            self.inventory.set_variable(name, "herokumigrate_project", unit["project"])
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)
