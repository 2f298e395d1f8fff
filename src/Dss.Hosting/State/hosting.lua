-- hosting.lua: the Lua side of a hosted state. The host runs it once, before the start-up
-- scripts, with its core functions (core) and the darksidesync module; it returns the
-- functions the host's deliveries call. Every hosted call runs in a coroutine of its own,
-- so it may yield to await an async .NET function while the Lua thread serves other calls.
--
-- core (C functions of the host; none raises a Lua error):
--   core.arm(co, id, fresh) the call's coroutine is known as call `id`; a fresh one gets the budget hook
--   core.enter(id) / core.leave(id)   around each resume: the call's time budget runs
--   core.finished(id)       the call is over (answered, failed or abandoned)
--   core.running()          false once the host stops the state
--   core.log(message)       a callback error nobody else sees
--   core.sleep()            lets go of the state until something is queued or the host wakes it
--   core.answer(id, ...)    the answer of a call that runs on its caller's thread (it has no DSS reply)
--   core.markers()          the budget hook's error values: time, memory, cancelled
local core, darksidesync = ...

local resume, create, status, close, isyieldable, yield =
  coroutine.resume, coroutine.create, coroutine.status, coroutine.close, coroutine.isyieldable, coroutine.yield
local pack, unpack = table.pack, table.unpack
local type, tostring, error, rawget, pcall = type, tostring, error, rawget, pcall
local traceback = debug.traceback -- kept before a sandbox removes debug
local loaded = package.loaded
local enter, leave, finished, answer = core.enter, core.leave, core.finished, core.answer

local TIME, MEMORY, CANCELLED = core.markers()
-- An async .NET function yields this, and its token, to the call's step below.
local ASYNC = setmetatable({}, { __name = "darksidesync.hosting.async" })

