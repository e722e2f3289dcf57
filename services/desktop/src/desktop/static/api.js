// The gateway's HTTP side as the page uses it: the token kept for this tab, what the
// token says (read, not verified: the gateway verifies), the page's config and commands.

const TOKEN_KEY = "switchboard.token";
const WATCH_KEY = "switchboard.watching";
const QUEUES_KEY = "switchboard.queues";
export const DEFAULT_AWAY_REASONS = ["break", "lunch", "meeting", "training"];

/** The tab's token and the agent it watches (null: its own desk). */
export function savedToken() {
  return { token: sessionStorage.getItem(TOKEN_KEY), watched: sessionStorage.getItem(WATCH_KEY) };
}

export function saveToken(token, watched) {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (watched) {
    sessionStorage.setItem(WATCH_KEY, watched);
  } else {
    sessionStorage.removeItem(WATCH_KEY);
  }
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(WATCH_KEY);
}

export function savedQueues() {
  return sessionStorage.getItem(QUEUES_KEY);
}

export function saveQueues(text) {
  sessionStorage.setItem(QUEUES_KEY, text);
}

/** The claims of a JWT (its middle part), or throws an Error saying what is wrong. */
export function claimsOf(token) {
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw new Error("A token has three parts separated by dots.");
  }
  let claims;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("This token's payload cannot be read.");
  }
  if (typeof claims !== "object" || claims === null || typeof claims.sub !== "string") {
    throw new Error("This token names nobody (no sub).");
  }
  return claims;
}

/** Whether the token's exp (seconds) has passed, by the clock given (milliseconds). */
export function expired(claims, nowMs) {
  return typeof claims.exp === "number" && claims.exp * 1000 <= nowMs;
}

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function newKey() {
  if (typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function loadConfig() {
  try {
    const answer = await fetch("/v1/desktop/config");
    if (answer.ok) {
      const config = await answer.json();
      if (Array.isArray(config.away_reasons) && config.away_reasons.length) {
        return config;
      }
    }
  } catch {
    // the defaults below
  }
  return { away_reasons: DEFAULT_AWAY_REASONS };
}

export class CommandError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function detailOf(body) {
  if (typeof body?.detail === "string") {
    return body.detail;
  }
  if (Array.isArray(body?.detail)) {
    return body.detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  }
  return "";
}

/** POST one command as the token's agent; the command_id, or throws CommandError. */
export async function sendCommand(token, type, data) {
  let answer;
  try {
    answer = await fetch("/v1/desktop/commands", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${token}`,
        "Idempotency-Key": newKey(),
      },
      body: JSON.stringify({ type, data }),
    });
  } catch {
    throw new CommandError(0, "the gateway cannot be reached");
  }
  const body = await answer.json().catch(() => null);
  if (answer.status !== 202) {
    throw new CommandError(answer.status, detailOf(body) || `HTTP ${answer.status}`);
  }
  return body.command_id;
}
