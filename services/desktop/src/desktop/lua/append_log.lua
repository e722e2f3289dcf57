-- Appends one event to an agent's desktop log, once (desktop/log.py).
--
-- Named arguments (A):
--   agent_id   whose log
--   event_key  '<source>|<id>' of the event, remembered as seen for seen_ttl seconds
--   seen_ttl
--   type       its CloudEvents type (the SSE event name)
--   event      the CloudEvent JSON (the SSE data)
--
-- Answers the new entry's id (the SSE id), or 'duplicate'. Trimming happens outside
-- (an XADD that trims cannot be undone, see switchboard_runtime/lua/atomic.lua).

local seen = key.seen_event('desktop', A.event_key)
if call('EXISTS', seen) == 1 then return 'duplicate' end
write('SET', seen, '1', 'EX', A.seen_ttl)
return write('XADD', key.desktop_log(A.agent_id), '*', 't', A.type, 'e', A.event)
