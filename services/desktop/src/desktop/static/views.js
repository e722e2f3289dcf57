// The page's views besides the Inbox (inbox_view.js): offers, wrap-up forms, the status
// control, the connection and session, and telling the agent. Text goes in as text.

import { badge, busy, countdown, el, priorityTag, syncList } from "./dom.js";
import { ACTION_LABELS, agentStatusLabel, channelLabel, readable, subjectOf } from "./format.js";
import { sortedRows } from "./inbox_view.js";

const $ = (id) => document.getElementById(id);

// --- offers ---------------------------------------------------------------------------

function offerCard(offer) {
  const titleId = `offer-${offer.offer_id}-title`;
  const reasonId = `offer-${offer.offer_id}-reason`;
  const item = offer.item;
  const declines = offer.actions.filter((a) => a === "reject" || a === "skip");
  const meta = [channelLabel(item.channel), item.queue ? `queue ${item.queue}` : null]
    .filter(Boolean)
    .join(" · ");
  return el(
    "li",
    { class: offer.outbound ? "offer offer-outbound" : "offer", "aria-labelledby": titleId },
    el(
      "div",
      { class: "offer-head" },
      badge(item.type, true),
      offer.outbound ? el("span", { class: "tag" }, "Outbound") : null,
      priorityTag(item.priority),
    ),
    el("h3", { class: "offer-subject", id: titleId }, offer.subject),
    item.customer_phone ? el("p", { class: "offer-meta" }, item.customer_phone) : null,
    meta ? el("p", { class: "offer-meta" }, meta) : null,
    countdown(offer.expiresMs, offer.totalMs, "Time left to answer"),
    declines.length
      ? el(
          "div",
          { class: "field" },
          el("label", { htmlFor: reasonId }, `${ACTION_LABELS[declines[0]]} reason (optional)`),
          el("input", { id: reasonId, type: "text", maxLength: 500, "data-reason": "" }),
        )
      : null,
    el(
      "div",
      { class: "actions" },
      offer.actions.map((action) =>
        el(
          "button",
          {
            type: "button",
            class: action === "accept" || action === "dial" ? "button-primary" : "",
            "data-action": action,
            "data-offer": offer.offer_id,
            "data-item": offer.work_item_id,
          },
          ACTION_LABELS[action] || action,
        ),
      ),
    ),
  );
}

export function renderOffers(state) {
  const offers = [...state.offers.values()]
    .map((offer) => ({ ...offer, subject: subjectOf(offer.item) }))
    .sort((a, b) => a.expiresMs - b.expiresMs);
  syncList(
    $("offers"),
    offers,
    (offer) => offer.offer_id,
    offerCard,
    (node, offer) => {
      for (const button of node.querySelectorAll("button")) {
        busy(button, offer.pending);
      }
    },
    $("offers-title"),
  );
  $("no-offers").hidden = offers.length > 0;
}

// --- wrap-up --------------------------------------------------------------------------

const DISPOSITIONS = ["resolved", "follow_up", "escalated", "no_answer", "duplicate"];

function wrapupForm(row) {
  const id = `wrapup-${row.work_item_id}`;
  return el(
    "li",
    { class: "wrapup" },
    el(
      "form",
      { class: "wrapup-form", "data-item": row.work_item_id, "aria-labelledby": `${id}-title` },
      el("h3", { id: `${id}-title` }, row.subject),
      el("div", { class: "wrapup-deadline" }),
      el(
        "div",
        { class: "field" },
        el("label", { htmlFor: `${id}-code` }, "Disposition code"),
        el("input", {
          id: `${id}-code`,
          name: "disposition",
          type: "text",
          required: true,
          maxLength: 64,
          pattern: "[a-z0-9][a-z0-9_.\\-]*",
          autocomplete: "off",
          spellcheck: false,
          "aria-describedby": `${id}-code-help`,
        }),
        el("datalist", { id: `${id}-codes` }, DISPOSITIONS.map((c) => el("option", { value: c }))),
        el(
          "p",
          { class: "help", id: `${id}-code-help` },
          "Lower-case letters, digits, _ . - (e.g. resolved).",
        ),
      ),
      el(
        "div",
        { class: "field" },
        el("label", { htmlFor: `${id}-notes` }, "Notes"),
        el("textarea", { id: `${id}-notes`, name: "notes", rows: 3, maxLength: 4000 }),
      ),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "submit", class: "button-primary" }, "Complete"),
      ),
    ),
  );
}

