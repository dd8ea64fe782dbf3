// The admin page: the admin API for people. Plain ES2020, no build step, nothing from elsewhere.
//
// Server data (descriptions, actors, values, messages) is untrusted text: it reaches the page only
// through textContent and DOM APIs, never as HTML. Every path is relative to the page (`/admin`),
// so that the router may be nested under a prefix.

/** Where the token is kept: this tab's session only, never a cookie or a URL. */
const TOKEN_KEY = "flags-admin-token";
/**
 * How often the page asks whether another admin changed the flags, besides the event stream,
 * which tells it at once: a safety net, and how the page finds the server gone.
 */
const POLL_MILLISECONDS = 30000;
/** The stream of the flags' versions: each event says that they changed. */
const EVENTS_PATH = "api/feature-flags/events";
const FLAGS_PATH = "api/admin/feature-flags";
const ROLLBACK_PATH = "api/admin/feature-flags/rollback";
const AUDIT_PATH = "api/admin/audit";

const state = {
  token: null,
  /** The version the page shows. */
  version: null,
  /**
   * The tag of the flags the page shows, as the server sent it (`ETag`, which a flag service's
   * push changes too): polled with If-None-Match, changes sent with If-Match.
   */
  tag: null,
  flags: [],
  /** The application and environment the server names, if it does. */
  deployment: { application: null, environment: null, host: null },
  /** The audit events, oldest first, as the API lists them. */
  audit: [],
  /** Variable → the problem lines of the last refused change that named it. */
  problems: new Map(),
  poll: null,
  /** The event stream, while signed in. */
  events: null,
  /** The newest load asked for: an older load that answers late is dropped. */
  loads: 0,
  /** Whether a change is on its way: a second click waits for its answer. */
  changing: false,
  /** Whether the last poll found no server: the next that does says so. */
  unreachable: false,
};

const byId = (id) => document.getElementById(id);

