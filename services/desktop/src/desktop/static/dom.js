// The page's DOM primitives: elements from properties, keyed lists kept across updates
// (so focus and what the agent typed stay put), and the little widgets the views share:
// the type badge, the priority tag, countdowns and busy buttons.

import { badgeOf, countdownText, isTaskType, priorityLabel, secondsLeft } from "./format.js";

export const $ = (id) => document.getElementById(id);

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
export function busy(button, waiting) {
  if (waiting) {
    button.setAttribute("aria-disabled", "true");
  } else {
    button.removeAttribute("aria-disabled");
  }
}

/** The type badge: purple for task-type items; real-time ones (chat, call) get one only
 * where ``everyType`` (the offer card), as the Inbox shows none for them. */
export function badge(type, everyType = false) {
  if (isTaskType(type)) {
    return el("span", { class: "badge badge-task" }, badgeOf(type));
  }
  return everyType && type ? el("span", { class: "badge badge-live" }, type.toUpperCase()) : null;
}

export function priorityTag(priority) {
  const known = [1, 2, 3, 5, 8].includes(priority) ? priority : "other";
  return el("span", { class: `priority priority-${known}` }, priorityLabel(priority));
}

export function countdown(deadlineMs, totalMs, label) {
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
