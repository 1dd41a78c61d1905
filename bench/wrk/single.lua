-- wrk script for `bun run bench`: POSTs one single reading per request, every one new.
--
-- Why a script at all: wrk repeats one request by default, and every repeat of a reading
-- is a replay that the service answers 200 "duplicate" without writing, so the benchmark
-- would measure the cheap path. Here each request carries a unique (device, timestamp):
--   device id  = UUID built from <run tag>-<thread>-<kind>-<device index>
--   timestamp  = a fixed past base (passed in) plus one minute per round over the devices,
--                so a device's readings move forward in time like a live device's and the
--                hot-store upsert really updates (going backwards would make it a no-op).
-- Requests alternate meter / vehicle readings.
--
-- Why the drain at the end: when wrk's duration runs out it drops the requests still in
-- flight; the service may commit them anyway, and then "rows stored == 2xx answered"
-- could not hold. So after the deadline a connection that wants to send is parked instead
-- (delay() gives it a wait longer than the run), and once all of a thread's connections
-- are parked nothing of it is in flight and it stops itself; wrk runs with a few seconds
-- of grace beyond the deadline for that, cut short (SIGINT) once every thread has said so. (Counting request() calls against answers would
-- not do: wrk calls request() again when a socket was not ready to write, so calls can
-- outnumber requests sent.)
--
-- Arguments (after `--`): <run tag> <duration ms> <base epoch seconds> <connections per thread>
-- done() prints one line "BENCH key=value ..." that bench/wrk-runner.ts parses.

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

-- Microseconds on the monotonic clock, shared by all threads, so windows compare.
local function read_clock_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local DEVICES_PER_KIND = 1000 -- per thread; one round over them advances time one minute
local PARK_MS = 60000 -- longer than the grace period: a parked connection never sends again

-- Setup phase (its own Lua state): number the threads and keep them for done().
local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Running phase (one Lua state per thread).
local tag, deadline_us, base_s, connections
local parked = 0
-- Globals, so that done() can read them through thread:get().
built, answered, first_us, last_us = 0, 0, 0, 0
statuses = {} -- answers by status code: 201 stored, 200 duplicate, anything else a failure

function init(args)
  tag = tonumber(args[1])
  local duration_ms = tonumber(args[2])
  base_s = tonumber(args[3])
  connections = tonumber(args[4])
  deadline_us = read_clock_us() + duration_ms * 1000
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function format_device_id(kind, device)
  return string.format("%08x-%04x-4%03x-8000-%012x", tag, thread_index, kind, device)
end

local function build_request(n)
  local kind = n % 2 -- 0: meter, 1: vehicle
  local k = math.floor(n / 2)
  local device = k % DEVICES_PER_KIND
  local minute = math.floor(k / DEVICES_PER_KIND)
  local timestamp = os.date("!%Y-%m-%dT%H:%M:%SZ", base_s + minute * 60)
  local id = format_device_id(kind + 1, device)
  if kind == 0 then
    local body = string.format(
      '{"meterId":"%s","kwhConsumedAc":%.3f,"voltage":%.2f,"timestamp":"%s"}',
      id, (n % 5000) / 1000, 220 + (n % 21), timestamp)
    return wrk.format(nil, "/v1/telemetry/meter", nil, body)
  end
  local body = string.format(
    '{"vehicleId":"%s","soc":%.2f,"kwhDeliveredDc":%.3f,"batteryTemp":%.1f,"timestamp":"%s"}',
    id, (n % 10000) / 100, (n % 4000) / 1000, 15 + (n % 200) / 10, timestamp)
  return wrk.format(nil, "/v1/telemetry/vehicle", nil, body)
end

-- wrk asks for a delay each time a connection is about to send, so it has nothing in
-- flight at that moment: past the deadline, park it; all parked means the thread is done.
function delay()
  if read_clock_us() < deadline_us then return 0 end
  parked = parked + 1
  if parked >= connections then
    -- Tell bench/wrk-runner.ts, which ends wrk's idle grace period once every thread has.
    io.write("BENCH-DRAINED\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
  return PARK_MS
end

function request()
  if built == 0 then first_us = read_clock_us() end
  local text = build_request(built)
  built = built + 1
  return text
end

function response(status, headers, body)
  answered = answered + 1
  last_us = read_clock_us()
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

-- Done phase (the setup state again): add the threads' counters up.
function done(summary, latency, requests)
  local built_total, answered_total, by_status = 0, 0, {}
  local first, last = nil, 0
  for _, thread in ipairs(threads) do
    built_total = built_total + thread:get("built")
    answered_total = answered_total + thread:get("answered")
    for key, count in pairs(thread:get("statuses")) do by_status[key] = (by_status[key] or 0) + count end
    local thread_first, thread_last = thread:get("first_us"), thread:get("last_us")
    if thread_first > 0 and (first == nil or thread_first < first) then first = thread_first end
    if thread_last > last then last = thread_last end
  end
  local pairs_text = {}
  for key, count in pairs(by_status) do table.insert(pairs_text, string.format("%s:%d", key, count)) end
  io.write(string.format("BENCH built=%d answered=%d window_us=%d statuses=%s\n", built_total, answered_total,
    first and (last - first) or 0, table.concat(pairs_text, ",")))
end
