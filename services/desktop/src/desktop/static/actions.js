// What the agent does on the desk, sent as commands: its status, answers to offers, hold,
// resume and end, and the wrap-up's completion. A button waits (aria-disabled) until the
// outcome arrives on the stream; a command the gateway refused says so and frees it.

import { CommandError, saveQueues, sendCommand } from "./api.js";
import { notice } from "./views.js";

const $ = (id) => document.getElementById(id);
const QUEUE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

let page = null; // app.js's page: token, state, pendingStatus, watching
let hooks = { render() {}, signOut() {} };

async function command(type, data, onFailure) {
  try {
    return await sendCommand(page.token, type, data);
  } catch (error) {
    if (error instanceof CommandError && error.status === 401) {
      hooks.signOut("The gateway no longer takes this token: sign in again.");
      return null;
    }
    notice(`Could not send ${type}: ${error.message}`);
    if (onFailure) {
      onFailure();
    }
    hooks.render();
    return null;
  }
}

function queues() {
  const text = $("queues").value;
  saveQueues(text);
  return text
    .split(/[\s,]+/)
    .map((q) => q.trim())
    .filter(Boolean);
}

function setStatus(status) {
  const list = queues();
  const bad = list.find((q) => !QUEUE.test(q));
  if (bad) {
    notice(`"${bad}" is not a queue name (lower-case letters, digits, _ . -).`);
    $("queues").focus();
    return;
  }
  const data = { status, queues: list };
  if (status === "away") {
    data.reason = $("away-reason").value;
  }
  page.pendingStatus = status;
  hooks.render();
  command("agent.status", data, () => {
    page.pendingStatus = null;
  });
}

const OFFER_COMMANDS = {
  accept: "offer.accept",
  reject: "offer.reject",
  dial: "outbound.dial",
  skip: "outbound.skip",
};
const ITEM_COMMANDS = { hold: "item.hold", resume: "item.resume", end: "item.end" };

function answerOffer(button, action) {
  const offer = page.state.offers.get(button.dataset.offer);
  if (!offer) {
    return;
  }
  const data = { offer_id: offer.offer_id, work_item_id: offer.work_item_id };
  const reason = button.closest(".offer")?.querySelector("[data-reason]")?.value.trim();
  if ((action === "reject" || action === "skip") && reason) {
    data.reason = reason;
  }
  offer.pending = true;
  hooks.render();
  command(OFFER_COMMANDS[action], data, () => {
    offer.pending = false;
  });
}

function actOnItem(action, workItemId) {
  const row = page.state.rows.get(workItemId);
  if (!row) {
    return;
  }
  row.pending = true;
  hooks.render();
  command(ITEM_COMMANDS[action], { work_item_id: workItemId }, () => {
    row.pending = false;
  });
}

function onDeskClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button || button.getAttribute("aria-disabled") === "true" || page.watching) {
    return;
  }
  const action = button.dataset.action;
  if (action in OFFER_COMMANDS) {
    answerOffer(button, action);
  } else if (action in ITEM_COMMANDS) {
    actOnItem(action, button.dataset.item);
  } else if (action === "wrapup") {
    const form = [...document.querySelectorAll(".wrapup-form")].find(
      (f) => f.dataset.item === button.dataset.item,
    );
    form?.querySelector("input[name=disposition]")?.focus();
  }
}

function onWrapupSubmit(event) {
  event.preventDefault();
  const form = event.target;
  if (page.watching || !form.reportValidity()) {
    return;
  }
  const row = page.state.rows.get(form.dataset.item);
  if (!row || row.pending || row.autoCompleting) {
    return;
  }
  const data = {
    work_item_id: row.work_item_id,
    disposition_code: form.elements.disposition.value.trim(),
  };
  const notes = form.elements.notes.value.trim();
  if (notes) {
    data.notes = notes;
  }
  row.pending = true;
  hooks.render();
  command("item.complete", data, () => {
    row.pending = false;
  });
}

/** Listen for the agent's clicks and forms on the desk of ``thePage`` (nothing is sent
 * while a supervisor only watches: ``thePage.watching``). */
export function installActions(thePage, theHooks) {
  page = thePage;
  hooks = theHooks;
  for (const button of document.querySelectorAll(".status-button")) {
    button.addEventListener("click", () => {
      if (!page.watching) {
        setStatus(button.dataset.status);
      }
    });
  }
  $("desk").addEventListener("click", onDeskClick);
  $("wrapups").addEventListener("submit", onWrapupSubmit);
}
