"""Fuzzes `rose serve`'s OFREP routes against the protocol's own OpenAPI document, with
schemathesis: `python3 schemathesis_ofrep.py DOCUMENT BASE [EXAMPLES]`; exits non-zero on a
failure, printing it.

Two amendments to the document, each because it cannot describe a right answer, never to hide
a wrong one:

- `evaluationSuccess` picks the value's type with `oneOf`, and one of its branches,
  `codeDefaultFlag` (a success without a value), has no required property: it matches every
  object, so every success with a value matches two branches and fails `oneOf`. The branches are
  read as `anyOf`, which still requires a value of one of the types, or none.
- Its `reason` lists STATIC, TARGETING_MATCH, SPLIT, DISABLED and UNKNOWN, not OpenFeature's
  DEFAULT, which the server answers for a flag at its default (as the OpenFeature specification
  and the issue that asked for these routes define it): DEFAULT is added.

- `Retry-After` on a 429 is an RFC 3339 date-time (one route) or an integer (the other), where
  HTTP (RFC 9110, 10.2.3) defines delay-seconds or an HTTP-date, and the clients parse those
  (the Python provider's parser reads digits or an HTTP-date, not RFC 3339). The server sends
  delay-seconds: the header is read as HTTP's delay-seconds.

- `context` requires a `targetingKey`, where OpenFeature's evaluation context makes it optional
  and the clients leave it out for an anonymous user (the browser's provider, before a sign-in;
  Python's, for an empty key). The server answers every flag that needs no key, and
  TARGETING_KEY_MISSING for those that split users: the key is read as optional (a key that is
  not a string is still refused).

And one check left out: `ignored_auth`. The document lists bearer and API-key security, "if
supported"; the server answers without a token by design (the public flags, as a front end
sees them), and a wrong token gets 401, which the Rust tests check.
"""

import json
import os
import subprocess
import sys
import tempfile

import yaml

document_path, base = sys.argv[1], sys.argv[2]
examples = sys.argv[3] if len(sys.argv) > 3 else "50"
with open(document_path, encoding="utf-8") as file:
    document = yaml.safe_load(file)

schemas = document["components"]["schemas"]
success = schemas["evaluationSuccess"]["allOf"]
for part in success:
    if "oneOf" in part:
        part["anyOf"] = part.pop("oneOf")
    reason = part.get("properties", {}).get("reason")
    if reason is not None and "DEFAULT" not in reason["enum"]:
        reason["enum"].append("DEFAULT")

schemas["context"]["required"] = [
    name for name in schemas["context"].get("required", []) if name != "targetingKey"
]
if not schemas["context"]["required"]:
    del schemas["context"]["required"]

delay_seconds = {"type": "string", "pattern": "^[0-9]+$"}
for path in document["paths"].values():
    for operation in path.values():
        answer = operation.get("responses", {}).get("429", {})
        retry_after = answer.get("headers", {}).get("Retry-After")
        if retry_after is not None:
            retry_after["schema"] = delay_seconds

with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as amended:
    json.dump(document, amended)
try:
    command = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()",
        "run",
        amended.name,
        "--url",
        base,
        "--checks",
        "all",
        "--exclude-checks",
        "ignored_auth",
        "--max-examples",
        examples,
        "--seed",
        "19",
        "--no-color",
    ]
    sys.exit(subprocess.run(command, check=False).returncode)
finally:
    os.unlink(amended.name)
