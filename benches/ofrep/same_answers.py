"""Checks that rose serve (OFREP bulk) and Unleash Edge (frontend API) give the same users the
same answers: `python3 same_answers.py ROSE EDGE USERS`. Edge lists only the enabled toggles."""

import json
import sys
import urllib.request

rose, edge, users = sys.argv[1], sys.argv[2], int(sys.argv[3])
differ = 0
for n in range(users):
    user = f"sample-{n}"
    body = json.dumps({"context": {"targetingKey": user}}).encode()
    request = urllib.request.Request(
        f"{rose}/ofrep/v1/evaluate/flags", body, {"Content-Type": "application/json"}
    )
    ours = {flag["key"]: flag for flag in json.load(urllib.request.urlopen(request))["flags"]}
    request = urllib.request.Request(
        f"{edge}/api/frontend?userId={user}", headers={"Authorization": "default:development.front"}
    )
    theirs = {toggle["name"]: toggle for toggle in json.load(urllib.request.urlopen(request))["toggles"]}
    for key in ("whatsapp", "image_generation", "new_ui"):
        if ours[key]["value"] != (key in theirs):
            differ += 1
            print(f"{user}: {key} is {ours[key]['value']} here, {key in theirs} in Edge")
    if ours["greeting_style"]["variant"] != theirs["greeting_style"]["variant"]["name"]:
        differ += 1
        print(f"{user}: greeting_style differs")
print(f"same answers for {users - differ} of {users} users")
sys.exit(1 if differ else 0)
