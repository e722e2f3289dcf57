// The Create Task modal, opened by the blue + button in the Inbox header: a work item of
// any task type, or a callback request, sent to POST /v1/desktop/workitems. The gateway
// validates with the models of POST /v1/workitems and POST /v1/callbacks and names each
// bad field in a 422; the form only checks the one thing it must, a callback's phone.

import { newKey } from "./api.js";
import { el } from "./dom.js";
import {
  bodyOf,
  buildDialog,
  clearErrors,
  focusFirstInvalid,
  showFieldError,
  showFormError,
  showInvalid,
} from "./task_form_fields.js";

const PATH = "/v1/desktop/workitems";

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
