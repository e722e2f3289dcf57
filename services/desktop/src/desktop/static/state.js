// What the page knows of its agent: status, live offers, Inbox rows. Built from the
// stream's snapshot, then changed by each event. Events may repeat what the snapshot
// already showed (docs/desktop.md), so applying one twice changes nothing: offers are
// keyed by offer_id, rows by work_item_id, and an item that closed stays closed.

import { badgeOf, subjectOf } from "./format.js";

export function emptyState() {
  return {
    agent: { agent_id: null, status: "offline", reason: null },
    skewMs: 0, // the server's clock minus this browser's
    offers: new Map(), // offer_id → offer
    rows: new Map(), // work_item_id → Inbox row
    closed: new Set(), // work items that left for good (completed, cancelled)
    arrivals: 0, // orders rows that came without a created_at
  };
}

/** The server's time now, by this browser's clock corrected with the snapshot's. */
export function serverNow(state) {
  return Date.now() + state.skewMs;
}

function defaultActions(outbound) {
  return outbound ? ["dial", "skip"] : ["accept", "reject"];
}

function offerFrom(data, nowMs) {
  const expiresMs = Date.parse(data.expires_at);
  return {
    offer_id: data.offer_id,
    work_item_id: data.work_item_id,
    expires_at: data.expires_at,
    expiresMs,
    totalMs: Math.max(expiresMs - nowMs, 1000),
    outbound: Boolean(data.outbound),
    actions: data.actions?.length ? data.actions : defaultActions(data.outbound),
    item: data.item || {},
    pending: false,
  };
}

function rowFromSummary(state, workItemId, summary, outbound, status) {
  state.arrivals += 1;
  const type = summary.type ?? null;
  return {
    work_item_id: workItemId,
    type,
    badge: type ? badgeOf(type) : null,
    subject: type ? subjectOf(summary) : workItemId,
    status,
    priority: summary.priority ?? null,
    channel: summary.channel ?? null,
    sub_type: summary.sub_type ?? null,
    due_at: summary.due_at ?? null,
    outbound: Boolean(outbound),
    source: outbound && type === "callback" ? "callback" : null,
    customer_name: summary.customer_name ?? null,
    customer_phone: summary.customer_phone ?? null,
    created_at: null,
    arrival: state.arrivals,
    wrapupExpiresMs: null,
    autoCompleting: false,
    pending: false,
  };
}

function rowFromInbox(state, view, previous) {
  state.arrivals += 1;
  const keepDeadline = previous && previous.status === "wrap_up" && view.status === "wrap_up";
  return {
    ...view,
    arrival: state.arrivals,
    wrapupExpiresMs: keepDeadline ? previous.wrapupExpiresMs : null,
    autoCompleting: keepDeadline ? previous.autoCompleting : false,
    pending: false,
  };
}

/** Replaces everything with the snapshot's view (the stream's first message). */
export function applySnapshot(state, snapshot) {
  state.skewMs = Date.parse(snapshot.now) - Date.now();
  const nowMs = serverNow(state);
  state.agent = { ...state.agent, ...snapshot.agent };
  state.offers = new Map();
  for (const data of snapshot.offers || []) {
    if (!state.closed.has(data.work_item_id)) {
      state.offers.set(data.offer_id, offerFrom(data, nowMs));
    }
  }
  const previous = state.rows;
  state.rows = new Map();
  const inbox = snapshot.inbox || {};
  for (const view of [...(inbox.outbound || []), ...(inbox.items || [])]) {
    if (!state.closed.has(view.work_item_id)) {
      const row = rowFromInbox(state, view, previous.get(view.work_item_id));
      state.rows.set(view.work_item_id, row);
    }
  }
  for (const wrapup of snapshot.wrapups || []) {
    const row = state.rows.get(wrapup.work_item_id);
    if (row && row.status === "wrap_up") {
      row.wrapupExpiresMs = Date.parse(wrapup.expires_at);
    }
  }
}

function offerOfItem(state, workItemId) {
  for (const offer of state.offers.values()) {
    if (offer.work_item_id === workItemId) {
      return offer;
    }
  }
  return null;
}

function dropOffer(state, offerId) {
  const offer = state.offers.get(offerId) || null;
  state.offers.delete(offerId);
  return offer;
}

/** An offer that ended: its row goes too, unless the item is offered again meanwhile. */
function offerEnded(state, offerId, workItemId) {
  const offer = dropOffer(state, offerId);
  const row = state.rows.get(workItemId);
  if (row && row.status === "offered" && !offerOfItem(state, workItemId)) {
    state.rows.delete(workItemId);
  }
  return offer;
}

function close(state, workItemId) {
  const row = state.rows.get(workItemId) || null;
  state.rows.delete(workItemId);
  for (const offer of [...state.offers.values()]) {
    if (offer.work_item_id === workItemId) {
      state.offers.delete(offer.offer_id);
    }
  }
  state.closed.add(workItemId);
  return row;
}

/** The row of an item the agent now holds, made from the offer's summary if it is new. */
function held(state, workItemId, status, summaryOffer) {
  if (state.closed.has(workItemId)) {
    return null;
  }
  let row = state.rows.get(workItemId);
  if (!row) {
    const offer = summaryOffer || offerOfItem(state, workItemId);
    row = rowFromSummary(state, workItemId, offer?.item || {}, offer?.outbound, status);
    state.rows.set(workItemId, row);
  }
  row.status = status;
  row.pending = false;
  return row;
}

function subject(state, workItemId, fallback) {
  return state.rows.get(workItemId)?.subject || fallback || workItemId;
}

