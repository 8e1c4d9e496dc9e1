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
  - Puts each host in a group named after its scenario (V(single_dyno), V(multi_dyno), V(pipeline), V(unsupported)), and in
    C(region_<region>) and C(team_<team>) groups. Unsupported units carry the reason in C(heroku_migration.reason).
  - Costs 3 list requests for the account plus one formation request per app kept by the filters; enable the inventory
    cache for large accounts.
  - Uses a YAML configuration file that ends with C(heroku.yml) or C(heroku.yaml).
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [herokumigrate.northflank.heroku]
  api_token:
    description:
      - A Heroku API key or OAuth token. Only read access is used.
    type: str
    env:
      - name: HEROKU_API_KEY
  api_url:
    description:
      - Base URL of the Heroku Platform API.
    type: str
    default: https://api.heroku.com
    env:
      - name: HEROKU_API_URL
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 30
  validate_certs:
    description: Verify the TLS certificate of the API.
    type: bool
    default: true
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
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/heroku-inventory
"""

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import ApiError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuClient
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import HerokuDiscovery

SCENARIO_GROUPS = ("single_dyno", "multi_dyno", "pipeline", "unsupported")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "herokumigrate.northflank.heroku"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("heroku.yml", "heroku.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        units = None
        if use_cache:
            try:
                units = self._cache[cache_key]
            except KeyError:
                units = None
        if units is None:
            units = self._discover()
            if self.get_option("cache"):
                self._cache[cache_key] = units
        for unit in units:
            self._add_unit(unit)

    def _discover(self):
        token = self.get_option("api_token")
        if not token:
            raise AnsibleError("heroku inventory: no API key; set api_token or the HEROKU_API_KEY environment variable")
        try:
            client = HerokuClient(token, base_url=self.get_option("api_url"), timeout=self.get_option("timeout"),
                                  validate_certs=self.get_option("validate_certs"))
            return HerokuDiscovery(client).units(self.get_option("apps"), self.get_option("pipelines"), self.get_option("teams"))
        except ApiError as exc:
            raise AnsibleError("heroku inventory: %s" % exc)

    def _add_unit(self, unit):
        name = unit["name"]
        self.inventory.add_host(name)
        self.inventory.add_group(unit["migration"]["scenario"])
        self.inventory.add_child(unit["migration"]["scenario"], name)
        for prefix, value in (("region", unit.get("region")), ("team", unit.get("team"))):
            if value:
                group = self._sanitize_group_name("%s_%s" % (prefix, value))
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
        host_vars = dict(heroku_unit=unit, heroku_migration=unit["migration"])
        for key, value in host_vars.items():
            self.inventory.set_variable(name, key, value)
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)
