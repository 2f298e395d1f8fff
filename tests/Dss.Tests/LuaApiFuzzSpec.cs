using Akka.Event;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using KeraLua;

namespace DarkSideSync.Tests;

/// <summary>
/// The darksidesync functions given every kind of Lua value (nil, booleans, NaN, infinities,
/// huge and negative numbers, numeric and other strings, tables, functions, threads, userdata)
/// in every arity: each works as documented or raises a Lua error with a clear message; never
/// a crash, a hang, or a .NET exception (DSS logs those as errors).
/// </summary>
public sealed class LuaApiFuzzSpec : TestKit
{
    private readonly LuaThread _lua;
    private readonly LuaFunction _feed = Feed; // a field, so the delegate Lua calls is never collected

    /// <summary>The values, as (name, value) pairs so nil fits in; and the oracles of the documented behaviour.</summary>
    private const string Values = """
        V = {}
        local function add(name, v) V[#V + 1] = { name = name, v = v } end
        add('nil', nil) add('true', true) add('false', false)
        add('0', 0) add('1', 1) add('-1', -1) add('80', 80) add('80.0', 80.0) add('80.5', 80.5) add('-0.0', -0.0)
        add('65535', 65535) add('65536', 65536) add('1e-9', 1e-9) add('2147483', 2147483) add('2147484', 2147484)
        add('nan', 0/0) add('inf', 1/0) add('-inf', -1/0) add('maxinteger', math.maxinteger) add('mininteger', math.mininteger)
        add('2^53', 2^53) add('2^63', 2^63) add('-2^63', -2^63) add('1e308', 1e308) add('-1e308', -1e308)
        add("''", '') add("'80'", '80') add("' 80 '", ' 80 ') add("'0x50'", '0x50') add("'80.5'", '80.5') add("'1e2'", '1e2')
        add("'eighty'", 'eighty') add("'\\0'", '\0') add('long string', string.rep('9', 10000))
        add('{}', {}) add('{80}', { 80 }) add('callable table', setmetatable({}, { __call = function() end }))
        add('raising metatable', setmetatable({}, { __index = function() error('boom') end, __tostring = function() error('boom') end }))
        add('print', print) add('function', function() end) add('coroutine', coroutine.create(function() end))
        add('io.stdout', io.stdout)

        local function number_of(v)
          if type(v) == 'number' then return v elseif type(v) == 'string' then return tonumber(v) end
        end
        function port_of(v)
          local n = number_of(v)
          local i = n and math.tointeger(n)
          if i and i >= 0 and i <= 65535 then return i end
        end
        function seconds_ok(v)
          if v == nil then return true end
          local n = number_of(v)
          return n ~= nil and n >= 0 and n <= 2147483
        end
        failures = {}
        function fail(...) failures[#failures + 1] = string.format(...) end
        -- A clear message: Lua's wording, in the caller's name, naming the function; no .NET in it.
        function clear(err, name)
          return type(err) == 'string' and err:find("bad argument #1 to '" .. name .. "'", 1, true) ~= nil
            and not err:find('Exception', 1, true) and not err:find('System.', 1, true)
        end
        """;

