# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the service and job modules share: the options that describe a workload (Git source, build
settings, the command it runs, the build service it deploys from, ports, health checks, variables),
their argument specs (documented in the doc fragment ``northflank_workload``) and how they map to
request bodies. Pure functions, unit-tested without a server."""

from __future__ import annotations

import re

PORT_NAME = re.compile(r"^[a-zA-Z](-?[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)?$")
VCS_TYPES = ["github", "gitlab", "bitbucket", "self-hosted", "azure", "origin"]
BUILDERS = ["HEROKU_24", "HEROKU_22", "HEROKU_22_CLASSIC", "HEROKU_20", "HEROKU_18", "GOOGLE_22", "GOOGLE_V1",
            "CNB_ALPINE", "CNB_BIONIC", "PAKETO_JAMMY_TINY", "PAKETO_JAMMY_BASE", "PAKETO_JAMMY_FULL", "PAKETO_TINY",
            "PAKETO_BASE", "PAKETO_FULL"]
PROBES = {"liveness": "livenessProbe", "readiness": "readinessProbe", "startup": "startupProbe"}


# -- argument specs (documented in plugins/doc_fragments/northflank_workload.py) ---------------
def vcs_spec():
    return dict(type="dict", options=dict(
        project_url=dict(type="str", required=True),
        project_type=dict(type="str", default="github", choices=VCS_TYPES),
        account_login=dict(type="str"),
        branch=dict(type="str"),
        vcs_link_id=dict(type="str"),
    ))


def buildpack_spec():
    return dict(type="dict", options=dict(
        builder=dict(type="str", choices=BUILDERS),
        buildpacks=dict(type="list", elements="str"),
        build_context=dict(type="str"),
        use_cache=dict(type="bool"),
    ))


def dockerfile_spec():
    return dict(type="dict", options=dict(
        path=dict(type="str", default="/Dockerfile"),
        work_dir=dict(type="str", default="/"),
        build_engine=dict(type="str", choices=["buildkit", "kaniko"]),
        use_cache=dict(type="bool"),
    ))


def start_spec():
    return dict(type="dict", options=dict(
        process=dict(type="str"),
        command=dict(type="str"),
        image=dict(type="str", choices=["buildpack", "docker"]),
    ), mutually_exclusive=[("process", "command")])


def deploy_from_spec():
    return dict(type="dict", options=dict(
        build_service=dict(type="str", required=True),
        branch=dict(type="str", required=True),
        build_sha=dict(type="str", default="latest"),
    ))


def workload_spec():
    """Options every workload module takes, besides ``name`` (its length rule differs) and its own."""
    return dict(
        project=dict(type="str", required=True),
        description=dict(type="str"),
        tags=dict(type="list", elements="str"),
        stage_id=dict(type="str"),
        plan=dict(type="str"),
        build_plan=dict(type="str"),
        vcs=vcs_spec(),
        buildpack=buildpack_spec(),
        dockerfile=dockerfile_spec(),
        build_arguments=dict(type="dict", no_log=True),
        runtime_variables=dict(type="dict", no_log=True),
        start=start_spec(),
        deploy_from=deploy_from_spec(),
    )


# -- request bodies -----------------------------------------------------------------------------
def string_map(values):
    """Variables as Northflank stores them: every value a string (None becomes "")."""
    if values is None:
        return None
    return dict((str(k), "" if v is None else (v if isinstance(v, str) else str(v))) for k, v in values.items())


def vcs_body(vcs, branch_key=None):
    """``vcsData`` (services) or ``deployment.vcs`` (jobs). ``branch_key`` names the branch field, or
    None where the API takes no branch (build services build the branches of their build rules)."""
    if vcs is None:
        return None
    body = dict(projectUrl=vcs["project_url"], projectType=vcs["project_type"], accountLogin=vcs.get("account_login"),
                vcsLinkId=vcs.get("vcs_link_id"))
    if branch_key:
        body[branch_key] = vcs.get("branch")
    return body


def build_settings_body(buildpack, dockerfile):
    """``buildSettings``: exactly one of ``buildpack`` or ``dockerfile``."""
    if buildpack is not None:
        return dict(buildpack=dict(builder=buildpack.get("builder"), buildpackLocators=buildpack.get("buildpacks"),
                                   buildContext=buildpack.get("build_context"), useCache=buildpack.get("use_cache")))
    if dockerfile is not None:
        return dict(dockerfile=dict(dockerFilePath=dockerfile["path"], dockerWorkDir=dockerfile["work_dir"],
                                    buildEngine=dockerfile.get("build_engine"), useCache=dockerfile.get("use_cache")))
    return None


def start_body(start, default_image="buildpack"):
    """``{"buildpack": {configType...}}`` or ``{"docker": {configType...}}`` for ``deployment``:
    a Procfile process or a custom command; an empty ``start`` goes back to the image's default."""
    if start is None:
        return {}
    image = start.get("image") or default_image
    process, command = start.get("process"), start.get("command")
    if image == "docker":
        if command is not None:
            return dict(docker=dict(configType="customCommand", customCommand=command))
        return dict(docker=dict(configType="default"))
    if process is not None:
        return dict(buildpack=dict(configType="customProcess", customProcess=process))
    if command is not None:
        return dict(buildpack=dict(configType="customCommand", customCommand=command))
    return dict(buildpack=dict(configType="default"))