-- The calls Lua has, by id: their coroutine, their DSS reply (none for a call run on its
-- caller's thread) and, while they await .NET, their async token. Three flat tables, so a call
-- allocates no table of its own.
local running_co, reply_of, token_of = {}, {}, {}
local awaiting = {} -- async token -> call id

-- "pricing.price": a field of the loaded module "pricing", else of the global "pricing".
-- A path is split once (the first PATHS_MAX distinct paths are kept split); the lookup itself
-- runs at every call, so a script that replaces a function is seen at once.
local find, sub = string.find, string.sub
local parts_of, paths_kept, PATHS_MAX = {}, 0, 1024
local function split(path)
  local parts, start = {}, 1
  while true do
    local dot = find(path, ".", start, true)
    parts[#parts + 1] = sub(path, start, dot and dot - 1 or nil)
    if not dot then return parts end
    start = dot + 1
  end
end
local function resolve(path)
  local parts = parts_of[path]
  if not parts then
    parts = split(path)
    if paths_kept < PATHS_MAX then parts_of[path], paths_kept = parts, paths_kept + 1 end
  end
  local name = parts[1]
  local value = loaded[name]
  if value == nil or value == true then value = rawget(_G, name) end
  for i = 2, #parts do
    if type(value) ~= "table" then return nil end
    value = value[parts[i]]
  end
  return value
end

-- Calls run in reusable coroutines: each turn runs one function and yields DONE with its
-- results; the next call resumes it with its own function and arguments (a proper tail
-- call, so the stack does not grow). A call that raised or was abandoned leaves its
-- coroutine dead; only finished ones go back to the idle list.
local DONE = setmetatable({}, { __name = "darksidesync.hosting.done" })
local function body(f, ...)
  return body(yield(DONE, f(...)))
end
local idle, IDLE_MAX = {}, 64

-- A queued call answers through its DSS reply (a waitingthread_callback); a call the host
-- runs on its caller's thread has none (reply nil) and answers through core.answer.
local function respond(reply, id, ...)
  if reply then return reply(...) end
  return answer(id, ...)
end

local function finish(id, ...)
  local reply = reply_of[id]
  running_co[id], reply_of[id], token_of[id] = nil, nil, nil
  finished(id)
  return respond(reply, id, ...)
end

-- An error value as text; a __tostring that raises must not take the answer down with it.
local function text(value)
  local ok, result = pcall(tostring, value)
  return ok and type(result) == "string" and result or "(an error value whose __tostring failed)"
end

-- The kinds the host turns into exceptions: error, time, memory, cancelled.
local function kind(err)
  if err == TIME then return "time", "time budget exceeded" end
  if err == MEMORY then return "memory", "memory budget exceeded" end
  if err == CANCELLED then return "cancelled", "the call was cancelled" end
  return "error", text(err)
end

-- What a resume of call id's coroutine returned: finished (DONE), awaiting .NET (ASYNC), or raised.
local function after(id, co, ok, first, ...)
  leave(id)
  if ok and first == DONE then
    if #idle < IDLE_MAX then idle[#idle + 1] = co end
    return finish(id, true, ...)
  end
  if ok and first == ASYNC then
    local token = ...
    awaiting[token] = id
    token_of[id] = token
    return
  end
  if ok then
    close(co)
    return finish(id, false, "error", "a hosted call yielded outside an async .NET function", "")
  end
  local what, message = kind(first)
  local where = ""
  if what == "error" then
    local traced, trace = pcall(traceback, co, message)
    where = traced and trace or message
  end
  close(co)
  return finish(id, false, what, message, where)
end

local function step(id, ...)
  local co = running_co[id]
  if not co then return end -- abandoned meanwhile
  enter(id)
  return after(id, co, resume(co, ...))
end

local M = {}

-- The callback of a call delivery (reply: its waitingthread_callback), or the host's own call
-- of a call it runs on the caller's thread (reply: nil).
function M.call(reply, id, path, ...)
  -- Protected: a module's __index may raise; the answer must reach the caller all the same.
  local found, f = pcall(resolve, path)
  if not found or type(f) ~= "function" then
    finished(id)
    local why = found and ("'%s' is not a function (it is %s)"):format(path, type(f))
      or ("looking up '%s' failed: %s"):format(path, text(f))
    return respond(reply, id, false, "error", why, "")
  end
  local co = idle[#idle]
  if co then
    idle[#idle] = nil
    core.arm(co, id, false)
  else
    co = create(body)
    core.arm(co, id, true)
  end
  running_co[id], reply_of[id] = co, reply
  return step(id, f, ...)
end

-- The callback of an async .NET result: resumes the call that awaits `token`.
function M.resume(token, ...)
  local id = awaiting[token]
  awaiting[token] = nil
  if id then return step(id, ...) end
end

-- A call that timed out or was cancelled while it awaited .NET: its coroutine is closed
-- (its to-be-closed variables run) and it is forgotten; its answer is never sent.
function M.abandon(id)
  local co = running_co[id]
  if not co then return end
  local token = token_of[id]
  running_co[id], reply_of[id], token_of[id] = nil, nil, nil
  if token then awaiting[token] = nil end
  close(co)
  finished(id)
end

-- The Lua face of an async .NET function: start(...) begins the .NET task and returns its
-- token (or nil and a message); the call's coroutine then yields until the result comes.
function M.async(start, name)
  return function(...)
    if not isyieldable() then
      error(("'%s' is an async .NET function: call it from a hosted call, not from the main thread"):format(name), 2)
    end
    local token, message = start(...)
    if token == nil then error(message, 2) end
    local r = pack(yield(ASYNC, token))
    if r[1] then return unpack(r, 2, r.n) end
    error(r[2], 2)
  end
end

-- The Lua face of a synchronous .NET function: f(...) returns true and its results, or
-- false and a message, which is raised here, in the caller's name.
function M.sync(f)
  local function check(ok, ...)
    if not ok then error((...), 3) end
    return ...
  end
  return function(...) return check(f(...)) end
end

-- Sets a .NET function where its name says: "rates.lookup" -> the global table rates, field lookup.
function M.export(name, f)
  local t, last = _G, nil
  for part in name:gmatch("[^.]+") do
    if last then
      local next_t = t[last]
      if next_t == nil then next_t = {}; t[last] = next_t end
      t = next_t
    end
    last = part
  end
  t[last] = f
end

-- Runs a start-up script on the main thread: true, or false, Lua's message and a traceback.
local loadfile = loadfile -- kept before a sandbox removes it
function M.startup(path)
  local chunk, err = loadfile(path)
  if not chunk then return false, err, "" end
  local message, trace
  local ok = xpcall(chunk, function(m)
    local what
    what, message = kind(m) -- the start-up time limit, the memory budget, a stop: the hook's markers
    trace = what == "error" and traceback(message, 2) or ""
    return m
  end)
  if ok then return true end
  return false, message, trace
end

-- The state's loop: sleep until something is queued (or the host wakes it), run it, again.
-- While it sleeps the host may run calls on their callers' threads, one at a time.
function M.loop()
  local dispatch, running, log, sleep = darksidesync.dispatch, core.running, core.log, core.sleep
  local function handler(message) log(traceback(tostring(message), 2)); return message end
  while running() do
    sleep()
    dispatch(nil, handler)
  end
end

return M
