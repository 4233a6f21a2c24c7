-- haconfd-hold.lua: holds new connections to a write listen while it cannot take them.
--
-- Loaded by the shipped haproxy.cfg (`lua-load`), used in each write listen as
--
--     tcp-request inspect-delay <hold_timeout + 1s>
--     tcp-request content lua.haconfd_hold <hold_timeout in ms>
--
-- A new connection waits here, re-checked every 10 ms (POLL_MS), instead of being closed at once, while
--   * no server of the listen is usable (nbsrv = 0: every server DOWN, in DRAIN or in MAINT), or
--   * haconfd asked for a hold on the listen (`haconfd hold <listen> <ms>`: a planned switchover is
--     about to stop the leader), until that request's own deadline or `haconfd release <listen>`;
-- and is routed as soon as neither is true. After <hold_timeout> it is let go to HAProxy's normal
-- behaviour (closed when there is still no server). Otherwise it costs one sample fetch.
--
-- Everything here is bounded by itself: a connection by hold_timeout, a request by its deadline.
-- Nothing needs haconfd to end, so a hold cannot outlive a stopped or crashed haconfd, and a
-- reload starts with no request. Waiting does not count against tune.lua.session-timeout: no Lua runs
-- between two checks.
-- A client that disconnects while held is noticed within one poll and its stream ended at once
-- (counted as abandoned); it is never routed.
-- An old worker of a reload (`stopping`) holds nothing: nobody steers it any more (haconfd talks to
-- the new worker), and its stopped listens read nbsrv 0 whatever their servers' states — a
-- connection it accepted just before the new worker took over would wait for hold_timeout although
-- the leader is UP there. Its connections, held or new, go on at once to what that worker has.
--
-- Runtime socket commands (admin level):
--   haconfd hold <listen> <ms>   hold new connections to <listen> for at most <ms> (1..3600000)
--   haconfd release <listen>     end that request now
--   haconfd holds                one line per listen:
--     <listen> held <n> released <n> timed_out <n> abandoned <n> wait_ms <n> requested_ms <n>
--   (held: connections that had to wait; released: routed after waiting; timed_out: let go after
--    hold_timeout; abandoned: the client left while held; wait_ms: total time those connections
--    waited; requested_ms: what is left of haconfd's request, 0 when none.)

local POLL_MS = 10
local MAX_REQUEST_MS = 3600000
local counters = {}
local requests = {}

local function now_ms()
  local t = core.now()
  return t.sec * 1000 + t.usec // 1000
end

local function counter(listen)
  local c = counters[listen]
  if c == nil then
    c = { held = 0, released = 0, timed_out = 0, abandoned = 0, wait_ms = 0 }
    counters[listen] = c
  end
  return c
end

local function requested_ms(listen)
  local deadline = requests[listen]
  if deadline == nil then return 0 end
  local left = deadline - now_ms()
  if left <= 0 then
    requests[listen] = nil
    return 0
  end
  return left
end

-- Never in a stopping worker (see above). The `stopping` fetch is a boolean that reaches Lua as an
-- integer, and 0 is true in Lua.
local function must_wait(txn, listen)
  if txn.f:stopping() == 1 then return false end
  return txn.f:nbsrv() == 0 or requested_ms(listen) > 0
end

-- One call of the action per poll: it either lets the connection go on (act.CONTINUE) or asks to be
-- called again in POLL_MS (act.wake_time + act.YIELD). It never sleeps inside Lua (core.msleep):
-- HAProxy 2.6 computes msleep's wake-up from the loop's clock, then refreshes the clock when Lua
-- yields; on a busy machine that wake-up is already in the past by then, tcp-request content drops
-- an expired wake-up, and the connection slept until inspect-delay ran out (seen: 2 of ~80 held
-- connections released only at hold_timeout + 1 s). Returning act.YIELD sets the wake-up with no
-- clock refresh in between, so it cannot be in the past. The hold's own state lives in the stream
-- (txn:set_priv), so each call knows when the wait began.
core.register_action("haconfd_hold", { "tcp-req" }, function(txn, timeout_ms)
  local listen = txn.f:fe_name()
  local hold = txn:get_priv()
  if hold == nil then
    if not must_wait(txn, listen) then return act.CONTINUE end
    hold = { started = now_ms(), limit = tonumber(timeout_ms) or 30000 }
    txn:set_priv(hold)
    local c = counter(listen)
    c.held = c.held + 1
    act.wake_time(POLL_MS)
    return act.YIELD
  end
  local c = counter(listen)
  local waited = now_ms() - hold.started
  if not must_wait(txn, listen) then
    c.released = c.released + 1
    c.wait_ms = c.wait_ms + waited
    return act.CONTINUE
  end
  -- The client closed its side (a full buffer also stops receiving: that one is still there).
  if not txn.req:may_recv() and not txn.req:is_full() then
    c.abandoned = c.abandoned + 1
    c.wait_ms = c.wait_ms + waited
    return txn:done() -- ends the stream here; does not return
  end
  if waited >= hold.limit then
    c.timed_out = c.timed_out + 1
    c.wait_ms = c.wait_ms + waited
    return act.CONTINUE
  end
  act.wake_time(POLL_MS)
  return act.YIELD
end, 1)

core.register_cli({ "haconfd", "hold" }, "haconfd hold <listen> <ms>              : hold new connections to a listen (haconfd)", function(applet, _, _, listen, ms)
  local n = tonumber(ms)
  if listen == nil or core.frontends[listen] == nil then
    applet:send("error: no such listen: " .. tostring(listen) .. "\n")
    return
  end
  if n == nil or n ~= math.floor(n) or n < 1 or n > MAX_REQUEST_MS then
    applet:send("error: <ms> must be a whole number from 1 to " .. MAX_REQUEST_MS .. "\n")
    return
  end
  requests[listen] = now_ms() + n
  counter(listen)
end)

core.register_cli({ "haconfd", "release" }, "haconfd release <listen>                : end haconfd's hold request on a listen", function(applet, _, _, listen)
  if listen == nil or core.frontends[listen] == nil then
    applet:send("error: no such listen: " .. tostring(listen) .. "\n")
    return
  end
  requests[listen] = nil
end)

core.register_cli({ "haconfd", "holds" }, "haconfd holds                           : connections held by haconfd's write-listen hold", function(applet)
  local names = {}
  for name in pairs(counters) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local c = counters[name]
    applet:send(string.format("%s held %d released %d timed_out %d abandoned %d wait_ms %d requested_ms %d\n",
      name, c.held, c.released, c.timed_out, c.abandoned, c.wait_ms, requested_ms(name)))
  end
end)