function updateWrapup(node, row, nowMs) {
  const code = node.querySelector("input[name=disposition]");
  code.setAttribute("list", `wrapup-${row.work_item_id}-codes`);
  busy(node.querySelector("button[type=submit]"), row.pending || row.autoCompleting);
  const deadline = node.querySelector(".wrapup-deadline");
  const state = row.autoCompleting ? "auto" : row.wrapupExpiresMs ? "timer" : "unknown";
  if (deadline.dataset.state === state) {
    return;
  }
  deadline.dataset.state = state;
  if (state === "auto") {
    deadline.replaceChildren(el("p", {}, "Time is up: completing with the default disposition."));
  } else if (state === "timer") {
    const total = Math.max(row.wrapupExpiresMs - nowMs, 1000);
    deadline.replaceChildren(
      el("span", {}, "Complete within"),
      countdown(row.wrapupExpiresMs, total, "Time left to complete"),
    );
  } else {
    deadline.replaceChildren(
      el("p", {}, "Completes by itself with the default disposition when time runs out."),
    );
  }
}

export function renderWrapups(state, nowMs) {
  const rows = sortedRows([...state.rows.values()].filter((r) => r.status === "wrap_up"));
  syncList(
    $("wrapups"),
    rows,
    (row) => row.work_item_id,
    wrapupForm,
    (node, row) => updateWrapup(node, row, nowMs),
    $("inbox-title"),
  );
  $("wrapups-panel").hidden = rows.length === 0;
}

// --- status and connection -------------------------------------------------------------

export function renderStatus(state, pending) {
  const current = $("current-status");
  const label = agentStatusLabel(state.agent);
  const text = pending ? `${label} (setting ${readable(pending)}…)` : label;
  if (current.textContent !== text) {
    current.textContent = text;
  }
  current.dataset.status = state.agent.status;
  for (const button of document.querySelectorAll(".status-button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === state.agent.status));
  }
  const reasons = $("away-reason");
  const confirmed = state.agent.status === "away" ? state.agent.reason : null;
  const offered = [...reasons.options].some((option) => option.value === confirmed);
  if (offered && document.activeElement !== reasons && reasons.value !== confirmed) {
    reasons.value = confirmed; // the reason the router confirmed, as another desk set it
  }
}

const CONNECTION_TEXT = {
  "signed-out": "Signed out",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
};

export function renderConnection(connection) {
  const node = $("connection");
  node.dataset.state = connection;
  node.textContent = CONNECTION_TEXT[connection] || connection;
  $("stale").hidden = connection !== "reconnecting";
}

export function renderSession(claims, watching) {
  $("who").textContent = claims ? claims.sub : "";
  $("watching").hidden = !watching;
  $("watched").textContent = watching || "";
  document.body.dataset.mode = watching ? "watch" : "work";
  $("status-title").textContent = watching ? "Status" : "My status";
  $("session").hidden = !claims;
  $("sign-in").hidden = Boolean(claims);
  $("desk").hidden = !claims;
}

export function fillReasons(reasons) {
  $("away-reason").replaceChildren(
    ...reasons.map((code) => el("option", { value: code }, capitalized(readable(code)))),
  );
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// --- telling the agent ------------------------------------------------------------------

export function announce(text) {
  const node = $("announcer");
  node.textContent = "";
  // a separate task, so that the same words said twice are said again
  setTimeout(() => {
    node.textContent = text;
  }, 50);
}

/** A notice shown for a while: "alert" (something went wrong) or "ok" (it worked). */
export function notice(text, tone = "alert", ms = 6000) {
  const item = el("p", { class: `notice notice-${tone}` }, text);
  $("notices").append(item);
  setTimeout(() => item.remove(), ms);
}
