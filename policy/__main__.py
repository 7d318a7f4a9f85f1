"""The CrossGuard policy pack of the servicemesh project: `pulumi preview --policy-pack policy`.

Pulumi runs this file with the pack's directory on `sys.path`; the project root goes first so
the pack imports its policies as `policy.*` (as the tests do) and shares the program's own
constants (`mesh`, `settings`), such as the labels that enrol a namespace.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES)
