-- haconfd-hold.lua: holds new connections to a write listen while it has no usable server.
--
-- Loaded by the shipped haproxy.cfg (`lua-load`), used in each write listen as
--
--     tcp-request inspect-delay <hold_timeout + 1s>
--     tcp-request content lua.haconfd_hold <hold_timeout in ms>
--
-- While no server of the listen is usable (nbsrv = 0: every server DOWN, in DRAIN or in MAINT), a
-- new connection waits here, re-checking every 10 ms, instead of being closed at once; as soon as a
-- server is usable it is routed. After <hold_timeout> it is let go to HAProxy's normal behaviour
-- (closed when there is still no server). A listen with a usable server costs one sample fetch.
--
-- The hold lives in HAProxy: it is bounded by itself and needs nothing from haconfd, so it cannot
-- outlive a stopped or crashed haconfd. Sleeping does not count against tune.lua.session-timeout.
-- A client that disconnects while held is noticed within one poll and its stream ended at once
-- (counted as abandoned); it is never routed.
--
-- `haconfd holds` on the runtime socket prints the counters per listen, one line each:
--     <listen> held <n> released <n> timed_out <n> abandoned <n> wait_ms <n>
-- (held: connections that found no usable server; released: routed once a server came up;
--  timed_out: let go after the timeout; abandoned: the client left while held;
--  wait_ms: total time those connections waited).

local POLL_MS = 10
local counters = {}

local function counter(listen)
  local c = counters[listen]
  if c == nil then
    c = { held = 0, released = 0, timed_out = 0, abandoned = 0, wait_ms = 0 }
    counters[listen] = c
  end
  return c
end

core.register_action("haconfd_hold", { "tcp-req" }, function(txn, timeout_ms)
  if txn.f:nbsrv() > 0 then return end
  local limit = tonumber(timeout_ms) or 30000
  local c = counter(txn.f:fe_name())
  c.held = c.held + 1
  local started = core.now()
  local waited = 0
  while waited < limit do
    core.msleep(POLL_MS)
    local now = core.now()
    waited = (now.sec - started.sec) * 1000 + (now.usec - started.usec) // 1000
    if txn.f:nbsrv() > 0 then
      c.released = c.released + 1
      c.wait_ms = c.wait_ms + waited
      return
    end
    -- The client closed its side (a full buffer also stops receiving: that one is still there).
    if not txn.req:may_recv() and not txn.req:is_full() then
      c.abandoned = c.abandoned + 1
      c.wait_ms = c.wait_ms + waited
      txn:done()
      return
    end
  end
  c.timed_out = c.timed_out + 1
  c.wait_ms = c.wait_ms + waited
end, 1)

core.register_cli({ "haconfd", "holds" }, "haconfd holds                           : connections held by haconfd's write-listen hold", function(applet)
  local names = {}
  for name in pairs(counters) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local c = counters[name]
    applet:send(string.format("%s held %d released %d timed_out %d abandoned %d wait_ms %d\n", name, c.held, c.released, c.timed_out, c.abandoned, c.wait_ms))
  end
end)
