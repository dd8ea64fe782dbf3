"""The official OpenFeature Python SDK with its OFREP provider, asking `rose serve`.

`python3 ofrep_client.py BASE TOKEN REQUEST`, where REQUEST is JSON {flags: {name: [key, kind]},
users: [...], missing: [keys]}; prints each answer as JSON. TOKEN may be empty.
"""

import json
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

base, token, request = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
headers = {"Authorization": f"Bearer {token}"} if token else {}
api.set_provider(OFREPProvider(base, headers_factory=lambda: headers))
client = api.get_client()


def text(value):
    """An enum's value, or the text itself."""
    return getattr(value, "value", value)


def details(key, kind, context):
    if kind == "boolean":
        found = client.get_boolean_details(key, False, context)
    else:
        found = client.get_string_details(key, "<default>", context)
    return {
        "value": found.value,
        "reason": text(found.reason),
        "variant": found.variant,
        "error": text(found.error_code),
    }


answers = []
for user in request["users"]:
    context = EvaluationContext(targeting_key=user, attributes={"plan": "pro"})
    answer = {"user": user}
    for name, (key, kind) in request["flags"].items():
        answer[name] = details(key, kind, context)
    answers.append(answer)
errors = {
    key: details(key, "string", EvaluationContext(targeting_key="a"))["error"]
    for key in request["missing"]
}
print(json.dumps({"answers": answers, "errors": errors}))
