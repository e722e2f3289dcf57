// How things read on the page: labels for priorities, statuses, badges, subjects, due
// dates and countdowns. Pure functions; times are milliseconds since the epoch.

const PRIORITIES = new Map([
  [1, "Critical"],
  [2, "High"],
  [3, "Medium"],
  [5, "Normal"],
  [8, "Low"],
]);
const TASK_TYPES = new Set(["task", "callback", "review", "approval", "email"]);
const ITEM_STATUSES = new Map([
  ["offered", "Offered"],
  ["active", "Active"],
  ["hold", "Hold"],
  ["wrap_up", "Wrap-up"],
]);
const CHANNELS = new Map([
  ["internal", "Internal"],
  ["email", "Email"],
  ["form", "Form"],
  ["phone", "Phone"],
  ["walk_in", "Walk-in"],
  ["mail", "Mail"],
  ["api", "API"],
]);
const SUBJECT_MAX = 120;

export const ACTION_LABELS = { accept: "Accept", reject: "Reject", dial: "Dial", skip: "Skip" };

export function priorityLabel(priority) {
  if (priority === null || priority === undefined) {
    return "";
  }
  return PRIORITIES.get(priority) ?? `Priority ${priority}`;
}

/** TASK, CALLBACK, REVIEW, APPROVAL, EMAIL for task-type items; null for chat and call. */
export function badgeOf(type) {
  return TASK_TYPES.has(type) ? type.toUpperCase() : null;
}

export function isTaskType(type) {
  return TASK_TYPES.has(type);
}

export function itemStatusLabel(status) {
  return ITEM_STATUSES.get(status) ?? status;
}

export function channelLabel(channel) {
  return channel ? (CHANNELS.get(channel) ?? channel) : "";
}

/** A code made readable: missed_offer → "missed offer". */
export function readable(code) {
  return String(code).replace(/_/g, " ").trim();
}

export function agentStatusLabel(agent) {
  if (agent.status === "available") {
    return "Available";
  }
  if (agent.status === "away") {
    return agent.reason ? `Away — ${readable(agent.reason)}` : "Away";
  }
  return "Offline";
}

function firstLine(text) {
  if (!text) {
    return null;
  }
  const line = String(text)
    .split(/\r?\n/)
    .find((l) => l.trim());
  return line ? line.trim() : null;
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The subject line, as the work item service's Inbox view writes it (inbox.py). */
export function subjectOf(summary) {
  let head;
  let tail;
  if (summary.type === "callback") {
    head = summary.customer_name || summary.customer_phone;
    tail = summary.reason;
  } else {
    head = summary.sub_type ? capitalized(readable(summary.sub_type)) : null;
    tail = summary.description;
  }
  const text = [head, firstLine(tail)].filter(Boolean).join(" — ");
  const subject = text || capitalized(String(summary.type || "item"));
  return subject.length <= SUBJECT_MAX
    ? subject
    : `${subject.slice(0, SUBJECT_MAX - 1).trimEnd()}…`;
}

function localDay(ms) {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

function isoDay(ms) {
  const d = new Date(ms);
  const mm = String(d.getMonth() + 1).padStart(2, "0");
  const dd = String(d.getDate()).padStart(2, "0");
  return `${d.getFullYear()}-${mm}-${dd}`;
}

/** Overdue, Today, Tomorrow or the date, in this browser's time zone, as of ``nowMs``. */
export function dueLabel(dueAt, nowMs) {
  if (!dueAt) {
    return null;
  }
  const due = Date.parse(dueAt);
  if (Number.isNaN(due)) {
    return null;
  }
  if (due < nowMs) {
    return "Overdue";
  }
  const today = localDay(nowMs);
  const tomorrow = localDay(new Date(today).setDate(new Date(today).getDate() + 1));
  const day = localDay(due);
  if (day === today) {
    return "Today";
  }
  if (day === tomorrow) {
    return "Tomorrow";
  }
  return isoDay(due);
}

export function localDateTime(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms)
    ? ""
    : new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Whole seconds left until ``deadlineMs`` (never below 0). */
export function secondsLeft(deadlineMs, nowMs) {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000));
}

/** "45 s" under a minute, else "m:ss". */
export function countdownText(seconds) {
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const s = String(seconds % 60).padStart(2, "0");
  return `${Math.floor(seconds / 60)}:${s}`;
}
