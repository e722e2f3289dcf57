-- The transactional outbox (see switchboard_runtime/outbox.py): an event joins the
-- service's outbox stream in the same atomic step as the state change it reports.
-- outbox_add(stream, topic, kafka_key, event_json[, ce_type])
local function outbox_add(stream, topic, key, value, ce_type)
  if ce_type then
    write('XADD', stream, '*', 't', topic, 'k', key, 'v', value, 'y', ce_type)
  else
    write('XADD', stream, '*', 't', topic, 'k', key, 'v', value)
  end
end
