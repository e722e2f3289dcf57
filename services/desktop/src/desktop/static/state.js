// What the page knows of its agent: status, live offers, Inbox rows. Built from the
// stream's snapshot, then changed by each event. Events may repeat what the snapshot
// already showed (docs/desktop.md), so applying one twice changes nothing: offers are
// keyed by offer_id, rows by work_item_id, and an item that closed stays closed.

import { subjectOf } from "./format.js";
import {
  close,
  dropOffer,
  held,
  offerEnded,
  offerFrom,
  rowFromInbox,
  rowFromSummary,
  subject,
} from "./state_rows.js";

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
