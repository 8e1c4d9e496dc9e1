#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_service
short_description: Create, update or delete a Northflank combined, build or deployment service
version_added: 1.0.0
description:
  - Ensures a Northflank service of one kind exists with the given source, build settings, plan, instances, ports,
    health checks and variables, or is absent.
  - A V(combined) service builds one branch of a Git repository and runs it (one Heroku app with one process type).
    A V(build) service only builds, from the branches and pull requests of its build rules. A V(deployment) service runs
    the images of a build service (one per Heroku process type), or is left without a source to be chosen later.
  - The service is found by the ID Northflank derives from its name. It is created with C(PUT /services/{type}); an
    existing one is updated with C(PATCH /services/{type}/{id}) carrying only the top-level keys that differ, so a
    re-run that finds nothing different sends no write.
  - Only what the task sets is compared. Lists (ports, health checks, tags, buildpacks) and variable maps are compared
    as a whole.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_resource
  - herokumigrate.northflank.northflank_workload
options:
  name:
    description:
      - Name of the service, 3 to 54 letters, digits and single hyphens or spaces, starting with a letter.
      - Its ID is the name in lower case with spaces turned into hyphens. The name cannot change once the service
        exists.
    type: str
    required: true
  type:
    description:
      - Kind of the service. Required with O(state=present); it cannot change once the service exists.
      - With O(state=absent) it is optional; when set, a service of another kind with the same ID is left alone and the
        task fails.
    type: str
    choices: [combined, build, deployment]
  instances:
    description:
      - Number of instances (combined and deployment services). Defaults to 1 when the service is created; left alone
        otherwise.
    type: int
  build_rules:
    description:
      - Which commits a build service builds on its own (build services only).
    type: dict
    suboptions:
      branches:
        description: Branches to build, as glob patterns such as V(main) or V(release/*).
        type: list
        elements: str
      pull_requests:
        description: Source branches of the pull requests to build, as glob patterns; V(*) builds every pull request.
        type: list
        elements: str
  ports:
    description:
      - The ports of the service (combined and deployment services). The service then has exactly these ports.
      - A Heroku C(web) process binds C($PORT); give it a public HTTP port and set C(PORT) in O(runtime_variables) to
        the same number.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the port, 1 to 8 letters, digits and single hyphens, starting with a letter.
        type: str
        required: true
      internal_port:
        description: Port number the container listens on.
        type: int
        required: true
      public:
        description: Expose the port on the internet (a C(*.code.run) host name for HTTP); otherwise it is private to
          the project.
        type: bool
        default: false
      protocol:
        description: Protocol of the port.
        type: str
        choices: [HTTP, HTTP/2, TCP, UDP]
        default: HTTP
      domains:
        description: Custom domains served on the port. They must already be registered and verified on the team.
        type: list
        elements: str
  health_checks:
    description:
      - The health checks of the service (combined and deployment services). The service then has exactly these checks.
    type: list
    elements: dict
    suboptions:
      type:
        description: Kind of probe.
        type: str
        choices: [liveness, readiness, startup]
        required: true
      protocol:
        description: V(HTTP) requests O(health_checks[].path) on O(health_checks[].port), V(TCP) connects to the port,
          V(CMD) runs a command.
        type: str
        choices: [HTTP, TCP, CMD]
        default: HTTP
      path:
        description: Path requested by an HTTP check.
        type: str
      port:
        description: Port of an HTTP or TCP check.
        type: int
      command:
        description: Command run by a CMD check.
        type: str
      initial_delay_seconds:
        description: Seconds to wait after the container starts before the first check.
        type: int
        default: 10
      period_seconds:
        description: Seconds between checks.
        type: int
        default: 10
      timeout_seconds:
        description: Seconds before a check counts as failed.
        type: int
        default: 5
      failure_threshold:
        description: Failed checks in a row that make the container unhealthy.
        type: int
        default: 3
      success_threshold:
        description: Successful checks in a row that make it healthy again.
        type: int
  remove_runtime_variables:
    description:
      - Names of runtime variables the service must not have; its other runtime variables are kept (with
        O(runtime_variables) given, the names are removed from it too). Names only, no values. Combined and deployment
        services.
      - The switch of a cut-over for an app without a secret group; the service drops the copied Heroku connection
        strings, and a secret group restricted to it links the new addons under the same names
        (O(herokumigrate.northflank.northflank_secret_group#module:addon_links)); a service's runtime variables
        cannot link addons themselves.
    type: list
    elements: str
  delete_child_objects:
    description:
      - With O(state=absent), also delete the objects that belong to the service (such as its volumes).
    type: bool
    default: false
notes:
  - Which options apply depends on O(type). V(combined) takes O(vcs) (with O(vcs.branch)), O(buildpack) or
    O(dockerfile), O(plan), O(build_plan), O(instances), O(start), O(ports), O(health_checks), O(build_arguments),
    O(runtime_variables) and O(remove_runtime_variables). V(build) takes O(vcs), O(buildpack) or O(dockerfile),
    O(build_rules), O(build_plan) and O(build_arguments). V(deployment) takes O(deploy_from), O(plan), O(instances),
    O(start), O(ports), O(health_checks), O(runtime_variables) and O(remove_runtime_variables). Options that do not
    apply are refused before any request is sent.
  - Creating a build service does not start a build. A deployment service that follows V(latest) starts once a build of
    its branch exists.
  - Variables inherited from secret groups are managed with M(herokumigrate.northflank.northflank_secret_group).
seealso:
  - module: herokumigrate.northflank.northflank_service_info
  - module: herokumigrate.northflank.northflank_job
  - module: herokumigrate.northflank.northflank_secret_group
"""

EXAMPLES = r"""
- name: Build service of a Heroku app with several process types
  herokumigrate.northflank.northflank_service:
    project: acme-web
    name: acme-web-builder
    type: build
    vcs:
      project_url: https://github.com/acme/web
      account_login: acme
    buildpack:
      builder: HEROKU_24
      buildpacks: [heroku/nodejs]
      build_context: /
    build_rules:
      branches: [main]
      pull_requests: ["*"]
    build_plan: nf-compute-400-16
    build_arguments: "{{ heroku_app.config_vars }}"

- name: Its web process, with a public port
  herokumigrate.northflank.northflank_service:
    project: acme-web
    name: acme-web-web
    type: deployment
    deploy_from:
      build_service: acme-web-builder
      branch: main
    start: {}
    plan: nf-compute-20
    instances: 2
    ports:
      - name: web
        internal_port: 8080
        public: true
    health_checks:
      - type: readiness
        path: /health
        port: 8080
    runtime_variables:
      PORT: "8080"

- name: Its worker process
  herokumigrate.northflank.northflank_service:
    project: acme-web
    name: acme-web-worker
    type: deployment
    deploy_from:
      build_service: acme-web-builder
      branch: main
    start:
      process: worker
    plan: nf-compute-20
    instances: 1

- name: A Heroku app with a single process type, as one combined service
  herokumigrate.northflank.northflank_service:
    project: acme-api
    name: acme-api
    type: combined
    vcs:
      project_url: https://github.com/acme/api
      branch: main
    buildpack:
      builder: HEROKU_22
    plan: nf-compute-20
    instances: 1
    ports:
      - name: web
        internal_port: 8080
        public: true
    runtime_variables: "{{ heroku_app.config_vars | combine({'PORT': '8080'}) }}"

- name: Delete a service
  herokumigrate.northflank.northflank_service:
    project: acme-web
    name: acme-web-worker
    state: absent
"""

RETURN = r"""
service:
  description:
    - The service as Northflank returns it, with the values of runtime variables and build arguments masked.
    - In check mode, the request body that would have been sent (creation) or the current service (update).
  returned: when O(state=present)
  type: dict
  sample:
    id: acme-web-web
    name: acme-web-web
    serviceType: deployment
    billing:
      deploymentPlan: nf-compute-20
    deployment:
      instances: 2
      internal:
        id: acme-web-builder
        branch: main
        buildSHA: latest
    ports:
      - name: web
        internalPort: 8080
        public: true
        protocol: HTTP
    runtimeEnvironment:
      PORT: "********"
changed_paths:
  description: Dotted paths of the settings that differed and were (or, in check mode, would be) updated.
  returned: when an existing service was updated
  type: list
  elements: str
  sample: [deployment.instances, billing.deploymentPlan]
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /v1/projects/{project}/services/{service}": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    NorthflankResource, check_name, derive_id)
from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_workload as workload

SERVICES = "/v1/projects/{project}/services"
SERVICE = SERVICES + "/{service}"
CREATE = SERVICES + "/{type}"
UPDATE = SERVICES + "/{type}/{service}"

# Options that apply to each kind of service (the others are refused).
APPLIES = {
    "combined": {"vcs", "buildpack", "dockerfile", "plan", "build_plan", "instances", "start", "ports", "health_checks",
                 "build_arguments", "runtime_variables", "remove_runtime_variables"},
    "build": {"vcs", "buildpack", "dockerfile", "build_rules", "build_plan", "build_arguments"},
    "deployment": {"deploy_from", "plan", "instances", "start", "ports", "health_checks", "runtime_variables",
                   "remove_runtime_variables"},
}
KIND_OPTIONS = set().union(*APPLIES.values())
INTERNAL_KEYS = ("id", "branch", "buildSHA", "buildId")
# What Northflank uses when no build plan is given (https://northflank.com/docs/v1/api/misc/list-plans).
DEFAULT_BUILD_PLAN = "nf-compute-400-16"


class Service(NorthflankResource):
    kind = "service"
    result_key = "service"
    secret_paths = ("runtimeEnvironment", "buildArguments")
    exact_paths = ("runtimeEnvironment", "buildArguments")
    immutable_paths = ("name",)

    def __init__(self, module):
        super(Service, self).__init__(module)
        self.exists = False
        self.current = None

    @property
    def service_type(self):
        return self.params["type"]

    @property
    def image_default(self):
        return "docker" if self.params["dockerfile"] is not None else "buildpack"

    def validate(self):
        params = self.params
        error = check_name(params["name"], "service", max_len=54)
        if error or params["state"] == "absent":
            return error
        kind = self.service_type
        misplaced = sorted(o for o in KIND_OPTIONS - APPLIES[kind] if params.get(o) is not None)
        if misplaced:
            return ("%s do(es) not apply to a %s service (see the notes of the module documentation)"
                    % (", ".join(misplaced), kind))
        if kind == "build" and params["vcs"] and params["vcs"].get("branch"):
            return ("a build service builds the branches of build_rules.branches: vcs.branch applies to combined "
                    "services only")
        return (workload.check_ports(params["ports"]) or workload.check_health_checks(params["health_checks"])
                or workload.check_start(params["start"], self.image_default))

    @property
    def service_id(self):
        return derive_id(self.params["name"])

    def read(self):
        current = self.client.get_or_none(SERVICE, project=self.params["project"], service=self.service_id)
        if current is not None and self.service_type and current.get("serviceType") != self.service_type:
            found = (current.get("serviceType"), self.service_id, self.params["project"])
            if self.params["state"] == "absent":
                self.fail("the service with the ID %r in project %r is a %s service, not a %s one: left alone"
                          % (self.service_id, self.params["project"], found[0], self.service_type))
            self.fail("a %s service with the ID %r already exists in project %r and a service cannot change kind: "
                      "delete it first, or give this %s service another name" % (found + (self.service_type,)))
        self.exists = current is not None
        self.current = current
        return current

    def desired(self):
        params, kind = self.params, self.service_type
        body = dict(name=params["name"], description=params["description"], tags=params["tags"],
                    stageId=params["stage_id"])
        billing = dict(deploymentPlan=params["plan"], buildPlan=params["build_plan"])
        if kind == "build" and params["build_plan"] is None and not self.exists:
            billing["buildPlan"] = DEFAULT_BUILD_PLAN  # billing is required to create a build service
        if any(v is not None for v in billing.values()):
            body["billing"] = billing
        if kind in ("combined", "build"):
            body["vcsData"] = workload.vcs_body(params["vcs"],
                                                branch_key="projectBranch" if kind == "combined" else None)
            body["buildSettings"] = workload.build_settings_body(params["buildpack"], params["dockerfile"])
            body["buildArguments"] = workload.string_map(params["build_arguments"])
        if kind == "build" and params["build_rules"] is not None:
            rules = params["build_rules"]
            body["buildConfiguration"] = dict(branchRestrictions=rules.get("branches"),
                                              prRestrictions=rules.get("pull_requests"))
        if kind in ("combined", "deployment"):
            deployment = workload.start_body(params["start"], self.image_default)
            instances = params["instances"]
            if instances is None and not self.exists:
                instances = 1
            deployment["instances"] = instances
            if kind == "deployment":
                deployment["internal"] = workload.internal_body(params["deploy_from"])
            if any(v is not None for v in deployment.values()):
                body["deployment"] = deployment
            body["ports"] = workload.ports_body(params["ports"])
            body["healthChecks"] = workload.health_checks_body(params["health_checks"])
            body["runtimeEnvironment"] = self.runtime_environment()
        return body

    def runtime_environment(self):
        """O(runtime_variables), or the service's own when only O(remove_runtime_variables) is given, without the
        removed names."""
        params = self.params
        env = workload.string_map(params["runtime_variables"])
        removed = params["remove_runtime_variables"]
        if not removed:
            return env
        if env is None:
            env = dict((self.current or {}).get("runtimeEnvironment") or {})
        return dict((k, v) for k, v in env.items() if k not in removed)

    def view(self, current):
        view = dict(current)
        view["tags"] = current.get("tags") or []
        if self.service_type in ("combined", "deployment"):
            ports = workload.normalise_ports(current.get("ports"))
            view["ports"] = workload.order_like(ports, self.params["ports"], "name")
            checks = workload.health_checks_body(self.params["health_checks"])
            view["healthChecks"] = workload.order_like(list(current.get("healthChecks") or []), checks, "type")
            view["runtimeEnvironment"] = current.get("runtimeEnvironment") or {}
        if self.service_type in ("combined", "build"):
            view["buildArguments"] = current.get("buildArguments") or {}
        return view

    def forbidden_change(self, body, view, changes):
        """What a create needs besides the options every task sets (checked in check mode too)."""
        if view is not None:
            return None
        kind, params = self.service_type, self.params
        missing = []
        if kind in ("combined", "deployment") and not params["plan"]:
            missing.append("plan")
        if kind in ("combined", "build") and not body.get("buildSettings"):
            missing.append("buildpack or dockerfile")
        if kind in ("combined", "build") and not params["vcs"]:
            missing.append("vcs")
        if kind == "combined" and params["vcs"] and not params["vcs"].get("branch"):
            missing.append("vcs.branch")
        if missing:
            return "%s service %r does not exist yet: set %s to create it" % (kind, params["name"], ", ".join(missing))
        return None

    def create(self, body):
        return self.client.put(CREATE, body, project=self.params["project"], type=self.service_type)

    def update(self, body, changes, current):
        keys = set(path.split(".")[0] for path in changes)
        patch = dict((k, body[k]) for k in keys if k in body)
        if "deployment" in patch and self.service_type == "deployment":
            patch["deployment"] = self.full_deployment(patch["deployment"], current.get("deployment") or {})
        return self.client.patch(UPDATE, patch, project=self.params["project"], type=self.service_type,
                                 service=current["id"])

    @staticmethod
    def full_deployment(wanted, current):
        """PATCH of a deployment service: ``deployment`` must carry ``instances`` and, so that the service keeps
        its source, the source it runs (a deployment without one means "choose later")."""
        deployment = dict(wanted)
        if deployment.get("instances") is None:
            deployment["instances"] = current.get("instances", 1)
        if "internal" not in deployment and "external" not in deployment:
            if current.get("internal"):
                deployment["internal"] = dict((k, v) for k,
                                              v in current["internal"].items() if k in INTERNAL_KEYS and v is not None)
            elif current.get("external"):
                deployment["external"] = dict((k, v) for k,
                                              v in current["external"].items() if k in ("imagePath", "credentials"))
        return deployment

    def delete(self, current):
        query = {"delete_child_objects": "true"} if self.params["delete_child_objects"] else None
        self.client.delete(SERVICE, query=query, project=self.params["project"], service=current["id"])


def argument_spec():
    spec = workload.workload_spec()
    spec.update(name=dict(type="str", required=True),
                type=dict(type="str", choices=["combined", "build", "deployment"]), instances=dict(type="int"),
                build_rules=dict(type="dict",
                                 options=dict(branches=dict(type="list", elements="str"),
                                              pull_requests=dict(type="list", elements="str"), )),
                ports=dict(type="list", elements="dict",
                           options=dict(name=dict(type="str", required=True),
                                        internal_port=dict(type="int", required=True),
                                        public=dict(type="bool", default=False),
                                        protocol=dict(type="str", default="HTTP",
                                                      choices=["HTTP", "HTTP/2", "TCP", "UDP"]),
                                        domains=dict(type="list", elements="str"), )),
                health_checks=dict(type="list", elements="dict",
                                   options=dict(type=dict(type="str", required=True, choices=list(workload.PROBES)),
                                                protocol=dict(type="str", default="HTTP",
                                                              choices=["HTTP", "TCP", "CMD"]), path=dict(type="str"),
                                                port=dict(type="int"), command=dict(type="str"),
                                                initial_delay_seconds=dict(type="int", default=10),
                                                period_seconds=dict(type="int", default=10),
                                                timeout_seconds=dict(type="int", default=5),
                                                failure_threshold=dict(type="int", default=3),
                                                success_threshold=dict(type="int"), )),
                delete_child_objects=dict(type="bool", default=False),
                remove_runtime_variables=dict(type="list", elements="str", no_log=False), )
    return Service.spec(**spec)


MODULE_OPTIONS = dict(
    required_if=[("state", "present", ("type",))],
    mutually_exclusive=[("buildpack", "dockerfile"), ("vcs", "deploy_from")],
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **MODULE_OPTIONS)
    Service(module).run()


if __name__ == "__main__":
    main()
