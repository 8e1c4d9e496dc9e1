# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of every module and plugin that reads the Heroku Platform API."""

    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - A Heroku API key or OAuth token. Only read access is used.
      - If not set, the environment variable E(HEROKU_API_KEY) is used.
    type: str
    aliases: [heroku_api_key]
  api_url:
    description:
      - Base URL of the Heroku Platform API.
      - If not set, the environment variable E(HEROKU_API_URL) is used, then V(https://api.heroku.com).
    type: str
    default: https://api.heroku.com
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: int
    default: 30
  max_retries:
    description:
      - How often a request is retried after a rate limit (429), a server error (5xx), a time-out or a reset connection.
    type: int
    default: 5
  max_rate_limit_wait:
    description:
      - Longest wait, in seconds, for Heroku's rate-limit bucket to refill before the module gives up.
      - Heroku allows about 4500 requests per hour per account.
    type: int
    default: 900
  validate_certs:
    description:
      - Verify the TLS certificate of the API.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the API's certificate with, instead of the system's.
    type: path
notes:
  - The collection only reads from Heroku. Responses are cached within one module run.
"""
