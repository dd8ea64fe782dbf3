// The official OpenFeature server SDK for Node.js with its OFREP provider, asking `rose serve`:
// `node ofrep_server.mjs BASE TOKEN REQUEST`, where REQUEST is JSON {flags: {name: [key, kind]},
// users: [...], missing: [keys]}; prints each answer as JSON. TOKEN may be empty.
import { OpenFeature } from "@openfeature/server-sdk";
import { OFREPProvider } from "@openfeature/ofrep-provider";

const [base, token, request] = process.argv.slice(2);
const { flags, users, missing } = JSON.parse(request);
const headers = token ? { Authorization: `Bearer ${token}` } : {};
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: base, headers }));
const client = OpenFeature.getClient();

const details = async (key, kind, context) => {
  const found =
    kind === "boolean"
      ? await client.getBooleanDetails(key, false, context)
      : await client.getStringDetails(key, "<default>", context);
  return {
    value: found.value,
    reason: found.reason ?? null,
    variant: found.variant ?? null,
    error: found.errorCode ?? null,
  };
};

const answers = [];
for (const user of users) {
  const context = { targetingKey: user, plan: "pro" };
  const answer = { user };
  for (const [name, [key, kind]] of Object.entries(flags)) {
    answer[name] = await details(key, kind, context);
  }
  answers.push(answer);
}
const errors = {};
for (const key of missing) errors[key] = (await details(key, "string", { targetingKey: "a" })).error;
console.log(JSON.stringify({ answers, errors }));
await OpenFeature.close();