/** An element with attributes (`class` and `text` included) and children (nodes or text). */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** Text only a screen reader reads: it tells which flag a repeated button is for. */
function forScreenReaders(text) {
  return h("span", { class: "visually-hidden", text });
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Says `text` in the live region; `kind` is `info`, `success` or `error`. */
function say(text, kind = "info") {
  const messages = byId("messages");
  messages.textContent = text;
  messages.className = `messages ${kind}`;
}

/** A refused request's message, as the server wrote it (or why there is none). */
function serverMessage(reply) {
  return reply.body.message ?? `the server answered ${reply.status}`;
}

// ---------------------------------------------------------------------------------------------
// The API

/**
 * One request of the admin API, with the token. Never throws: a network failure is status 0.
 * `ifMatch` and `ifNoneMatch` are tags the server sent, sent back as they came.
 */
async function request(method, path, { body, ifMatch, ifNoneMatch } = {}) {
  let response;
  try {
    const headers = new Headers({ Authorization: `Bearer ${state.token}` });
    if (body !== undefined) headers.set("Content-Type", "application/json");
    if (ifMatch !== undefined && ifMatch !== null) headers.set("If-Match", ifMatch);
    if (ifNoneMatch !== undefined && ifNoneMatch !== null) {
      headers.set("If-None-Match", ifNoneMatch);
    }
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // The page's own copy is the truth; the browser's cache must not answer for the server.
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
  } catch (error) {
    return { status: 0, body: { message: `cannot reach the server (${error.message})` } };
  }
  let answer = {};
  if (response.status !== 304) {
    try {
      answer = await response.json();
    } catch {
      answer = {};
    }
  }
  const retryAfter = response.headers.get("Retry-After");
  const tag = response.headers.get("ETag");
  return { status: response.status, body: answer, retryAfter, tag };
}

/** What a failure that is not about the change itself means for the user. */
function failed(reply, doing) {
  if (reply.status === 401 || reply.status === 403) {
    signOut(`Signed out: the server no longer accepts the token (${serverMessage(reply)}).`);
  } else if (reply.status === 429) {
    say(`Too many failed sign-ins from this address: try again in ${reply.retryAfter} s.`, "error");
  } else {
    say(`Could not ${doing}: ${serverMessage(reply)}.`, "error");
  }
}

/** Reads the flags (and the audit, which dates their overrides): true, or the refused reply. */
async function load() {
  const ticket = ++state.loads;
  // One after the other: a wrong token counts once against the limit on failed sign-ins.
  const flags = await request("GET", FLAGS_PATH);
  if (flags.status !== 200) return ticket === state.loads ? flags : true;
  const audit = await request("GET", AUDIT_PATH);
  if (ticket !== state.loads) return true;
  state.version = flags.body.version;
  state.tag = flags.tag;
  state.flags = flags.body.flags;
  state.deployment = {
    application: flags.body.application ?? null,
    environment: flags.body.environment ?? null,
    host: flags.body.host ?? null,
  };
  if (audit.status === 200) state.audit = audit.body.events;
  render();
  return true;
}

/** Asks whether the flags changed since the version shown; if so, shows the new ones. */
async function poll() {
  if (document.hidden || state.changing || state.token === null) return;
  const ticket = ++state.loads;
  const reply = await request("GET", FLAGS_PATH, { ifNoneMatch: state.tag });
  if (ticket !== state.loads || state.token === null) return;
  if (reply.status === 0) {
    state.unreachable = true;
    const why = reply.body.message;
    say(`The server cannot be reached: the flags shown may be out of date (${why}).`, "error");
    return;
  }
  if (state.unreachable) {
    state.unreachable = false;
    say("The server answers again.");
  }
  if (reply.status === 304) return;
  if (reply.status !== 200) {
    failed(reply, "read the flags");
    return;
  }
  const changed = reply.body.version !== state.version;
  state.version = reply.body.version;
  state.tag = reply.tag;
  state.flags = reply.body.flags;
  if (changed) {
    const audit = await request("GET", AUDIT_PATH);
    if (audit.status === 200) state.audit = audit.body.events;
  }
  render();
  if (changed) say(`The flags changed: they are at version ${state.version} now.`);
}

function startPolling() {
  stopPolling();
  state.poll = setInterval(poll, POLL_MILLISECONDS);
  // Each event is a change (or the stream's first word): ask for the flags at once. The
  // browser connects again by itself when the stream ends.
  if (typeof EventSource === "function") {
    state.events = new EventSource(EVENTS_PATH);
    state.events.addEventListener("message", () => poll());
  }
}

function stopPolling() {
  clearInterval(state.poll);
  state.poll = null;
  if (state.events !== null) state.events.close();
  state.events = null;
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

async function signIn(event) {
  event.preventDefault();
  const input = byId("token");
  const token = input.value.trim();
  if (token === "") {
    say("Enter the admin token to sign in.", "error");
    input.focus();
    return;
  }
  state.token = token;
  const loaded = await load();
  if (loaded !== true) {
    state.token = null;
    say(signInRefusal(loaded), "error");
    input.focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  input.value = "";
  showAdmin();
  say(`Signed in: the flags are at version ${state.version}.`, "success");
  byId("filter").focus();
}

/** Why a sign-in was refused, in words. */
function signInRefusal(reply) {
  switch (reply.status) {
    case 401:
    case 403:
      return `Not signed in: ${serverMessage(reply)}.`;
    case 429:
      return "Not signed in: too many failed attempts from this address; " +
        `try again in ${reply.retryAfter} s.`;
    default:
      return `Not signed in: ${serverMessage(reply)}.`;
  }
}

/** Forgets the token and everything the server showed. */
function signOut(message = "Signed out.") {
  sessionStorage.removeItem(TOKEN_KEY);
  stopPolling();
  state.token = null;
  state.version = null;
  state.tag = null;
  state.flags = [];
  state.audit = [];
  state.problems.clear();
  state.unreachable = false;
  state.loads += 1;
  byId("flag-groups").replaceChildren();
  byId("audit-rows").replaceChildren();
  // A question asked before the server refused the token has no answer that could apply.
  if (byId("confirm").open) byId("confirm").close();
  byId("admin-view").hidden = true;
  byId("version").hidden = true;
  byId("sign-out").hidden = true;
  byId("sign-in-view").hidden = false;
  say(message);
  byId("token").focus();
}

function showAdmin() {
  byId("sign-in-view").hidden = true;
  byId("admin-view").hidden = false;
  byId("sign-out").hidden = false;
  byId("version").hidden = false;
  startPolling();
}

// ---------------------------------------------------------------------------------------------
// Changes

/**
 * Makes a change on the version shown (`If-Match`), then shows its outcome: the new flags, the
 * server's problems next to the flags they name, or a reload when the view was stale.
 */
async function change(method, path, { body, variable, done, comment }) {
  if (state.changing) return;
  state.changing = true;
  try {
    if (variable) state.problems.delete(variable);
    // The operator's reason goes with the change into the audit.
    const asked = comment ? `${path}?comment=${encodeURIComponent(comment)}` : path;
    const reply = await request(method, asked, { body, ifMatch: state.tag });
    switch (reply.status) {
      case 200:
        state.problems.clear();
        if (variable) forgetDraft(variable);
        await load();
        if (reply.body.changed === false) {
          say(`Nothing to change: the flags already hold that (version ${reply.body.version}).`);
        } else {
          say(done(reply.body.version), "success");
        }
        break;
      case 422: {
        // The audit records refusals too.
        const audit = await request("GET", AUDIT_PATH);
        if (audit.status === 200) state.audit = audit.body.events;
        renderAudit();
        showProblems(reply.body, variable);
        say(`Refused, nothing changed: ${serverMessage(reply)}`, "error");
        break;
      }
      case 412:
        await load();
        say("Someone changed the flags; reloaded. Your change was not made: check, redo.", "error");
        break;
      case 409:
        say(`Nothing changed: ${serverMessage(reply)}.`, "error");
        break;
      case 400:
        say(`Not sent: ${serverMessage(reply)}`, "error");
        break;
      default:
        failed(reply, "make the change");
    }
  } finally {
    state.changing = false;
  }
}

/** Puts each problem of a refused change next to the flag it names (else next to `variable`). */
function showProblems(body, variable) {
  const known = new Set(state.flags.map((flag) => flag.variable));
  const problems = body.problems ?? [];
  if (problems.length === 0 && variable) problems.push({ message: body.message, variable });
  for (const problem of problems) {
    const owner = known.has(problem.variable) ? problem.variable : variable;
    if (!owner) continue;
    const lines = state.problems.get(owner) ?? [];
    lines.push(problem.message);
    state.problems.set(owner, lines);
  }
  renderFlags();
}

async function toggle(flag) {
  const on = flag.text !== "true";
  const word = on ? "on" : "off";
  const comment = await confirmAction({
    title: `Turn ${flag.variable} ${word}?`,
    text: `${flag.variable} becomes ${on} for every client from their next request.`,
    action: `Turn ${word}`,
  });
  if (comment === null) return;
  await change("PATCH", FLAGS_PATH, {
    body: { [flag.variable]: on },
    variable: flag.variable,
    comment,
    done: (version) => `${flag.variable} is ${word} (version ${version}).`,
  });
}

async function save(flag, control) {
  const value = control.value;
  // Every change asks the same way: a toggle, a choice, a text.
  let becomes = "the value typed";
  if (!flag.secret) becomes = value === "" ? "unset (its default applies)" : `“${value}”`;
  const comment = await confirmAction({
    title: `Change ${flag.variable}?`,
    text: `${flag.variable} becomes ${becomes} for every client from their next request.`,
    action: "Change",
  });
  if (comment === null) return;
  await change("PATCH", FLAGS_PATH, {
    body: { [flag.variable]: value },
    variable: flag.variable,
    comment,
    done: (version) =>
      flag.secret
        ? `${flag.variable} is set (version ${version}).`
        : `${flag.variable} is ${value === "" ? "unset" : value} (version ${version}).`,
  });
}

async function reset(flag) {
  let after = "what the environment gives it";
  if (!flag.secret) {
    after += flag.default === null ? ", or unset" : `, or its default ${flag.default}`;
  }
  const comment = await confirmAction({
    title: `Reset ${flag.variable}?`,
    text: `The override goes: ${flag.variable} takes the value the environment gives it, ` +
      "or its default.",
    action: "Reset",
    preview: [[flag.variable, flag.secret ? { prose: "set (redacted)" } : flag.text, { prose: after }]],
  });
  if (comment === null) return;
  await change("DELETE", `${FLAGS_PATH}/${encodeURIComponent(flag.variable)}`, {
    variable: flag.variable,
    comment,
    done: (version) => `${flag.variable} is reset (version ${version}).`,
  });
}

async function rollback() {
  // What the last version changed, undone: each flag's value now, and the one before it.
  const last = state.audit.findLast(
    (event) => event.version === state.version && event.outcome === "applied",
  );
  const preview = (last?.changes ?? []).map((item) => [item.flag, item.new, item.old]);
  const comment = await confirmAction({
    title: "Roll back to the previous version?",
    text: `The flags take the values they had before version ${state.version}, as a new version.`,
    action: "Roll back",
    preview,
  });
  if (comment === null) return;
  await change("POST", ROLLBACK_PATH, {
    comment,
    done: (version) => `Rolled back: the flags are at version ${version}.`,
  });
}

/**
 * Asks in a modal dialog (Escape or Cancel says no), with a field for the reason; resolves to the
 * reason given ("" for none) when the user confirmed, `null` when not.
 */
function confirmAction({ title, text, action, preview = [] }) {
  const dialog = byId("confirm");
  const ok = byId("confirm-ok");
  const cancel = byId("confirm-cancel");
  const reason = byId("confirm-comment");
  byId("confirm-title").textContent = title;
  byId("confirm-text").textContent = text;
  // Before and after, for each flag the change touches.
  const shown = (value) => {
    if (value === null) return h("em", { text: "unset" });
    if (typeof value === "object") return h("em", { text: value.prose });
    return textValue(value);
  };
  byId("confirm-preview").replaceChildren(...preview.map(([variable, before, after]) =>
    h("li", {}, h("code", { text: variable }), ": ", shown(before), " → ", shown(after))));
  byId("confirm-preview").hidden = preview.length === 0;
  reason.value = "";
  ok.textContent = action;
  return new Promise((resolve) => {
    let confirmed = false;
    ok.onclick = () => {
      confirmed = true;
      dialog.close();
    };
    cancel.onclick = () => dialog.close();
    // However it closes (a button, Escape): closing a modal dialog also puts the focus back on
    // the button that opened it.
    dialog.onclose = () => {
      ok.onclick = null;
      cancel.onclick = null;
      dialog.onclose = null;
      resolve(confirmed ? reason.value.trim() : null);
    };
    dialog.showModal();
    // The choice that changes nothing has the focus: Enter twice cannot change a flag by mistake.
    cancel.focus();
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering the flags

function render() {
  byId("version").textContent = `Serving version ${state.version}`;
  renderDeployment();
  renderFlags();
  renderAudit();
}

/** Which deployment the page changes: the application, its environment and the host. */
function renderDeployment() {
  const { application, environment, host } = state.deployment;
  const parts = [application, environment, host].filter((part) => part);
  byId("deployment").textContent = parts.join(" · ");
  document.title = `Feature flags · ${parts.join(" · ")}`;
}

/** Flags by group, groups in order of first appearance, ungrouped last: as the reference does. */
function groups(flags) {
  // Secrets that cannot change here are only ever set or unset: together, last, out of the way.
  const sealed = (flag) => flag.secret && !flag.changes_live;
  const grouped = new Map();
  for (const flag of flags.filter((flag) => flag.group !== null && !sealed(flag))) {
    if (!grouped.has(flag.group)) grouped.set(flag.group, []);
    grouped.get(flag.group).push(flag);
  }
  const ungrouped = flags.filter((flag) => flag.group === null && !sealed(flag));
  if (ungrouped.length > 0) {
    grouped.set(grouped.size > 0 ? "Other flags" : "All flags", ungrouped);
  }
  const secrets = flags.filter(sealed);
  if (secrets.length > 0) grouped.set("Secrets (read-only: set at start)", secrets);
  return grouped;
}

function renderFlags() {
  const container = byId("flag-groups");
  const kept = keepEdits(container);
  const sections = [];
  let index = 0;
  for (const [group, flags] of groups(state.flags)) {
    const headingId = `group-${sections.length}`;
    const list = h("div", { class: "flag-list" });
    for (const flag of flags) list.append(renderFlag(flag, index++));
    sections.push(
      h("section", { class: "group", "aria-labelledby": headingId },
        h("h3", { id: headingId, text: group }), list),
    );
  }
  container.replaceChildren(...sections);
  restoreEdits(container, kept);
  applyFilter();
}

function renderFlag(flag, index) {
  const id = `flag-${index}`;
  const classes = ["flag"];
  if (flag.expired) classes.push("expired");
  if (flag.source.kind === "override") classes.push("overridden");
  const card = h("article", {
    class: classes.join(" "),
    "aria-labelledby": id,
    "data-variable": flag.variable,
  });
  const header = h("header", { class: "flag-header" },
    h("h4", { id }, h("code", { text: flag.variable })));
  // A switch's state, at a glance: a word and a colour, not only a button's label.
  if (flag.type === "bool" && !flag.secret) {
    const on = flag.text === "true";
    header.append(h("span", { class: `state ${on ? "on" : "off"}`, text: on ? "on" : "off" }));
  }
  header.append(badges(flag));
  card.append(header);
  if (flag.description !== "") {
    card.append(h("p", { class: "description", dir: "auto", text: flag.description }));
  }
  card.append(facts(flag), controls(flag, index), problems(flag, index));
  return card;
}

function badges(flag) {
  const list = h("ul", { class: "badges", "aria-label": "Marks" });
  const badge = (text, kind) => list.append(h("li", { class: `badge ${kind}`, text }));
  if (flag.expired) badge(`expired ${flag.expires}`, "danger");
  if (flag.status) badge(flag.status, "status");
  if (flag.public) badge("public", "public");
  if (flag.secret) badge("secret", "secret");
  if (flag.needs_restart) badge("needs restart", "restart");
  if (flag.managed_by) badge(`managed by ${flag.managed_by}`, "managed");
  if (flag.source.kind === "override") badge("override", "override");
  return list;
}

function facts(flag) {
  const list = h("dl", { class: "facts" });
  const fact = (term, ...value) =>
    list.append(h("div", {}, h("dt", { text: term }), h("dd", {}, ...value)));
  fact("Value", valueNode(flag));
  fact("From", sourceNode(flag.source));
  if (!flag.secret) {
    const unset = flag.default === null || flag.default === "";
    fact("Default", unset ? h("em", { text: "unset" }) : h("code", { text: flag.default }));
  }
  if (flag.status) fact("Status", flag.status);
  if (flag.expires) {
    fact("Expires", flag.expired ? `${flag.expires}, past: remove this flag` : flag.expires);
  }
  if (flag.requires.length > 0) fact("Requires", flag.requires.join(", "));
  if (flag.managed_by) fact("Managed by", `${flag.managed_by}: change it there`);
  // What developers look for, behind a disclosure: the type, the field, publicity, restarts.
  const details = h("dl", { class: "facts" });
  const detail = (term, ...value) =>
    details.append(h("div", {}, h("dt", { text: term }), h("dd", {}, ...value)));
  detail("Type", h("code", { text: flag.type }));
  detail("Field", h("code", { text: flag.field }));
  detail("Public", flag.public ? h("span", {}, "yes, as ", h("code", { text: flag.public })) : "no");
  detail("Restart", flag.needs_restart ? "needed: read at start only" : "not needed");
  return h("div", {}, list,
    h("details", { class: "developer" }, h("summary", { text: "Details" }), details));
}

/** How many characters of a value show before the rest is behind a disclosure. */
const SHORT = 80;

function valueNode(flag) {
  if (flag.text === null) return h("em", { text: "unset" });
  if (flag.secret) return h("em", { class: "redacted", text: "set (redacted)" });
  if (flag.text === "") return h("em", { text: "empty" });
  return textValue(flag.text);
}

/** A value as code, isolated by direction; a long one cut, with a way to see it whole. */
function textValue(text) {
  const chars = [...text];
  if (chars.length <= SHORT) return h("code", { class: "value", dir: "auto", text });
  return h("details", { class: "long" },
    h("summary", {},
      h("code", { class: "value", dir: "auto", text: `${chars.slice(0, SHORT).join("")}…` }),
      forScreenReaders(" (cut: show it whole)")),
    h("code", { class: "value whole", dir: "auto", text }));
}

/** Where a value came from; an override with who made it and, from the audit, when. */
function sourceNode(source) {
  switch (source.kind) {
    case "default":
      return "default";
    case "environment":
      return "environment";
    case "file":
      return h("span", {}, ".env file ", h("code", { text: source.path }));
    case "map":
      return "given by the application";
    case "override": {
      const node = h("span", {}, "override by ",
        h("span", { class: "actor", dir: "auto", text: source.actor }),
        `, version ${source.version}`);
      const event = state.audit.find(
        (event) => event.version === source.version && event.outcome === "applied",
      );
      if (event) node.append(", ", timeNode(event.at));
      return node;
    }
    default:
      return source.text ?? source.kind;
  }
}

/** An RFC 3339 time (UTC) as people read it, machine-readable too. */
function timeNode(at) {
  return h("time", { datetime: at, text: at.replace("T", " ").replace("Z", " UTC") });
}

function controls(flag, index) {
  if (flag.managed_by) {
    const reason = `Read-only here: ${flag.managed_by} manages it, so change it in ${flag.managed_by}.`;
    return h("p", { class: "read-only", text: reason });
  }
  if (!flag.changes_live) {
    const reason = flag.needs_restart
      ? "Read-only: it takes effect on restart, so it cannot change live."
      : "Read-only: a secret that cannot change live (its flag does not say live).";
    return h("p", { class: "read-only", text: reason });
  }
  const blocked = flag.type === "bool" && flag.text !== "true" ? unmetForever(flag) : [];
  if (blocked.length > 0) {
    const reason = `Cannot be turned on here: it requires ${blocked.join(", ")}, ` +
      `which ${blocked.length > 1 ? "are" : "is"} unset and can only be set at start.`;
    return h("p", { class: "read-only unavailable", text: reason });
  }
  const box = h("div", { class: "controls" });
  box.append(flag.type === "bool" ? toggleButton(flag) : editForm(flag, index));
  if (flag.source.kind === "override") {
    const button = h("button", { type: "button", "data-key": `${flag.variable} reset` },
      "Reset", forScreenReaders(` ${flag.variable}`));
    button.addEventListener("click", () => reset(flag));
    box.append(button);
  }
  return box;
}

/**
 * The variables `flag` requires that are unset and cannot be set here (a secret or a flag read at
 * start): turning it on could only be refused, so it is not offered.
 */
function unmetForever(flag) {
  return flag.requires.filter((variable) => {
    const required = state.flags.find((other) => other.variable === variable);
    return required && required.text === null && !required.changes_live;
  });
}

function toggleButton(flag) {
  const on = flag.text === "true";
  const button = h("button", {
    type: "button",
    class: `toggle ${on ? "is-on" : "is-off"}`,
    "data-key": `${flag.variable} toggle`,
  }, on ? "Turn off" : "Turn on", forScreenReaders(` ${flag.variable}`));
  button.addEventListener("click", () => toggle(flag));
  return button;
}

/** What a value of `type` looks like, for the hint under a text input. */
function example(type) {
  const inner = type.replace(/^Option<(.*)>$/, "$1");
  if (/^Vec</.test(inner)) return "a comma-separated list, e.g. a,b,c";
  const name = inner.split("::").pop();
  if (/^(u|i)(8|16|32|64|128|size)$/.test(name) || /^NonZero/.test(name)) {
    return "an integer, e.g. 42";
  }
  if (/^f(32|64)$/.test(name)) return "a number, e.g. 0.5";
  if (name === "Duration") return "a duration, e.g. 30s, 5m or 1h30m";
  if (name === "Rollout") return "on, off or a percentage, e.g. 25%; allow=qa-1; deny=vip-7";
  if (name === "Variants") return "name:weight pairs, e.g. control:50,treatment:50";
  if (/Addr$/.test(name)) return "an address, e.g. 127.0.0.1";
  if (name === "String" || name === "PathBuf" || name === "SecretString") return "text";
  return "text as in an env file";
}

function editForm(flag, index) {
  const inputId = `value-${index}`;
  const hintId = `hint-${index}`;
  const form = h("form", { class: "edit", novalidate: true });
  const label = h("label", { for: inputId },
    "New value", forScreenReaders(` of ${flag.variable}`));
  const describedBy = `${hintId} problems-${index}`;
  let control;
  let hint;
  if (flag.values.length > 0 && !flag.type.startsWith("Vec<")) {
    control = h("select", { id: inputId, "aria-describedby": describedBy });
    // An optional value may be unset: the empty text.
    if (flag.type.startsWith("Option<")) {
      control.append(h("option", { value: "", text: "(unset)" }));
    }
    for (const value of flag.values) control.append(h("option", { value, text: value }));
    control.value = flag.text ?? "";
    hint = `${flag.type}: one of ${flag.values.join(", ")}`;
  } else {
    control = h("input", {
      id: inputId,
      type: flag.secret ? "password" : "text",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": describedBy,
    });
    control.value = flag.secret ? "" : (flag.text ?? "");
    hint = `${flag.type}: ${example(flag.type)}`;
  }
  control.classList.add("edit-value");
  control.dataset.key = `${flag.variable} value`;
  control.dataset.initial = control.value;
  const button = h("button", { type: "submit", "data-key": `${flag.variable} save` },
    "Save", forScreenReaders(` ${flag.variable}`));
  form.append(
    label,
    h("div", { class: "edit-row" }, control, button),
    h("p", { id: hintId, class: "hint", text: hint }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(flag, control);
  });
  return form;
}

function problems(flag, index) {
  const lines = state.problems.get(flag.variable) ?? [];
  const list = h("ul", { id: `problems-${index}`, class: "problems" });
  list.hidden = lines.length === 0;
  for (const line of lines) list.append(h("li", { text: line }));
  return list;
}

/** Once a value is saved, the input shows the server's value, not what was typed. */
function forgetDraft(variable) {
  const key = CSS.escape(`${variable} value`);
  const control = byId("flag-groups").querySelector(`[data-key="${key}"]`);
  if (control) control.dataset.initial = control.value;
}

/** What the user typed and where the focus is, so that a refresh does not lose them. */
function keepEdits(container) {
  const drafts = new Map();
  for (const control of container.querySelectorAll(".edit-value")) {
    if (control.value !== control.dataset.initial) {
      drafts.set(control.dataset.key, control.value);
    }
  }
  const focused = document.activeElement?.dataset?.key;
  return { drafts, focused };
}

function restoreEdits(container, { drafts, focused }) {
  for (const control of container.querySelectorAll(".edit-value")) {
    if (drafts.has(control.dataset.key)) control.value = drafts.get(control.dataset.key);
  }
  if (focused) {
    const again = container.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

/**
 * Shows the flags whose variable, field, public name or description holds the filter's text, and
 * that are of each kind ticked: changed from their default, changeable here, managed by a service.
 */
function applyFilter() {
  const text = byId("filter").value.trim().toLowerCase();
  const changed = byId("only-changed").checked;
  const live = byId("only-live").checked;
  const managed = byId("only-managed").checked;
  let shown = 0;
  for (const section of byId("flag-groups").querySelectorAll(".group")) {
    let shownInGroup = 0;
    for (const card of section.querySelectorAll(".flag")) {
      const flag = state.flags.find((flag) => flag.variable === card.dataset.variable);
      const words = [flag.variable, flag.field, flag.public ?? "", flag.description]
        .join(" ").toLowerCase();
      const fromDefault = flag.source.kind !== "default" && flag.text !== flag.default;
      card.hidden = !words.includes(text) ||
        (changed && !fromDefault) ||
        (live && (!flag.changes_live || flag.managed_by !== null)) ||
        (managed && flag.managed_by === null);
      if (!card.hidden) shownInGroup += 1;
    }
    section.hidden = shownInGroup === 0;
    shown += shownInGroup;
  }
  byId("no-match").hidden = shown > 0 || state.flags.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering the audit

function renderAudit() {
  const rows = [...state.audit].reverse().map((event) => {
    const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
    const changes = h("ul", { class: "changes" });
    for (const item of event.changes) {
      changes.append(
        h("li", {},
          h("code", { dir: "auto", text: item.flag }), ": ",
          auditValue(item.old), " → ", auditValue(item.new)),
      );
    }
    changes.prepend(h("li", { class: "kind", text: event.kind ?? "set" }));
    if (event.comment) changes.append(h("li", { class: "comment", dir: "auto", text: `“${event.comment}”` }));
    const applied = event.outcome === "applied";
    const word = applied ? "applied" : "refused";
    const outcome = h("td", { "data-label": "Outcome" },
      h("span", { class: `outcome ${word}`, text: word }));
    if (event.reason) outcome.append(h("p", { class: "reason", text: event.reason }));
    return h("tr", {},
      cell("Version", String(event.version)),
      cell("When", timeNode(event.at)),
      cell("Who", h("span", { class: "actor", dir: "auto", text: event.actor })),
      cell("Changes", changes),
      outcome);
  });
  byId("audit-rows").replaceChildren(...rows);
  byId("audit-empty").hidden = rows.length > 0;
  byId("audit").hidden = rows.length === 0;
}

function auditValue(value) {
  return value === null ? h("em", { text: "unset" }) : textValue(value);
}

// ---------------------------------------------------------------------------------------------
// Views and start

function showView(view) {
  byId("flags-view").hidden = view !== "flags";
  byId("audit-view").hidden = view !== "audit";
  byId("show-flags").setAttribute("aria-pressed", String(view === "flags"));
  byId("show-audit").setAttribute("aria-pressed", String(view === "audit"));
}

async function start() {
  byId("sign-in-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut());
  byId("show-flags").addEventListener("click", () => showView("flags"));
  byId("show-audit").addEventListener("click", () => showView("audit"));
  byId("filter").addEventListener("input", applyFilter);
  for (const id of ["only-changed", "only-live", "only-managed"]) {
    byId(id).addEventListener("change", applyFilter);
  }
  // A row a flag: its name, state, value and control, the rest out of the way.
  byId("compact").addEventListener("click", () => {
    const compact = byId("compact").getAttribute("aria-pressed") !== "true";
    byId("compact").setAttribute("aria-pressed", String(compact));
    byId("flag-groups").classList.toggle("compact", compact);
  });
  byId("rollback").addEventListener("click", rollback);
  // A tab in the background asks nothing; back in front, it asks at once.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved === null) {
    byId("token").focus();
    return;
  }
  // A reload of the tab: the token of this session is still good, or it is forgotten.
  state.token = saved;
  const loaded = await load();
  if (loaded === true) {
    showAdmin();
    say(`Signed in: the flags are at version ${state.version}.`);
  } else {
    signOut(signInRefusal(loaded));
  }
}

start();
