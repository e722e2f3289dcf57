// The Create Task modal, opened by the blue + button in the Inbox header: a work item of
// any task type, or a callback request, sent to POST /v1/desktop/workitems. The gateway
// validates with the models of POST /v1/workitems and POST /v1/callbacks and names each
// bad field in a 422; the form only checks the one thing it must, a callback's phone.

import { newKey } from "./api.js";
import { channelLabel, priorityLabel } from "./format.js";
import { el } from "./dom.js";

const PATH = "/v1/desktop/workitems";
const TYPES = ["task", "callback", "review", "approval", "email"];
const CHANNELS = ["internal", "email", "form", "phone", "walk_in", "mail", "api"];
const PRIORITIES = [1, 2, 3, 5, 8];
// A callback has no due_at: its due date is the end of its call window (window_end).
const FIELD_OF_LOC = { window_end: "due_at" };

const idOf = (name) => `task-${name}`;

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function options(values, labelOf, chosen) {
  return values.map((value) =>
    el("option", { value, defaultSelected: value === chosen }, labelOf(value)),
  );
}

/** A labelled control with its help and its error, which aria-describedby names. */
function field(name, label, control, { help, wide } = {}) {
  const helpId = help ? `${idOf(name)}-help` : null;
  control.id = idOf(name);
  control.name = name;
  const described = [helpId, `${idOf(name)}-error`].filter(Boolean);
  control.setAttribute("aria-describedby", described.join(" "));
  return el(
    "div",
    { class: wide ? "field task-field-wide" : "field", "data-field": name },
    el("label", { htmlFor: control.id }, label),
    control,
    help ? el("p", { class: "help", id: helpId }, help) : null,
    el("p", { class: "error", id: `${idOf(name)}-error` }),
  );
}

function formFields() {
  const text = (maxLength) => el("input", { type: "text", maxLength, autocomplete: "off" });
  const area = (maxLength) => el("textarea", { rows: 3, maxLength });
  return [
    field("type", "Type", el("select", {}, options(TYPES, capitalized, "task"))),
    field("sub_type", "Sub-type (optional)", text(64), { help: "e.g. transcript_request" }),
    field("channel", "Channel", el("select", {}, options(CHANNELS, channelLabel, "internal"))),
    field("priority", "Priority", el("select", {}, options(PRIORITIES, priorityLabel, 5))),
    el(
      "div",
      { class: "task-group", "data-for": "task" },
      field("description", "Description", area(4000), { wide: true }),
    ),
    el(
      "div",
      { class: "task-group", "data-for": "callback", hidden: true },
      field(
        "customer_phone",
        "Customer Phone",
        el("input", { type: "tel", required: true, maxLength: 64, autocomplete: "off" }),
        { help: "With the country code, e.g. +1\u00a0415\u00a0555\u00a02671." },
      ),
      field("customer_name", "Customer Name (optional)", text(200)),
      field("reason", "Reason (optional)", area(2000), { wide: true }),
    ),
    field("due_at", "Due date (optional)", el("input", { type: "datetime-local" }), {
      help: "Your local time. For a callback: the latest time to call.",
    }),
  ];
}

function buildDialog() {
  return el(
    "dialog",
    { id: "create-task", class: "task-dialog", "aria-labelledby": "create-task-title" },
    el(
      "form",
      { id: "create-task-form", class: "task-form", noValidate: true },
      el("h2", { id: "create-task-title" }, "Create task"),
      el("p", { id: "create-task-error", class: "error task-form-error", role: "alert" }),
      el("div", { class: "task-grid" }, formFields()),
      el(
        "div",
        { class: "actions task-actions" },
        el("button", { type: "button", "data-cancel": "" }, "Cancel"),
        el("button", { type: "submit", class: "button-primary" }, "Create task"),
      ),
    ),
  );
}

// --- what the form says ---------------------------------------------------------------

/** A ``datetime-local`` value (the browser's local time) as an RFC 3339 UTC instant. */
function utcInstant(local) {
  const ms = new Date(local).getTime(); // a date-time without an offset is local time
  return Number.isNaN(ms) ? local : new Date(ms).toISOString().replace(".000Z", "Z");
}

