#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: heroku_git_mirror
short_description: Mirror a Heroku app's Git repository to another Git remote
version_added: 1.0.0
description:
  - Copies the branches and tags of a Heroku app's Heroku Git repository to a Git remote of yours (GitHub, GitLab,
    Bitbucket, any Git server, or a local path), the repository Northflank then builds from.
  - "Heroku is only read: the module fetches from Heroku Git and pushes to O(target_url) only."
  - "Idempotent: it compares C(git ls-remote) of both sides first and, when the target already holds the same objects,
    clones and pushes nothing. Otherwise it clones the Heroku repository (C(git clone --mirror), bare, in a temporary
    directory that is removed afterwards) and pushes only the refs that differ."
  - A ref the target has moved past or away from (its commit is not an ancestor of Heroku's), and a tag that points
    elsewhere on the target, is an error unless O(force=true). Refs the target has and Heroku has not are left alone;
    nothing is deleted.
  - An empty Heroku repository (an app deployed through the Builds API, the GitHub integration or the container
    registry, not with C(git push heroku)) is reported with RV(status=empty), not a failure.
  - "Credentials never appear in a URL, a command line, the output or a file left behind: git asks for them through
    C(GIT_ASKPASS), a temporary script that holds no secret and answers from the environment of that one git command,
    and only for the expected host. Credential helpers are switched off for those commands, so no key is stored."
  - Needs C(git) on the host that runs the module.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.heroku
options:
  app:
    description:
      - Name or ID of the Heroku app.
      - Unless O(git_url) is set, its C(git_url) is read with one Platform API request (C(GET /apps/{app})).
    type: str
    required: true
  git_url:
    description:
      - URL of the app's Heroku Git repository, as C(heroku_app_info) returns it in C(app_info.app.git_url)
        (V(https://git.heroku.com/APP.git)). Heroku Git is another host than the Platform API, so O(api_url) does not
        move it.
      - When set, the module sends no Platform API request.
      - Heroku Git takes any user name and the API key (O(api_token)) as password; the URL must not hold credentials.
      - O(validate_certs), O(ca_path) and O(timeout) (seconds a transfer may stall) apply to Heroku Git too.
    type: str
  target_url:
    description:
      - The Git remote to push to, such as V(https://github.com/acme/web.git), V(git@github.com:acme/web.git) or
        V(file:///srv/git/web.git). The repository must exist.
      - Without O(target_token), git uses your own credentials for it (credential helpers, SSH keys and agent). SSH runs
        in batch mode (no prompt) unless E(GIT_SSH_COMMAND), E(GIT_SSH) or C(core.sshCommand) says otherwise.
    type: str
    required: true
  target_token:
    description:
      - A token (password) for an V(https://) O(target_url), such as a GitHub or GitLab personal access token with write
        access.
      - Passed to git through its environment, never stored; your credential helpers are switched off while it is used.
    type: str
  target_username:
    description:
      - The user name sent with O(target_token). GitHub and GitLab accept any name with a personal access token;
        Bitbucket wants V(x-token-auth) for access tokens.
    type: str
    default: x-access-token
  branches:
    description:
      - The branches to push, each V(NAME) or V(SOURCE:TARGET) (Heroku branch, then target branch). Empty pushes every
        branch under its own name.
      - Several sources may name one target, in order of preference, as in V([main:main, master:main]) (Heroku builds
        from C(main) or C(master)); the first that exists in the Heroku repository is pushed and the others are named in
        RV(notes).
      - When the repository is not empty and none of the branches exist, the module fails and names the branches it has.
    type: list
    elements: str
    default: []
  tags:
    description:
      - Push the tags too.
    type: bool
    default: true
  force:
    description:
      - Overwrite refs of the target that are not an ancestor of Heroku's (the target has other commits), and tags that
        point elsewhere.
      - The push is still conditional on the target holding what was read (C(--force-with-lease)), so a change made on
        the target meanwhile is not lost silently.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reads both repositories (and clones Heroku's when refs differ, to tell a fast-forward from a rewrite)
      and pushes nothing.
    support: full
  diff_mode:
    description: The objects of the changed refs, before and after.
    support: full
notes:
  - The API options O(max_retries) and O(max_rate_limit_wait) apply to the Platform API request only, sent when
    O(git_url) is not set.
seealso:
  - module: herokumigrate.northflank.heroku_app_info
"""

EXAMPLES = r"""
- name: Mirror the Heroku Git repository of acme-web to GitHub, Heroku's main or master becoming main
  herokumigrate.northflank.heroku_git_mirror:
    app: acme-web
    target_url: https://github.com/acme/web.git
    target_token: "{{ lookup('ansible.builtin.env', 'GITHUB_TOKEN') }}"
    branches: [main:main, master:main]
  register: mirror

- name: Say what happened
  ansible.builtin.debug:
    msg: "{{ mirror.status }}: {{ mirror.changed_refs | join(', ') }}"

- name: Mirror every branch and tag over SSH, with your SSH key, the Git URL taken from heroku_app_info
  herokumigrate.northflank.heroku_git_mirror:
    app: "{{ acme.app_info.app.name }}"
    git_url: "{{ acme.app_info.app.git_url }}"
    target_url: git@gitlab.example.com:acme/web.git

- name: Overwrite a target that has diverged from Heroku
  herokumigrate.northflank.heroku_git_mirror:
    app: acme-web
    target_url: https://github.com/acme/web.git
    target_token: "{{ lookup('ansible.builtin.env', 'GITHUB_TOKEN') }}"
    force: true
"""

RETURN = r"""
status:
  description:
    - V(mirrored) (refs were pushed), V(would_mirror) (check mode, refs differ), V(up_to_date) (nothing to push) or
      V(empty) (the Heroku repository has no branch and no tag).
  returned: success
  type: str
  sample: mirrored
empty:
  description: Whether the Heroku repository is empty.
  returned: success
  type: bool
  sample: false
source_url:
  description: The Heroku Git URL that was read.
  returned: success
  type: str
  sample: https://git.heroku.com/acme-web.git
target_url:
  description: The target, with any password in it masked.
  returned: success
  type: str
  sample: https://github.com/acme/web.git
refs:
  description: Every ref considered, with what was (or, in check mode, would be) done to it.
  returned: success
  type: list
  elements: dict
  contains:
    source:
      description: The ref in the Heroku repository.
      type: str
      sample: refs/heads/master
    target:
      description: The ref on the target.
      type: str
      sample: refs/heads/main
    object:
      description: The commit (or tag object) Heroku has.
      type: str
      sample: 7100b35711f5477f7abe0c320b280dda5b396841
    before:
      description: What the target had, or null when it had no such ref.
      type: str
      sample: null
    action:
      description: V(unchanged), V(create), V(update) (a fast-forward) or V(force) (a rewrite, only with O(force=true)).
      type: str
      sample: create
  sample:
    - {source: refs/heads/master, target: refs/heads/main, object: 7100b35711f5477f7abe0c320b280dda5b396841, before:
      null, action: create}
changed_refs:
  description: The target refs that were pushed (in check mode, that would be).
  returned: success
  type: list
  elements: str
  sample: [refs/heads/main]
notes:
  description: Branches of O(branches) that were not pushed, and why.
  returned: success
  type: list
  elements: str
  sample: ["branch master is not pushed: main goes to main"]
stderr:
  description: What git said, when a git command failed (credentials masked).
  returned: failure
  type: str
  sample: "fatal: Authentication failed for 'https://git.heroku.com/acme-web.git/'"
api_requests:
  description: Requests sent to the Heroku Platform API by this task, per method and route (none when O(git_url) is
    set).
  returned: always
  type: dict
  sample: {"GET /apps/{app}": 1}
"""

import os
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import (
    TOKEN_ENV, HerokuError, argument_spec, client_from_params)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_git import (
    ASKPASS_SCRIPT, TAGS, MirrorError, check_source_url, check_target_url, compare, http_host, is_http, is_ssh,
    parse_refs, redact_url, scrub, wanted_refs)

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def plural(count, noun):
    return "%d %s%s" % (count, noun, "" if count == 1 else "s")


def oneline(text):
    """git's message on one line, for ``msg`` (the full text is returned as ``stderr``)."""
    return " ".join((text or "").split())


class HerokuGitMirror(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.api_requests = {}
        if not HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        # The Platform API client, also the one source of the API key, which Heroku Git takes as password.
        try:
            self.client = client_from_params(self.params)
        except HerokuError as exc:
            module.fail_json(msg=exc.message, api_requests=self.api_requests)
        self.key = self.client.token
        self.secrets = [secret for secret in (self.key, self.params["target_token"]) if secret]
        self.git_bin = None
        self.tmp = None
        self.source = None
        self.target = self.params["target_url"]
        self.ssh_env = None

    # -- output -------------------------------------------------------------------------------
    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=scrub(msg, self.secrets), api_requests=self.api_requests, **kwargs)

    def finish(self, changed, status, refs=None, notes=None):
        refs = refs or []
        moved = [r for r in refs if r["action"] != "unchanged"]
        app, target = self.params["app"], redact_url(self.target)
        if status == "empty":
            msg = ("The Heroku Git repository of %s is empty: the app was deployed without git push (Builds API, "
                   "GitHub integration or container registry). Nothing to mirror; push its source to %s yourself."
                   % (app, target))
        elif status == "up_to_date":
            msg = "%s already holds the %s of the Heroku Git repository of %s" % (target, plural(len(refs), "ref"), app)
        else:
            msg = "%s %s of %s to %s: %s" % ("Pushed" if status == "mirrored" else "Would push",
                                             plural(len(moved), "ref"), app, target,
                                             ", ".join("%s (%s)" % (r["target"], r["action"]) for r in moved))
        result = dict(changed=changed, status=status, empty=status == "empty", msg=msg,
                      source_url=redact_url(self.source), target_url=target, refs=refs,
                      changed_refs=[r["target"] for r in moved], notes=notes or [], api_requests=self.api_requests)
        if moved:
            result["diff"] = dict(before=dict((r["target"], r["before"]) for r in moved),
                                  after=dict((r["target"], r["object"]) for r in moved))
        self.module.exit_json(**result)

    # -- git ----------------------------------------------------------------------------------
    def git(self, args, remote=None, cwd=None):
        """``(rc, stdout, stderr)`` of one git command. ``remote`` (``source`` or ``target``) adds the
        credentials of that side, through the askpass script and the command's environment only."""
        config = []
        env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANGUAGE": "C"}
        if remote == "source":
            config += ["credential.helper=", "http.lowSpeedLimit=1",
                       "http.lowSpeedTime=%d" % max(1, self.params["timeout"])]
            if not self.params["validate_certs"]:
                config.append("http.sslVerify=false")
            if self.params["ca_path"]:
                config.append("http.sslCAInfo=" + self.params["ca_path"])
            env.update(self.askpass(self.source, "heroku", self.key))
        elif remote == "target":
            if self.params["target_token"] and is_http(self.target):
                config.append("credential.helper=")
                env.update(self.askpass(self.target, self.params["target_username"], self.params["target_token"]))
            env.update(self.ssh_batch_mode())
        cmd = [self.git_bin]
        for item in config:
            cmd += ["-c", item]
        rc, out, err = self.module.run_command(cmd + args, cwd=cwd or self.tmp, environ_update=env,
                                               expand_user_and_vars=False)
        return rc, out, scrub(err, self.secrets).strip()

    def askpass(self, url, username, password):
        return {"GIT_ASKPASS": os.path.join(self.tmp, "askpass"), "HEROKUMIGRATE_GIT_HOST": http_host(url),
                "HEROKUMIGRATE_GIT_USERNAME": username or "git", "HEROKUMIGRATE_GIT_PASSWORD": password}

    def ssh_batch_mode(self):
        """Never wait for an SSH prompt (host key, passphrase), unless the user chose an SSH command."""
        if self.ssh_env is None:
            self.ssh_env = {}
            if is_ssh(self.target) and not (os.environ.get("GIT_SSH_COMMAND") or os.environ.get("GIT_SSH")):
                rc, out, _err = self.module.run_command([self.git_bin, "config", "--get", "core.sshCommand"],
                                                        cwd=self.tmp)
                if not (rc == 0 and out.strip()):
                    self.ssh_env = {"GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
        return self.ssh_env

    def write_askpass(self):
        path = os.path.join(self.tmp, "askpass")
        with open(path, "w") as handle:
            handle.write(ASKPASS_SCRIPT)
        os.chmod(path, stat.S_IRWXU)

    def ls_remote(self, side):
        url = self.source if side == "source" else self.target
        rc, out, err = self.git(["ls-remote", "--", url], remote=side)
        if rc == 0:
            return parse_refs(out)
        where = redact_url(url)
        if side == "source":
            if "Authentication failed" in err or "401" in err:
                self.fail("Heroku Git refused the API key for %s (%s): check api_token or %s"
                          % (self.params["app"], where, TOKEN_ENV), stderr=err)
            if "not found" in err:
                self.fail("No Heroku Git repository at %s: check app and git_url" % where, stderr=err)
            self.fail("Could not read the Heroku Git repository %s: %s" % (where, oneline(err)), stderr=err)
        hint = (" (check target_token)" if self.params["target_token"]
                else " (git uses your own credentials for it: set target_token or configure them)")
        self.fail("Could not read the target repository %s%s: %s"
                  % (where, hint if "Authentication failed" in err else "", oneline(err)), stderr=err)

    def is_ancestor(self, clone, before, after):
        """Whether the target's commit is in the history of Heroku's (a fast-forward)."""
        if self.git(["cat-file", "-e", before + "^{commit}"], cwd=clone)[0] != 0:
            return False  # the target has a commit Heroku never had
        return self.git(["merge-base", "--is-ancestor", before, after], cwd=clone)[0] == 0

    # -- the run ------------------------------------------------------------------------------
    def source_url(self):
        if self.params["git_url"]:
            return self.params["git_url"]
        try:
            app = self.client.get("/apps/{app}", app=self.params["app"])
        except HerokuError as exc:
            self.api_requests = dict(self.client.counts)
            self.fail(exc.in_context("Could not read Heroku app %s" % self.params["app"]), failure=exc.to_dict())
        self.api_requests = dict(self.client.counts)
        if not app.get("git_url"):
            self.fail("Heroku app %s has no git_url; set git_url" % self.params["app"])
        return app["git_url"]

    def run(self):
        self.git_bin = self.module.get_bin_path("git")
        if not self.git_bin:
            self.fail("git is required by heroku_git_mirror and was not found on the PATH of the host that runs it; "
                      "install git")
        try:
            check_target_url(self.target)
            self.source = self.source_url()
            check_source_url(self.source)
        except MirrorError as exc:
            self.fail(str(exc))
        if self.params["target_token"] and not is_http(self.target):
            self.module.warn("target_token is only used for http(s) targets; %s uses your SSH or local access"
                             % redact_url(self.target))
        if self.source.lower().startswith("http://") and http_host(self.source).rsplit(":", 1)[0] not in LOOPBACK:
            self.module.warn("git_url is plain http: the API key crosses the network unencrypted")
        self.tmp = tempfile.mkdtemp(prefix="heroku-git-mirror-")
        try:
            self.write_askpass()
            self.mirror()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def plan(self, source_refs, target_refs):
        try:
            wanted, notes = wanted_refs(source_refs, self.params["branches"], self.params["tags"])
        except MirrorError as exc:
            self.fail(str(exc))
        return compare(wanted, target_refs), notes

    def mirror(self):
        source_refs = self.ls_remote("source")
        if not source_refs:
            self.finish(False, "empty")
        target_refs = self.ls_remote("target")
        refs, notes = self.plan(source_refs, target_refs)
        if all(r["action"] == "unchanged" for r in refs):
            self.finish(False, "up_to_date", refs, notes)

        # Refs differ: the objects are needed, to tell a fast-forward from a rewrite and to push.
        clone = os.path.join(self.tmp, "heroku.git")
        rc, _out, err = self.git(["clone", "--mirror", "--quiet", "--", self.source, clone], remote="source")
        if rc != 0:
            self.fail("Could not clone the Heroku Git repository %s: %s" % (redact_url(self.source), oneline(err)),
                      stderr=err)
        rc, out, err = self.git(["for-each-ref", "--format=%(objectname) %(refname)"], cwd=clone)
        if rc != 0:
            self.fail("Could not list the refs of the clone: %s" % oneline(err), stderr=err)
        # What was cloned is what is pushed: the plan is made again from the clone's own refs.
        refs, notes = self.plan(parse_refs(out), target_refs)
        for ref in refs:
            if ref["action"] == "update" and (ref["target"].startswith(TAGS)
                                              or not self.is_ancestor(clone, ref["before"], ref["object"])):
                ref["action"] = "force"
        rewrites = [r for r in refs if r["action"] == "force"]
        if rewrites and not self.params["force"]:
            why = ["%s is %s there, %s on Heroku (%s)"
                   % (ref["target"], ref["before"][:12], ref["object"][:12],
                      "a tag that differs" if ref["target"].startswith(TAGS) else "not a fast-forward")
                   for ref in rewrites]
            self.fail("The target %s has moved away from the Heroku repository of %s: %s. Nothing was pushed. Bring "
                      "the target back in line with Heroku, or set force=true to overwrite it."
                      % (redact_url(self.target), self.params["app"], "; ".join(why)), refs=refs)
        moved = [r for r in refs if r["action"] != "unchanged"]
        if not moved:
            self.finish(False, "up_to_date", refs, notes)
        if self.module.check_mode:
            self.finish(True, "would_mirror", refs, notes)

        args = ["push", "--porcelain"]
        if self.params["force"]:
            # Overwrite only what was read: a ref changed on the target meanwhile is rejected, not lost.
            args += ["--force-with-lease=%s:%s" % (r["target"], r["before"] or "") for r in moved]
        args += ["--", self.target] + ["%s:%s" % (r["source"], r["target"]) for r in moved]
        rc, out, err = self.git(args, remote="target", cwd=clone)
        if rc != 0:
            # --porcelain: "!<TAB>src:dst<TAB>[rejected] (reason)" for each ref the target refused
            rejected = ["%s %s" % (parts[1].split(":")[-1], parts[2])
                        for parts in (line.split("\t") for line in out.splitlines())
                        if len(parts) >= 3 and parts[0] == "!"]
            detail = "; ".join(rejected) or oneline(err)
            self.fail("Could not push to %s: %s" % (redact_url(self.target), scrub(detail, self.secrets)), stderr=err,
                      refs=refs)
        self.finish(True, "mirrored", refs, notes)


def main():
    options = argument_spec()
    options.update(
        app=dict(type="str", required=True),
        git_url=dict(type="str"),
        target_url=dict(type="str", required=True),
        target_token=dict(type="str", no_log=True),
        target_username=dict(type="str", default="x-access-token"),
        branches=dict(type="list", elements="str", default=[]),
        tags=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=options, supports_check_mode=True)
    HerokuGitMirror(module).run()


if __name__ == "__main__":
    main()
