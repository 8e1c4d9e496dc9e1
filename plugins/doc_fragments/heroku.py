# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of every module and plugin that reads the Heroku Platform API
    (plugins add the ``INVENTORY`` variant, which declares the environment variables)."""

    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - A Heroku API key or OAuth token. Only read access is used.
      - If not set, the environment variable E(HEROKU_API_KEY) is used.
      - Spaces and line breaks around the token (as a file read with C(cat) or a file lookup leaves) are removed.
        A token with a space, a line break or a non-ASCII character inside it is refused.
    type: str
    aliases: [heroku_api_key]
  api_url:
    description:
      - Base URL of the Heroku Platform API.
      - If not set, the environment variable E(HEROKU_API_URL) is used, then V(https://api.heroku.com).
      - A full URL with its scheme, V(https://) or V(http://).
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
      - Longest wait, in seconds, for Heroku's rate-limit bucket to refill before giving up.
      - Heroku allows about 4500 requests per hour per account.
    type: int
    default: 900
  validate_certs:
    description:
      - Verify the TLS certificate of the API. V(false) turns verification off for this API; nothing else does.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM file) to verify the API's certificate with.
      - When not set, the bundle named by E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is used if one is set, else the
        bundle of the Python C(certifi) package. O(ca_path) and O(validate_certs=false) take precedence over both
        variables.
    type: path
notes:
  - The collection only reads from Heroku. Responses are cached within one task (or one inventory parse).
"""

    # For plugins (the inventory): where each option is also read from. Modules read the same
    # environment variables through their argument spec.
    INVENTORY = r"""
options:
  api_token:
    env:
      - name: HEROKU_API_KEY
  api_url:
    env:
      - name: HEROKU_API_URL
"""
