// The page's DOM: offers, wrap-up forms, the Inbox tables and the status control, drawn
// from the state. Lists are keyed (offer_id, work_item_id) and their elements kept
// across updates, so focus and what the agent typed stay put; text goes in as text.

import {
  agentStatusLabel,
  badgeOf,
  channelLabel,
  countdownText,
  dueLabel,
  isTaskType,
  itemStatusLabel,
  localDateTime,
  priorityLabel,
  readable,
  secondsLeft,
  subjectOf,
} from "./format.js";

const $ = (id) => document.getElementById(id);

/** An element with properties (attributes for "data-"/"aria-" names) and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === "class") {
      node.className = value;
    } else if (name.startsWith("data-") || name.startsWith("aria-") || name === "role") {
      node.setAttribute(name, value === true ? "true" : String(value));
    } else {
      node[name] = value;
    }
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/**
 * Makes ``parent``'s children the elements of ``items``, in order: an existing child of
 * the same key is kept (and updated), a new key is created, a child whose key is gone is
 * removed. Focus inside a removed child moves to ``fallback``.
 */
export function syncList(parent, items, keyOf, create, update, fallback) {
  const wanted = new Map(items.map((item) => [keyOf(item), item]));
  for (const child of [...parent.children]) {
    if (!wanted.has(child.dataset.key)) {
      const hadFocus = child.contains(document.activeElement);
      child.remove();
      if (hadFocus && fallback) {
        fallback.focus();
      }
    }
  }
  const existing = new Map([...parent.children].map((child) => [child.dataset.key, child]));
  let index = 0;
  for (const [key, item] of wanted) {
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    if (parent.children[index] !== node) {
      parent.insertBefore(node, parent.children[index] || null);
    }
    index += 1;
  }
}

/** A button that waits for its command's outcome: still focusable, not clickable. */
function busy(button, waiting) {
  if (waiting) {
    button.setAttribute("aria-disabled", "true");
  } else {
    button.removeAttribute("aria-disabled");
  }
}

/** The type badge: purple for task-type items; real-time ones (chat, call) get one only
 * where ``everyType`` (the offer card), as the Inbox shows none for them. */
function badge(type, everyType = false) {
  if (isTaskType(type)) {
    return el("span", { class: "badge badge-task" }, badgeOf(type));
  }
  return everyType && type ? el("span", { class: "badge badge-live" }, type.toUpperCase()) : null;
}

function priorityTag(priority) {
  const known = [1, 2, 3, 5, 8].includes(priority) ? priority : "other";
  return el("span", { class: `priority priority-${known}` }, priorityLabel(priority));
}

function countdown(deadlineMs, totalMs, label) {
  return el(
    "p",
    { class: "countdown" },
    el("span", { class: "timer", role: "timer", "aria-label": label, "data-deadline": deadlineMs }),
    el("progress", {
      max: totalMs,
      value: totalMs,
      "aria-hidden": "true",
      "data-deadline": deadlineMs,
    }),
  );
}

/** Brings every countdown on the page to ``nowMs`` (called a few times a second). */
export function tickTimers(nowMs) {
  for (const node of document.querySelectorAll("[data-deadline]")) {
    const deadline = Number(node.dataset.deadline);
    if (node.tagName === "PROGRESS") {
      node.value = Math.max(0, deadline - nowMs);
    } else {
      const text = countdownText(secondsLeft(deadline, nowMs));
      if (node.textContent !== text) {
        node.textContent = text;
      }
    }
  }
}

// --- offers ---------------------------------------------------------------------------

const ACTION_LABELS = { accept: "Accept", reject: "Reject", dial: "Dial", skip: "Skip" };

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

// --- the Inbox ------------------------------------------------------------------------

function sortKey(row) {
  const due = row.due_at ? Date.parse(row.due_at) : Number.POSITIVE_INFINITY;
  const created = row.created_at ? Date.parse(row.created_at) : Number.POSITIVE_INFINITY;
  return [row.priority ?? 99, due, created, row.arrival, row.work_item_id];
}

function sortedRows(rows) {
  return rows.sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    for (let i = 0; i < ka.length; i += 1) {
      if (ka[i] < kb[i]) {
        return -1;
      }
      if (ka[i] > kb[i]) {
        return 1;
      }
    }
    return 0;
  });
}

