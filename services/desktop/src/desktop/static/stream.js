// The agent's event stream: one EventSource on /v1/desktop/events.
//
// EventSource sets no headers, so the token goes as ?access_token=. After a network
// error it reconnects by itself and sends Last-Event-ID, and the gateway goes on from
// there. When it gives up (the gateway answered something other than a stream), a new
// EventSource is opened after a pause; that one starts with a fresh snapshot. It listens
// for every type the state knows how to apply.

import { HANDLED_TYPES } from "./state.js";

const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

/** The stream's path: the token's own agent, or the agent a supervisor watches. */
export function streamPath(watched) {
  return watched ? `/v1/desktop/events?agent_id=${encodeURIComponent(watched)}` : "/v1/desktop/events";
}

/**
 * Opens the stream of the token's agent (or of ``watched``, for a supervisor). ``on.snapshot(data)`` and ``on.event(type,
 * cloudEvent)`` get each message; ``on.state(s)`` is told "connecting", "connected" or
 * "reconnecting"; ``on.closed()`` when the gateway refused the stream: it answers (or
 * resolves to) false when the page gave up (a token the gateway will never take), else
 * the stream is opened anew after a pause. Returns a function that closes it for good.
 */
export function openStream(token, watched, on) {
  let source = null;
  let retries = 0;
  let timer = null;
  let stopped = false;

  const parsed = (message) => {
    try {
      return JSON.parse(message.data);
    } catch {
      return null;
    }
  };

  function connect() {
    if (stopped) {
      return;
    }
    on.state(retries ? "reconnecting" : "connecting");
    const path = streamPath(watched);
    const joiner = path.includes("?") ? "&" : "?";
    source = new EventSource(`${path}${joiner}access_token=${encodeURIComponent(token)}`);
    source.addEventListener("open", () => {
      retries = 0;
      on.state("connected");
    });
    source.addEventListener("error", () => {
      if (stopped) {
        return;
      }
      on.state("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // not a dropped connection but a refusal (401, 403, 503): try anew, later
        source = null;
        const delay = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
        retries += 1;
        Promise.resolve(on.closed()).then((retry) => {
          if (retry !== false && !stopped) {
            timer = setTimeout(connect, delay);
          }
        });
      }
    });
    source.addEventListener("snapshot", (message) => {
      const data = parsed(message);
      if (data) {
        on.snapshot(data);
      }
    });
    for (const type of HANDLED_TYPES) {
      source.addEventListener(type, (message) => {
        const event = parsed(message);
        if (event) {
          on.event(type, event);
        }
      });
    }
  }

  // the browser knows it lost the network before the connection notices
  const offline = () => on.state("reconnecting");
  const online = () => {
    if (source && source.readyState === EventSource.OPEN) {
      on.state("connected");
    }
  };
  window.addEventListener("offline", offline);
  window.addEventListener("online", online);

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener("offline", offline);
    window.removeEventListener("online", online);
    if (source) {
      source.close();
    }
  };
}
