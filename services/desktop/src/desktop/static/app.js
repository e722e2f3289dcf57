// The Agent Desktop page: sign-in, the event stream, and the agent's clicks as commands.

import {
  claimsOf,
  CommandError,
  expired,
  forgetToken,
  loadConfig,
  savedQueues,
  savedToken,
  saveQueues,
  saveToken,
  sendCommand,
} from "./api.js";
import { applyEvent, applySnapshot, dropExpiredOffers, emptyState, serverNow } from "./state.js";
import { openStream } from "./stream.js";
import { installCreateTask } from "./task_form.js";
import { tickTimers } from "./dom.js";
import { renderHoldList, renderInbox } from "./inbox_view.js";
import {
  announce,
  fillReasons,
  notice,
  renderConnection,
  renderOffers,
  renderSession,
  renderStatus,
  renderWrapups,
} from "./views.js";

const $ = (id) => document.getElementById(id);
const QUEUE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

const page = {
  token: null,
  claims: null,
  closeStream: null,
  state: emptyState(),
  filter: "all",
  pendingStatus: null,
};

function render() {
  const now = serverNow(page.state);
  renderStatus(page.state, page.pendingStatus);
  renderOffers(page.state);
  renderWrapups(page.state, now);
  renderInbox(page.state, page.filter, now);
  renderHoldList(page.state);
  tickTimers(now);
}

function tell(effect) {
  if (effect.say) {
    announce(effect.say);
  }
  if (effect.notice) {
    notice(effect.notice);
  }
}

// --- signing in and out ---------------------------------------------------------------

function signIn(token) {
  const claims = claimsOf(token); // throws what is wrong with it
  if (expired(claims, Date.now())) {
    throw new Error("This token has expired; mint a new one.");
  }
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (!roles.includes("agent")) {
    throw new Error(`This is not an agent's token (roles: ${roles.join(", ") || "none"}).`);
  }
  saveToken(token);
  page.token = token;
  page.claims = claims;
  page.state = emptyState();
  page.state.agent.agent_id = claims.sub;
  renderSession(claims);
  render();
  page.closeStream = openStream(token, {
    state: renderConnection,
    snapshot(snapshot) {
      applySnapshot(page.state, snapshot);
      render();
    },
    event(type, cloudEvent) {
      const effect = applyEvent(page.state, type, cloudEvent);
      if (type === "agent.status_changed") {
        page.pendingStatus = null;
      }
      render();
      tell(effect);
    },
    closed: streamRefused,
  });
}

function signOut(message) {
  if (page.closeStream) {
    page.closeStream();
  }
  forgetToken();
  Object.assign(page, { token: null, claims: null, closeStream: null, pendingStatus: null });
  page.state = emptyState();
  renderSession(null);
  renderConnection("signed-out");
  $("token").value = "";
  $("token-error").textContent = message || "";
  $("token").focus();
}

/** The gateway refused the stream: a token it will never take signs out; else retry. */
async function streamRefused() {
  if (expired(page.claims, Date.now())) {
    signOut("Your token has expired: sign in with a new one.");
    return false;
  }
  try {
    const controller = new AbortController();
    const answer = await fetch("/v1/desktop/events", {
      headers: { Authorization: `Bearer ${page.token}` },
      signal: controller.signal,
    });
    const detail = answer.ok ? "" : ((await answer.json().catch(() => ({}))).detail ?? "");
    controller.abort();
    if (answer.status === 401 || answer.status === 403) {
      signOut(`The gateway refused this token: ${detail || answer.status}`);
      return false;
    }
  } catch {
    // unreachable: try again later
  }
  return true;
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  $("token-error").textContent = "";
  if (!token) {
    $("token-error").textContent = "Paste a token first.";
    $("token").focus();
    return;
  }
  try {
    signIn(token);
  } catch (error) {
    $("token-error").textContent = error.message;
    $("token").focus();
  }
});

$("sign-out").addEventListener("click", () => signOut());

// --- commands -----------------------------------------------------------------------------

async function command(type, data, onFailure) {
  try {
    return await sendCommand(page.token, type, data);
  } catch (error) {
    if (error instanceof CommandError && error.status === 401) {
      signOut("The gateway no longer takes this token: sign in again.");
      return null;
    }
    notice(`Could not send ${type}: ${error.message}`);
    if (onFailure) {
      onFailure();
    }
    render();
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
  render();
  command("agent.status", data, () => {
    page.pendingStatus = null;
  });
}

for (const button of document.querySelectorAll(".status-button")) {
  button.addEventListener("click", () => setStatus(button.dataset.status));
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
  render();
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
  render();
  command(ITEM_COMMANDS[action], { work_item_id: workItemId }, () => {
    row.pending = false;
  });
}

$("desk").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || button.getAttribute("aria-disabled") === "true") {
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
});

$("wrapups").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) {
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
  render();
  command("item.complete", data, () => {
    row.pending = false;
  });
});

for (const radio of document.querySelectorAll("input[name=filter]")) {
  radio.addEventListener("change", () => {
    page.filter = radio.value;
    render();
  });
}

// --- time ---------------------------------------------------------------------------------

setInterval(() => {
  if (!page.claims) {
    return;
  }
  const now = serverNow(page.state);
  if (dropExpiredOffers(page.state, now)) {
    render();
  } else {
    tickTimers(now);
  }
}, 200);

setInterval(() => {
  if (page.claims) {
    render(); // due labels move on: Today becomes Overdue
  }
}, 30000);

// --- start ------------------------------------------------------------------------------

async function start() {
  installCreateTask({ slot: $("create-task-slot"), token: () => page.token, announce, notice });
  const config = await loadConfig();
  fillReasons(config.away_reasons);
  const queuesText = savedQueues();
  if (queuesText !== null) {
    $("queues").value = queuesText;
  }
  const token = savedToken();
  if (token) {
    try {
      signIn(token);
      return;
    } catch (error) {
      signOut(error.message);
      return;
    }
  }
  renderConnection("signed-out");
}

start();
