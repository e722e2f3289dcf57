// The Agent Desktop page: sign-in, the event stream, and the agent's clicks as commands.

import { installActions } from "./actions.js";
import { claimsOf, expired, forgetToken, loadConfig, savedQueues, savedToken, saveToken } from "./api.js";
import { applyEvent, applySnapshot, dropExpiredOffers, emptyState, serverNow } from "./state.js";
import { openStream, streamPath } from "./stream.js";
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
const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const page = {
  token: null,
  claims: null,
  closeStream: null,
  watching: null, // the agent a supervisor watches, read-only (null: the token's own desk)
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

/** Who the token acts as, and whose desk it opens: its own (an agent), or, read-only,
 * the agent ``watched`` (a supervisor). Throws what is wrong. */
function deskOf(claims, watched) {
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (watched && watched !== claims.sub) {
    if (!roles.includes("supervisor")) {
      throw new Error("Only a supervisor's token may watch another agent.");
    }
    if (!AGENT_ID.test(watched)) {
      throw new Error(`"${watched}" is not an agent id.`);
    }
    return watched;
  }
  if (!roles.includes("agent")) {
    const hint = roles.includes("supervisor") ? "; name the agent to watch" : "";
    throw new Error(`This is not an agent's token (roles: ${roles.join(", ") || "none"})${hint}.`);
  }
  return null;
}

function signIn(token, watched) {
  const claims = claimsOf(token); // throws what is wrong with it
  if (expired(claims, Date.now())) {
    throw new Error("This token has expired; mint a new one.");
  }
  page.watching = deskOf(claims, watched);
  saveToken(token, page.watching);
  page.token = token;
  page.claims = claims;
  page.state = emptyState();
  page.state.agent.agent_id = page.watching || claims.sub;
  renderSession(claims, page.watching);
  render();
  page.closeStream = openStream(token, page.watching, {
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
  Object.assign(page, {
    token: null,
    claims: null,
    closeStream: null,
    pendingStatus: null,
    watching: null,
  });
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
    const answer = await fetch(streamPath(page.watching), {
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
  const watched = $("watch").value.trim();
  $("token-error").textContent = "";
  if (!token) {
    $("token-error").textContent = "Paste a token first.";
    $("token").focus();
    return;
  }
  try {
    signIn(token, watched);
  } catch (error) {
    $("token-error").textContent = error.message;
    $("token").focus();
  }
});

$("sign-out").addEventListener("click", () => signOut());

installActions(page, { render, signOut });

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
  const { token, watched } = savedToken();
  if (token) {
    try {
      signIn(token, watched);
      return;
    } catch (error) {
      signOut(error.message);
      return;
    }
  }
  renderConnection("signed-out");
}

start();
