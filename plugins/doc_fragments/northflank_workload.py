# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options shared by the service and job modules (plugins/module_utils/northflank_workload.py)."""

    DOCUMENTATION = r"""
options:
  project:
    description:
      - ID of the project holding the resource.
    type: str
    required: true
  description:
    description:
      - Description, at most 200 characters.
    type: str
  tags:
    description:
      - Tags, each 3 to 100 letters, digits and single hyphens. The resource then has exactly these tags, in this order.
    type: list
    elements: str
  stage_id:
    description:
      - ID of the environment stage the resource belongs to.
    type: str
  plan:
    description:
      - Compute plan the resource runs on, for example V(nf-compute-20). Required to create anything that runs.
    type: str
  build_plan:
    description:
      - Compute plan of its builds. Northflank only accepts plans with 4 or more vCPUs.
      - A build service created without it gets V(nf-compute-400-16), Northflank's default; an existing one keeps its
        plan.
    type: str
  vcs:
    description:
      - The Git repository to build from. The Git account must already be linked to the Northflank team (the API cannot
        link one).
    type: dict
    suboptions:
      project_url:
        description: URL of the repository, for example V(https://github.com/acme/web).
        type: str
        required: true
      project_type:
        description: Git provider of the repository.
        type: str
        choices: [github, gitlab, bitbucket, self-hosted, azure, origin]
        default: github
      account_login:
        description: Login of the linked Git account that can read the repository.
        type: str
      branch:
        description:
          - Branch to build. Required for combined services and jobs built from Git.
          - Build services build the branches of their build rules instead.
        type: str
      vcs_link_id:
        description: ID of the Git account link, when the team has several links for one provider.
        type: str
  buildpack:
    description:
      - Build with Cloud Native Buildpacks. Mutually exclusive with O(dockerfile).
    type: dict
    suboptions:
      builder:
        description:
          - Buildpack stack. Heroku stacks C(heroku-24), C(heroku-22), C(heroku-20) map to V(HEROKU_24), V(HEROKU_22),
            V(HEROKU_20).
          - Northflank uses V(HEROKU_24) when a resource is created without one.
        type: str
        choices: [HEROKU_24, HEROKU_22, HEROKU_22_CLASSIC, HEROKU_20, HEROKU_18, GOOGLE_22, GOOGLE_V1, CNB_ALPINE,
          CNB_BIONIC, PAKETO_JAMMY_TINY, PAKETO_JAMMY_BASE, PAKETO_JAMMY_FULL, PAKETO_TINY, PAKETO_BASE, PAKETO_FULL]
      buildpacks:
        description:
          - Buildpacks to run, in this order, for example V(heroku/nodejs) or a URL. Without it, the builder detects
            them.
        type: list
        elements: str
      build_context:
        description: Directory of the repository to build, for example V(/) or V(/api).
        type: str
      use_cache:
        description: Reuse the cache of earlier builds.
        type: bool
  dockerfile:
    description:
      - Build with a Dockerfile. Mutually exclusive with O(buildpack).
    type: dict
    suboptions:
      path:
        description: Path of the Dockerfile in the repository.
        type: str
        default: /Dockerfile
      work_dir:
        description: Build context directory in the repository.
        type: str
        default: /
      build_engine:
        description: Build engine.
        type: str
        choices: [buildkit, kaniko]
      use_cache:
        description: Reuse the cache of earlier builds.
        type: bool
  build_arguments:
    description:
      - Build arguments, as a map of names to values. Values are secret; they never appear in the output or the diff.
      - The resource then has exactly these build arguments. Omit to leave them alone.
    type: dict
  runtime_variables:
    description:
      - Runtime environment variables, as a map of names to values. Values are secret; they never appear in the output
        or the diff.
      - The resource then has exactly these variables (variables inherited from secret groups are not affected). Omit to
        leave them alone.
    type: dict
  start:
    description:
      - What the container runs. Omit to leave it alone; an empty dict (V({})) goes back to the image's default.
    type: dict
    suboptions:
      process:
        description:
          - A process type of the Procfile, for example V(worker), as a Heroku dyno of that type runs it. Buildpack
            images only.
        type: str
      command:
        description:
          - A command to run instead, for example V(rake cleanup).
        type: str
      image:
        description:
          - How the image was built, which decides where the command goes.
          - Defaults to V(docker) when O(dockerfile) is set, otherwise V(buildpack).
        type: str
        choices: [buildpack, docker]
  deploy_from:
    description:
      - Run the images of a build service of the same project (how the process types of one Heroku app share one build).
      - Mutually exclusive with O(vcs).
    type: dict
    suboptions:
      build_service:
        description: ID of the build service.
        type: str
        required: true
      branch:
        description: Branch whose builds are run.
        type: str
        required: true
      build_sha:
        description: Commit to run, or V(latest) to follow the newest build of O(deploy_from.branch).
        type: str
        default: latest
"""