function rowButtons(row, offer) {
  const button = (action, label, extra = {}) =>
    el(
      "button",
      {
        type: "button",
        class: extra.primary ? "button-small button-primary" : "button-small",
        "data-action": action,
        "data-item": row.work_item_id,
        "data-offer": offer?.offer_id,
        "aria-label": `${label}: ${row.subject}`,
      },
      label,
    );
  if (row.status === "offered") {
    if (!offer) {
      return [];
    }
    return offer.actions.map((a) =>
      button(a, ACTION_LABELS[a] || a, { primary: a === "accept" || a === "dial" }),
    );
  }
  if (row.status === "active") {
    return [button("hold", "Hold"), button("end", "End")];
  }
  if (row.status === "hold") {
    return [button("resume", "Resume", { primary: true }), button("end", "End")];
  }
  if (row.status === "wrap_up") {
    return [button("wrapup", "Wrap up", { primary: true })];
  }
  return [];
}

function inboxRow() {
  return el(
    "tr",
    {},
    el("td", { class: "subject" }),
    el("td", { class: "who" }),
    el("td", { class: "status-cell" }),
    el("td", { class: "priority-cell" }),
    el("td", { class: "due-cell" }),
    el("td", { class: "actions-cell" }),
  );
}

function setCell(cell, signature, ...content) {
  if (cell.dataset.signature !== signature) {
    cell.dataset.signature = signature;
    cell.replaceChildren(...content.flat().filter(Boolean));
  }
}

function updateRow(node, row, offer, nowMs) {
  const [subject, who, status, priority, due, actions] = node.children;
  node.dataset.status = row.status;
  setCell(subject, `${row.type}|${row.subject}`, badge(row.type), el("span", {}, row.subject));
  const customer = row.outbound
    ? [row.customer_name, row.customer_phone].filter(Boolean).join(" · ")
    : channelLabel(row.channel);
  setCell(who, customer, customer);
  setCell(
    status,
    row.status,
    el("span", { class: `item-status item-status-${row.status}` }, itemStatusLabel(row.status)),
  );
  setCell(priority, String(row.priority), priorityTag(row.priority));
  const label = dueLabel(row.due_at, nowMs);
  const dueClass = label === "Overdue" ? "due due-overdue" : "due";
  const dueTitle = row.due_at ? `Due ${localDateTime(row.due_at)}` : "";
  setCell(
    due,
    `${label}|${row.due_at}`,
    label ? el("time", { class: dueClass, dateTime: row.due_at, title: dueTitle }, label) : null,
  );
  const signature = `${row.status}|${offer?.offer_id}|${row.subject}`;
  if (actions.dataset.signature !== signature) {
    const hadFocus = actions.contains(document.activeElement);
    setCell(actions, signature, rowButtons(row, offer));
    if (hadFocus) {
      (actions.querySelector("button") || $("inbox-title")).focus();
    }
  }
  for (const button of actions.querySelectorAll("button")) {
    busy(button, row.pending || Boolean(offer?.pending));
  }
}

function offersByItem(state) {
  return new Map([...state.offers.values()].map((o) => [o.work_item_id, o]));
}

export function renderInbox(state, filter, nowMs) {
  const offers = offersByItem(state);
  const rows = [...state.rows.values()];
  const outbound = sortedRows(rows.filter((r) => r.outbound));
  const shown = (r) => !r.outbound && (filter === "all" || r.status === filter);
  const items = sortedRows(rows.filter(shown));
  for (const [body, list, empty] of [
    [$("outbound-rows"), outbound, $("no-outbound")],
    [$("item-rows"), items, $("no-items")],
  ]) {
    syncList(
      body,
      list,
      (row) => row.work_item_id,
      inboxRow,
      (node, row) => updateRow(node, row, offers.get(row.work_item_id), nowMs),
      $("inbox-title"),
    );
    empty.hidden = list.length > 0;
  }
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

export function renderSession(claims) {
  $("who").textContent = claims ? claims.sub : "";
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

export function notice(text, ms = 6000) {
  const item = el("p", { class: "notice" }, text);
  $("notices").append(item);
  setTimeout(() => item.remove(), ms);
}
