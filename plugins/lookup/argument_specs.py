"""dlstation.workstation.argument_specs: every role's meta/argument_specs.yml, on the controller.

query("dlstation.workstation.argument_specs", roles_dir) returns one mapping, role name ->
its entry points ({"main": {"options": ...}, ...}), for every role under roles_dir that has
a spec.
The variable checks take the names and types from there, so a new role or option is known
the moment its spec is written; there is no second list to keep in step.
"""

import glob
import os

import yaml
from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase


def read_argument_specs(roles_dir):
    specs = {}
    for path in sorted(glob.glob(os.path.join(roles_dir, "*", "meta", "argument_specs.yml"))):
        role = os.path.basename(os.path.dirname(os.path.dirname(path)))
        try:
            with open(path, encoding="utf-8") as handle:
                specs[role] = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
        except (OSError, yaml.YAMLError) as error:
            raise AnsibleError(f"cannot read {path}: {error}") from error
    return specs


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [read_argument_specs(str(roles_dir)) for roles_dir in terms]