def internal_body(deploy_from):
    if deploy_from is None:
        return None
    return dict(id=deploy_from["build_service"], branch=deploy_from["branch"], buildSHA=deploy_from["build_sha"])


def ports_body(ports):
    if ports is None:
        return None
    return [dict(name=p["name"], internalPort=p["internal_port"], public=p["public"], protocol=p["protocol"],
                 domains=p.get("domains")) for p in ports]


def health_checks_body(checks):
    if checks is None:
        return None
    out = []
    for c in checks:
        out.append(dict(type=PROBES[c["type"]], protocol=c["protocol"], path=c.get("path"), port=c.get("port"),
                        cmd=c.get("command"), initialDelaySeconds=c["initial_delay_seconds"],
                        periodSeconds=c["period_seconds"], timeoutSeconds=c["timeout_seconds"],
                        failureThreshold=c["failure_threshold"], successThreshold=c.get("success_threshold")))
    return out


# -- validation ---------------------------------------------------------------------------------
def check_ports(ports):
    """An error message for ports Northflank would reject (name rule, duplicates), or None."""
    names = []
    for port in ports or []:
        name = port["name"]
        if not (1 <= len(name) <= 8) or not PORT_NAME.match(name):
            return ("port name %r is not valid on Northflank: use 1 to 8 letters, digits and single hyphens, starting "
                    "with a letter" % name)
        if name in names:
            return "port name %r is used twice" % name
        names.append(name)
    return None


def check_health_checks(checks):
    seen = []
    for c in checks or []:
        if c["protocol"] == "HTTP" and not (c.get("path") and c.get("port")):
            return "an HTTP %s health check needs path and port" % c["type"]
        if c["protocol"] == "TCP" and not c.get("port"):
            return "a TCP %s health check needs port" % c["type"]
        if c["protocol"] == "CMD" and not c.get("command"):
            return "a CMD %s health check needs command" % c["type"]
        if c["type"] in seen:
            return "there can be only one %s health check" % c["type"]
        seen.append(c["type"])
    return None


def check_start(start, image_default):
    if start and (start.get("image") or image_default) == "docker" and start.get("process") is not None:
        return "start.process selects a Procfile process of a buildpack image; a Docker image takes start.command"
    return None


# -- comparison helpers ------------------------------------------------------------------------
def order_like(current, desired, key):
    """``current`` (a list of dicts) reordered to follow the keys of ``desired``, the rest after them:
    the API's order of ports or health checks is not the user's business, their content is."""
    if not isinstance(current, list) or not isinstance(desired, list):
        return current
    wanted = [d.get(key) for d in desired if isinstance(d, dict)]
    rank = dict((k, i) for i, k in enumerate(wanted))
    return sorted(current, key=lambda item: rank.get(item.get(key) if isinstance(item, dict) else None, len(wanted)))


def normalise_ports(ports):
    """Ports as the API returns them, with the defaults of the request filled in (a private port may
    come back without ``public``)."""
    out = []
    for port in ports or []:
        port = dict(port)
        port.setdefault("public", False)
        out.append(port)
    return out
