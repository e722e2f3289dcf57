-- Applies one lifecycle event to a work item record (workitem/projection.py says what
-- each event writes): checks the event was not seen, that the record exists and is open
-- and, for a closing event, that its history is still as long as when the caller read it
-- to build workitem.archived (which carries the record as this step leaves it); then
-- sets the record's fields, moves the item between agent Inboxes, appends the history
-- entries, queues workitem.archived for a closing event (completed or cancelled) and
-- lets the closed record and its history expire after retention_s -- all in one atomic
-- step. Open records never get a TTL.
--
-- Named arguments (A):
--   work_item_id
--   event_key       '<source>|<id>' of the event, remembered as seen for seen_ttl seconds
--   seen_ttl
--   fields          object: the record fields to set (fields.status: the new status)
--   clear_agent     true: the item went back to its queue, nobody holds it
--   agent_id        the agent the event names (absent: none)
--   inbox           'enter', 'leave' or 'stay': what happens to the agent's Inbox
--   entered_ms      the Inbox score when the item enters one (epoch ms)
--   history         array of JSON history entries to append, in order
--   history_len     the history's length when the caller read the record (-1: it found
--                   no record); absent: not checked (events that do not close the item)
--   topic           the topic of archived_event
--   archived_event  workitem.archived (JSON) for the outbox (absent: none)
--   archived_type   its CloudEvents type, for the record's sb-type header
--   retention_s     seconds a closed record and its history are kept
--
-- Answers 'applied'; 'duplicate' (the event was seen before); 'unknown' (no such
-- record); 'closed' (the record is closed already: nothing changes); 'stale' (the open
-- record's history is not history_len long: it changed since the caller read it, and
-- nothing was written -- not even the event as seen -- so read again and retry).

local CLOSED = {archived = true, cancelled = true, completed = true}
local id, agent, inbox = A.work_item_id, A.agent_id, A.inbox
local seen = key.seen_event('workitem', A.event_key)
local item, history = key.work_item(id), key.work_item_history(id)
if call('EXISTS', seen) == 1 then return 'duplicate' end
local status = call('HGET', item, 'status')
if not status then return 'unknown' end
if A.history_len and not CLOSED[status] and call('LLEN', history) ~= A.history_len then
  return 'stale'
end
write('SET', seen, '1', 'EX', A.seen_ttl)
if CLOSED[status] then return 'closed' end
local prior = call('HGET', item, 'agent_id')
if prior and (inbox == 'leave' or prior ~= agent) then
  write('ZREM', key.agent_inbox(prior), id)
end
if agent and inbox == 'leave' then write('ZREM', key.agent_inbox(agent), id) end
if agent and inbox ~= 'leave' then
  write('ZADD', key.agent_inbox(agent), 'NX', A.entered_ms, id)
end
if A.clear_agent then write('HDEL', item, 'agent_id') end
for name, value in pairs(A.fields) do write('HSET', item, name, value) end
for _, entry in ipairs(A.history) do write('RPUSH', history, entry) end
if A.archived_event then
  outbox_add(key.outbox('workitem'), A.topic, id, A.archived_event, A.archived_type)
end
if CLOSED[A.fields.status] then
  write('EXPIRE', item, A.retention_s)
  write('EXPIRE', history, A.retention_s)
end
return 'applied'
