// The Inbox: the Outbound section on top, the filtered table of work items, and the Hold
// list in the sidebar, drawn from the state's rows and offers.

import { badge, busy, el, priorityTag, syncList } from "./dom.js";
import { ACTION_LABELS, channelLabel, dueLabel, itemStatusLabel, localDateTime } from "./format.js";

const $ = (id) => document.getElementById(id);

function sortKey(row) {
  const due = row.due_at ? Date.parse(row.due_at) : Number.POSITIVE_INFINITY;
  const created = row.created_at ? Date.parse(row.created_at) : Number.POSITIVE_INFINITY;
  return [row.priority ?? 99, due, created, row.arrival, row.work_item_id];
}

export function sortedRows(rows) {
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

// --- the Hold list (sidebar) --------------------------------------------------------------

function holdItem() {
  return el(
    "li",
    { class: "held" },
    el("span", { class: "held-subject" }),
    el("button", { type: "button", class: "button-small button-primary", "data-action": "resume" }),
  );
}

function updateHoldItem(node, row) {
  const [subject, resume] = node.children;
  const signature = `${row.type}|${row.subject}`;
  if (subject.dataset.signature !== signature) {
    subject.dataset.signature = signature;
    subject.replaceChildren(...[badge(row.type), el("span", {}, row.subject)].filter(Boolean));
  }
  resume.dataset.item = row.work_item_id;
  resume.setAttribute("aria-label", `Resume: ${row.subject}`);
  resume.textContent = "Resume";
  busy(resume, row.pending);
}

/** The items on hold, in the sidebar, each with Resume (whatever the Inbox filter). */
export function renderHoldList(state) {
  const held = sortedRows([...state.rows.values()].filter((r) => r.status === "hold"));
  syncList($("hold-list"), held, (row) => row.work_item_id, holdItem, updateHoldItem, $("hold-title"));
  $("no-holds").hidden = held.length > 0;
}