// What each event type does. Each returns what the page should tell the agent: an
// announcement for screen readers ({say}) and/or a visible notice ({notice}).
const HANDLERS = {
  "offer.made"(state, d) {
    if (state.closed.has(d.work_item_id)) {
      return {};
    }
    const offer = offerFrom(d, serverNow(state));
    if (offer.expiresMs <= serverNow(state)) {
      return {}; // a replayed offer that has run out already
    }
    const row = state.rows.get(d.work_item_id);
    if (row && row.status !== "offered") {
      return {}; // a replayed offer of an item the agent holds already
    }
    const known = state.offers.has(d.offer_id);
    state.offers.set(d.offer_id, offer);
    if (!state.rows.has(d.work_item_id)) {
      const row = rowFromSummary(state, d.work_item_id, offer.item, offer.outbound, "offered");
      state.rows.set(d.work_item_id, row);
    }
    if (known) {
      return {};
    }
    const kind = offer.item.type ? `${offer.item.type} ` : "";
    return { say: `New ${kind}offer: ${subjectOf(offer.item)}.` };
  },
  "offer.revoked"(state, d) {
    const offer = offerEnded(state, d.offer_id, d.work_item_id);
    if (!offer) {
      return {};
    }
    const why = d.reason === "expired" ? "it expired" : `reason: ${d.reason}`;
    return { say: `The offer of ${subjectOf(offer.item)} was withdrawn (${why}).` };
  },
  "item.cancelled"(state, d) {
    const row = close(state, d.work_item_id);
    return row ? { notice: `${row.subject} was cancelled.` } : {};
  },
  "agent.status_changed"(state, d) {
    state.agent = { ...state.agent, status: d.status, reason: d.reason ?? null };
    return {};
  },
  "command.rejected"(state, d) {
    for (const offer of state.offers.values()) {
      if (offer.work_item_id === d.work_item_id) {
        offer.pending = false;
      }
    }
    const row = d.work_item_id ? state.rows.get(d.work_item_id) : null;
    if (row) {
      row.pending = false;
    }
    const what = COMMAND_NAMES[d.command_type] || d.command_type || "A command";
    return { notice: `${what} refused: ${readableReason(d.reason)}.` };
  },
  "workitem.accepted"(state, d) {
    const offer = dropOffer(state, d.offer_id);
    held(state, d.work_item_id, "active", offer);
    return offer ? { say: `Accepted: ${subjectOf(offer.item)}.` } : {};
  },
  "workitem.dialed"(state, d) {
    const offer = dropOffer(state, d.offer_id);
    held(state, d.work_item_id, "active", offer);
    return offer ? { say: `Dialing: ${subjectOf(offer.item)}.` } : {};
  },
  "workitem.offer_rejected"(state, d) {
    offerEnded(state, d.offer_id, d.work_item_id);
    return {};
  },
  "workitem.skipped"(state, d) {
    offerEnded(state, d.offer_id, d.work_item_id);
    return {};
  },
  "workitem.held"(state, d) {
    held(state, d.work_item_id, "hold");
    return { say: `On hold: ${subject(state, d.work_item_id)}.` };
  },
  "workitem.resumed"(state, d) {
    held(state, d.work_item_id, "active");
    return { say: `Resumed: ${subject(state, d.work_item_id)}.` };
  },
  "workitem.wrapup_started"(state, d) {
    const row = held(state, d.work_item_id, "wrap_up");
    if (row) {
      row.wrapupExpiresMs = Date.parse(d.expires_at);
      row.autoCompleting = false;
    }
    return row ? { say: `Wrap-up: ${row.subject}. Choose a disposition.` } : {};
  },
  "workitem.wrapup_expired"(state, d) {
    const row = state.rows.get(d.work_item_id);
    if (row) {
      row.autoCompleting = true;
    }
    return {};
  },
  "workitem.completed"(state, d) {
    const row = close(state, d.work_item_id);
    if (!row) {
      return {};
    }
    const how = d.auto ? " with the default disposition (wrap-up time ran out)" : "";
    return { say: `Completed: ${row.subject}${how}.` };
  },
  "workitem.cancelled"(state, d) {
    const row = close(state, d.work_item_id);
    return row ? { notice: `${row.subject} was cancelled.` } : {};
  },
};

// the types the page applies: every type the gateway streams besides the snapshot
// (docs/desktop.md; tests/desktop_page checks it against the gateway's log)
export const HANDLED_TYPES = Object.keys(HANDLERS);

const COMMAND_NAMES = {
  "agent.status": "Status change",
  "offer.accept": "Accept",
  "offer.reject": "Reject",
  "outbound.dial": "Dial",
  "outbound.skip": "Skip",
  "item.hold": "Hold",
  "item.resume": "Resume",
  "item.end": "End",
  "item.complete": "Complete",
};

function readableReason(reason) {
  return String(reason || "no reason given").replace(/_/g, " ");
}

/** Applies one CloudEvent of the stream; what to tell the agent ({say, notice}). */
export function applyEvent(state, type, cloudEvent) {
  const handler = HANDLERS[type];
  const data = cloudEvent?.data;
  if (!handler || typeof data !== "object" || data === null) {
    return {};
  }
  return handler(state, data) || {};
}

/** Offers whose deadline passed (the router revokes them; the page stops showing them). */
export function dropExpiredOffers(state, nowMs) {
  let dropped = false;
  for (const offer of [...state.offers.values()]) {
    if (offer.expiresMs <= nowMs) {
      offerEnded(state, offer.offer_id, offer.work_item_id);
      dropped = true;
    }
  }
  return dropped;
}