    public LuaApiFuzzSpec()
    {
        _lua = new LuaThread(Sys);
        _lua.Call(h => h.Lua.Register("feed", _feed));
        _lua.Run(Values);
        Sys.EventStream.Subscribe(TestActor, typeof(Error));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lua.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public async Task Setport_takes_exactly_the_integers_0_to_65535_and_raises_a_clear_error_for_anything_else()
    {
        RunChecks("""
            for _, c in ipairs(V) do
              local ok, r = pcall(darksidesync.setport, c.v)
              local port = port_of(c.v)
              if port then
                if not ok or r ~= 1 or darksidesync.getport() ~= port then fail('setport(%s) -> %s, %s, port %s', c.name, tostring(ok), tostring(r), tostring(darksidesync.getport())) end
              elseif ok or not clear(r, 'setport') then
                fail('setport(%s) -> %s, %s', c.name, tostring(ok), tostring(r))
              end
            end
            """);
        await ExpectNoErrorLoggedAsync();
    }

    [Fact]
    public async Task Start_while_running_takes_nil_or_a_port_and_raises_a_clear_error_for_anything_else()
    {
        RunChecks("""
            for _, c in ipairs(V) do
              darksidesync.setport(0)
              local ok, r = pcall(darksidesync.start, c.v)
              local port = c.v == nil and 0 or port_of(c.v)
              if port then
                if not ok or darksidesync.getport() ~= port then fail('start(%s) -> %s, %s', c.name, tostring(ok), tostring(r)) end
              elseif ok or not clear(r, 'start') then
                fail('start(%s) -> %s, %s', c.name, tostring(ok), tostring(r))
              end
            end
            """);
        await ExpectNoErrorLoggedAsync();
    }

    [Fact]
    public async Task Wait_takes_nil_or_0_to_2147483_seconds_and_raises_a_clear_error_for_anything_else()
    {
        // A delivery is queued before each call, so a valid wait returns at once.
        RunChecks("""
            for _, c in ipairs(V) do
              feed()
              local ok, r = pcall(darksidesync.wait, c.v)
              if seconds_ok(c.v) then
                if not ok or math.type(r) ~= 'integer' or r < 1 then fail('wait(%s) -> %s, %s', c.name, tostring(ok), tostring(r)) end
              elseif ok or not clear(r, 'wait') then
                fail('wait(%s) -> %s, %s', c.name, tostring(ok), tostring(r))
              end
              darksidesync.drain()
            end
            """);
        await ExpectNoErrorLoggedAsync();
    }

    [Fact]
    public async Task Drain_takes_nil_or_a_function_and_raises_a_clear_error_for_anything_else()
    {
        RunChecks("""
            for _, c in ipairs(V) do
              local ok, r = pcall(darksidesync.drain, c.v)
              if c.v == nil or type(c.v) == 'function' then
                if not ok or r ~= 0 then fail('drain(%s) -> %s, %s', c.name, tostring(ok), tostring(r)) end
              elseif ok or not clear(r, 'drain') then
                fail('drain(%s) -> %s, %s', c.name, tostring(ok), tostring(r))
              end
            end
            """);
        await ExpectNoErrorLoggedAsync();
    }

    [Fact]
    public async Task Poll_queuesize_and_getport_ignore_any_arguments()
    {
        RunChecks("""
            for _, c in ipairs(V) do
              for _, d in ipairs({ V[1], V[8], V[16], V[35] }) do
                local ok, r = pcall(darksidesync.poll, c.v, d.v)
                if not ok or r ~= -1 then fail('poll(%s, %s) -> %s, %s', c.name, d.name, tostring(ok), tostring(r)) end
                ok, r = pcall(darksidesync.queuesize, c.v, d.v)
                if not ok or r ~= 0 then fail('queuesize(%s, %s) -> %s, %s', c.name, d.name, tostring(ok), tostring(r)) end
                ok, r = pcall(darksidesync.getport, c.v, d.v)
                if not ok or math.type(r) ~= 'integer' then fail('getport(%s, %s) -> %s, %s', c.name, d.name, tostring(ok), tostring(r)) end
              end
            end
            """);
        await ExpectNoErrorLoggedAsync();
    }

    [Fact]
    public async Task Stop_ignores_any_arguments_and_afterwards_every_function_but_start_and_stop_raises_not_started()
    {
        RunChecks("""
            for _, c in ipairs(V) do
              local ok, r = pcall(darksidesync.stop, c.v, c.v)
              if not ok then fail('stop(%s) -> %s', c.name, tostring(r)) end
              for _, name in ipairs({ 'poll', 'queuesize', 'setport', 'getport', 'wait', 'drain' }) do
                local ok2, err = pcall(darksidesync[name], c.v)
                local stopped = type(err) == 'string' and err:find('DSS was not started yet, or already stopped', 1, true)
                if ok2 or not (stopped or (name == 'drain' and clear(err, 'drain'))) then -- drain checks its handler first
                  fail('%s(%s) after stop -> %s, %s', name, c.name, tostring(ok2), tostring(err))
                end
              end
              ok, r = pcall(darksidesync.start)
              if not ok then fail('start() after stop(%s) -> %s', c.name, tostring(r)) end
            end
            """);
        await ExpectNoErrorLoggedAsync();
    }

    [Fact]
    public async Task A_seeded_random_sequence_of_calls_in_every_arity_only_ever_works_or_raises_a_clear_error()
    {
        int seed = Environment.TickCount;
        RunChecks($$"""
            math.randomseed({{seed}})
            local names = { 'poll', 'queuesize', 'setport', 'getport', 'start', 'stop', 'wait', 'drain' }
            for i = 1, 3000 do
              local name = names[math.random(#names)]
              local args, n = {}, math.random(0, 3)
              for a = 1, n do args[a] = V[math.random(#V)].v end
              if name == 'wait' then feed() end -- so a valid wait returns at once
              local ok, err = pcall(darksidesync[name], table.unpack(args, 1, n))
              if not ok and (type(err) ~= 'string' or #err == 0 or err:find('Exception', 1, true)) then
                fail('call %d: %s with %d args raised %s', i, name, n, tostring(err))
              end
              if i % 500 == 0 then pcall(darksidesync.start) pcall(darksidesync.drain) end
            end
            """, $"seed {seed}");
        await ExpectNoErrorLoggedAsync();
    }

    private void RunChecks(string chunk, string context = "")
    {
        _lua.Run("failures = {}\n" + chunk);
        long count = _lua.Integer("#failures");
        Assert.True(count == 0, $"{count} calls broke the documented behaviour {context}:\n  " + _lua.String("table.concat(failures, '\\n  ', 1, math.min(#failures, 15))"));
    }

    private async Task ExpectNoErrorLoggedAsync() => await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

    // feed(): Lua thread, from Lua. Queues one delivery whose decode pushes nothing, so wait() has
    // something to find. Registers the "fuzz" utility when needed; does nothing while DSS is stopped.
    private static int Feed(nint L)
    {
        try
        {
            var utility = DssUtility.Find(L, "fuzz");
            if (utility is null && DssUtility.Register(L, "fuzz", u => u.Unregister(), out utility) != DssStatus.Success)
            {
                return 0;
            }
            utility!.Deliver(0, static (_, _) => 0);
        }
        catch (Exception)
        {
            // Nothing may unwind into Lua; the checks see that nothing was queued.
        }
        return 0;
    }
}
