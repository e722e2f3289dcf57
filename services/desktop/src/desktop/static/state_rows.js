// The state's offers and Inbox rows (state.js): made from the stream's data, found by
// their work item, ended, closed, and held by the agent.

import { badgeOf, subjectOf } from "./format.js";

function defaultActions(outbound) {
  return outbound ? ["dial", "skip"] : ["accept", "reject"];
}

export function offerFrom(data, nowMs) {
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

export function rowFromSummary(state, workItemId, summary, outbound, status) {
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

export function rowFromInbox(state, view, previous) {
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

function offerOfItem(state, workItemId) {
  for (const offer of state.offers.values()) {
    if (offer.work_item_id === workItemId) {
      return offer;
    }
  }
  return null;
}

export function dropOffer(state, offerId) {
  const offer = state.offers.get(offerId) || null;
  state.offers.delete(offerId);
  return offer;
}

/** An offer that ended: its row goes too, unless the item is offered again meanwhile. */
export function offerEnded(state, offerId, workItemId) {
  const offer = dropOffer(state, offerId);
  const row = state.rows.get(workItemId);
  if (row && row.status === "offered" && !offerOfItem(state, workItemId)) {
    state.rows.delete(workItemId);
  }
  return offer;
}

export function close(state, workItemId) {
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
export function held(state, workItemId, status, summaryOffer) {
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

export function subject(state, workItemId, fallback) {
  return state.rows.get(workItemId)?.subject || fallback || workItemId;
}