/** An option value as the number it names (the server judges which are allowed). */
function priorityOf(value) {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * The body for what is typed, leaving out blank optional fields. A callback is a
 * RequestCallback plus ``type``: it has no description or due_at, and its due date is
 * ``window_end`` (the latest time to call). ``scheduled_at`` is never sent: absent, the
 * callback service calls as soon as possible, which is what an agent taking a callback
 * request at the desk means (and a chosen earliest time would be one more field to get
 * wrong: it is refused once it has passed).
 */
function bodyOf(form) {
  const value = (name) => form.elements[name].value.trim();
  const callback = value("type") === "callback";
  const body = {
    type: value("type"),
    channel: value("channel"),
    priority: priorityOf(value("priority")),
  };
  const optional = callback
    ? ["sub_type", "customer_phone", "customer_name", "reason"]
    : ["sub_type", "description"];
  for (const name of optional) {
    if (value(name)) {
      body[name] = name === "description" ? form.elements[name].value : value(name);
    }
  }
  if (value("due_at")) {
    body[callback ? "window_end" : "due_at"] = utcInstant(value("due_at"));
  }
  return body;
}

// --- errors -------------------------------------------------------------------------------

function clearErrors(form) {
  form.querySelector("#create-task-error").textContent = "";
  for (const node of form.querySelectorAll("[data-field]")) {
    node.querySelector(".error").textContent = "";
    node.querySelector("[name]").removeAttribute("aria-invalid");
  }
}

/** Shows ``message`` beside field ``name``; false when there is no such field shown. */
function showFieldError(form, name, message) {
  const node = form.querySelector(`[data-field="${name}"]`);
  if (!node || node.closest("[hidden]")) {
    return false;
  }
  const error = node.querySelector(".error");
  error.textContent = error.textContent ? `${error.textContent} ${message}` : message;
  node.querySelector("[name]").setAttribute("aria-invalid", "true");
  return true;
}

function showFormError(form, message) {
  form.querySelector("#create-task-error").textContent = message;
}

/** A 422's ``detail`` (FastAPI's list of {loc, msg, type}), each beside its field. */
function showInvalid(form, detail) {
  const errors = Array.isArray(detail) ? detail : [{ loc: [], msg: String(detail || "") }];
  const unplaced = [];
  for (const error of errors) {
    const loc = Array.isArray(error.loc) ? error.loc : [];
    const name = loc[0] === "body" && loc.length > 1 ? String(loc[1]) : null;
    const message = capitalized(String(error.msg || "is not valid"));
    if (!name || !showFieldError(form, FIELD_OF_LOC[name] || name, message)) {
      unplaced.push(name ? `${name}: ${message}` : message);
    }
  }
  showFormError(form, unplaced.length ? `Not created: ${unplaced.join("; ")}` : "");
}

function focusFirstInvalid(form) {
  form.querySelector("[aria-invalid=true]")?.focus();
}

// --- sending ------------------------------------------------------------------------------

/** What the form says above its fields when the gateway refuses it (not a 422). */
function refusalText({ status, body }) {
  const detail = typeof body?.detail === "string" && body.detail ? body.detail : `HTTP ${status}`;
  if (status === 401) {
    return `The gateway does not take your token (${detail}): sign in again.`;
  }
  return status === 403 ? `You may not create tasks (${detail}).` : `Not created: ${detail}.`;
}

async function post(token, json, key) {
  const answer = await fetch(PATH, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${token}`,
      "Idempotency-Key": key,
    },
    body: json,
  });
  return { status: answer.status, body: await answer.json().catch(() => null) };
}

/** Puts the + button into ``options.slot`` and the Create Task dialog into the page. */
export function installCreateTask({ slot, token, announce, notice }) {
  const opener = el(
    "button",
    {
      type: "button",
      class: "button-primary create-task-button",
      title: "Create task",
      "aria-label": "Create task",
      "aria-haspopup": "dialog",
      "aria-controls": "create-task",
    },
    el("span", { "aria-hidden": "true" }, "+"),
  );
  const dialog = buildDialog();
  const form = dialog.querySelector("form");
  const submit = form.querySelector("button[type=submit]");
  // the last submission the network lost: sent again unchanged, it keeps its key
  let lost = null;
  let sending = false;

  function showType() {
    const type = form.elements.type.value === "callback" ? "callback" : "task";
    for (const group of form.querySelectorAll("[data-for]")) {
      group.hidden = group.dataset.for !== type;
    }
  }

  function setSending(value) {
    sending = value;
    form.setAttribute("aria-busy", String(value));
    submit.setAttribute("aria-disabled", String(value));
  }

  function created(answer) {
    form.reset();
    clearErrors(form);
    showType();
    dialog.close();
    const text = answer.callback_id
      ? `Callback ${answer.callback_id} requested.`
      : `Task ${answer.work_item_id} created.`;
    announce(text);
    notice(text, "ok");
  }

  function refused(answer) {
    if (answer.status === 422) {
      showInvalid(form, answer.body?.detail);
      focusFirstInvalid(form);
    } else {
      showFormError(form, refusalText(answer));
    }
  }

  /** What keeps the form from being sent (shown beside its field), else null. */
  function unsendable(body) {
    if (body.type === "callback" && !body.customer_phone) {
      return ["customer_phone", "Enter the number to call back."];
    }
    if (form.elements.due_at.validity.badInput) {
      return ["due_at", "Enter the whole date and time, or none."]; // its value reads ""
    }
    return null;
  }

  async function send() {
    clearErrors(form);
    if (!token()) {
      showFormError(form, "Sign in first.");
      return;
    }
    const body = bodyOf(form);
    const problem = unsendable(body);
    if (problem) {
      showFieldError(form, ...problem);
      focusFirstInvalid(form);
      return;
    }
    const text = JSON.stringify(body);
    const key = lost && lost.text === text ? lost.key : newKey();
    let answer;
    setSending(true);
    try {
      answer = await post(token(), text, key);
    } catch {
      lost = { text, key };
      showFormError(form, "The gateway cannot be reached: try again (it will not be made twice).");
      return;
    } finally {
      setSending(false);
    }
    lost = null;
    if (answer.status === 202) {
      created(answer.body || {});
    } else {
      refused(answer);
    }
  }

  opener.addEventListener("click", () => {
    showType();
    dialog.showModal();
    form.elements.type.focus();
  });
  dialog.addEventListener("close", () => opener.focus());
  form.querySelector("[data-cancel]").addEventListener("click", () => dialog.close());
  form.elements.type.addEventListener("change", showType);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!sending) {
      send();
    }
  });

  slot.replaceChildren(opener);
  document.body.append(dialog);
}
