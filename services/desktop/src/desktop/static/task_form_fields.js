// The Create Task form (task_form.js): its fields and the dialog around them, the body
// what is typed makes, and the errors shown beside the fields or above them.

import { channelLabel, priorityLabel } from "./format.js";
import { el } from "./dom.js";

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

export function buildDialog() {
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
export function bodyOf(form) {
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

export function clearErrors(form) {
  form.querySelector("#create-task-error").textContent = "";
  for (const node of form.querySelectorAll("[data-field]")) {
    node.querySelector(".error").textContent = "";
    node.querySelector("[name]").removeAttribute("aria-invalid");
  }
}

/** Shows ``message`` beside field ``name``; false when there is no such field shown. */
export function showFieldError(form, name, message) {
  const node = form.querySelector(`[data-field="${name}"]`);
  if (!node || node.closest("[hidden]")) {
    return false;
  }
  const error = node.querySelector(".error");
  error.textContent = error.textContent ? `${error.textContent} ${message}` : message;
  node.querySelector("[name]").setAttribute("aria-invalid", "true");
  return true;
}

export function showFormError(form, message) {
  form.querySelector("#create-task-error").textContent = message;
}

/** A 422's ``detail`` (FastAPI's list of {loc, msg, type}), each beside its field. */
export function showInvalid(form, detail) {
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

export function focusFirstInvalid(form) {
  form.querySelector("[aria-invalid=true]")?.focus();
}
