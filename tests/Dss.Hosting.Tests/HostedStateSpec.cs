using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>
/// A hosted Lua state: its own thread, start-up scripts, calls from .NET in coroutines, Lua
/// errors reaching the caller at once, timeouts and cancellation, time and memory budgets,
/// async .NET functions awaited by Lua, the sandbox, and the graceful stop.
/// </summary>
public sealed class HostedStateSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ScriptFolder _scripts = new();

    private const string Pricing = """
        local M = {}
        function M.add(a, b) return a + b end
        function M.fail(message) error(message) end
        function M.spin() while true do end end
        function M.hog() local t = {} for i = 1, 1e8 do t[i] = ("x"):rep(100) .. i end end
        function M.pair() return 1, "two" end
        return M
        """;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scripts.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task<HostedLuaState> Start(Action<LuaStateOptions>? configure = null, string startup = "")
    {
        _scripts.Write("pricing.lua", Pricing);
        _scripts.Write("startup.lua", "pricing = require 'pricing'\n" + startup);
        var options = new LuaStateOptions { ScriptFolders = [_scripts.Path], StartupScripts = ["startup.lua"] };
        configure?.Invoke(options);
        return await HostedLuaState.StartAsync(Sys, options, "test");
    }

    [Fact]
    public async Task A_call_runs_the_Lua_function_and_returns_its_result()
    {
        await using var state = await Start();
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3]));
        Assert.Equal(2.5, await state.CallAsync<double>("pricing.add", [2, 0.5]));
    }

    [Fact]
    public async Task An_idle_state_s_thread_sleeps_instead_of_spinning()
    {
        await using var state = await Start();
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3]));
        await Task.Delay(100); // past the short spin after the call
        Assert.Contains(Directory.GetDirectories("/proc/self/task"), task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd() == "Lua test");
        double before = LuaThreadCpuMs("Lua test");
        await Task.Delay(1000);
        double used = LuaThreadCpuMs("Lua test") - before;
        Assert.True(used < 50, $"the idle Lua thread used {used} ms of CPU in a second");
    }

    // CPU (utime + stime, ms) of this process's threads with that name, from /proc.
    private static double LuaThreadCpuMs(string name) =>
        Directory.GetDirectories("/proc/self/task")
            .Where(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd() == name)
            .Sum(task =>
            {
                var fields = File.ReadAllText(Path.Combine(task, "stat")).Split(") ")[1].Split(' ');
                return (long.Parse(fields[11]) + long.Parse(fields[12])) * 10.0;
            });

    [Fact]
    public async Task A_Lua_error_fails_the_call_at_once_with_the_message_the_traceback_and_the_path()
    {
        await using var state = await Start();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LuaScriptException>(() => state.CallAsync<object>("pricing.fail", ["no price"], timeout: TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the error took {clock.Elapsed}");
        Assert.Equal("pricing.fail", error.Path);
        Assert.Contains("no price", error.LuaMessage);
        Assert.Contains("pricing.lua", error.LuaTraceback);
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3])); // still usable
    }

    [Fact]
    public async Task Calling_something_that_is_not_a_function_names_it()
    {
        await using var state = await Start();
        var error = await Assert.ThrowsAsync<LuaScriptException>(() => state.CallAsync<object>("pricing.nothing"));
        Assert.Contains("'pricing.nothing' is not a function (it is nil)", error.Message);
    }

    [Fact]
    public async Task A_failing_start_up_script_fails_the_start_with_Lua_s_message_and_traceback()
    {
        var error = await Assert.ThrowsAsync<LuaStartupException>(() => Start(startup: "local x = nil; x.field = 1"));
        Assert.Contains("startup.lua", error.Message);
        Assert.Contains("attempt to index", error.Message);
        Assert.Contains("stack traceback", error.LuaTraceback);
    }

    [Fact]
    public async Task A_runaway_call_fails_with_time_budget_exceeded_and_the_state_serves_the_next_call()
    {
        await using var state = await Start(o => o.CallBudget = TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LuaBudgetExceededException>(() => state.CallAsync<object>("pricing.spin"));
        Assert.Equal(LuaBudget.Time, error.Budget);
        Assert.Contains("time budget exceeded", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the budget took {clock.Elapsed}");
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3]));
    }

    [Fact]
    public async Task A_runaway_call_that_catches_the_budget_error_with_pcall_still_ends()
    {
        await using var state = await Start(o => o.CallBudget = TimeSpan.FromMilliseconds(50),
            startup: "function stubborn() while true do pcall(pricing.spin) end end");
        await Assert.ThrowsAsync<LuaBudgetExceededException>(() => state.CallAsync<object>("stubborn"));
    }

    [Fact]
    public async Task A_call_over_the_memory_budget_fails_and_the_state_stays_usable()
    {
        await using var state = await Start(o => o.MemoryLimitBytes = 64L << 20);
        var error = await Assert.ThrowsAsync<LuaBudgetExceededException>(() => state.CallAsync<object>("pricing.hog"));
        Assert.Equal(LuaBudget.Memory, error.Budget);
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3]));
    }

    [Fact]
    public async Task A_timeout_fails_the_call_at_once_and_ends_the_runaway_script_behind_it()
    {
        await using var state = await Start();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LuaCallTimeoutException>(() => state.CallAsync<object>("pricing.spin", timeout: TimeSpan.FromMilliseconds(100)));
        Assert.Equal("pricing.spin", error.Path);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the timeout took {clock.Elapsed}");
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3], timeout: Patience));
    }

    [Fact]
    public async Task Lua_awaits_an_async_NET_function_in_the_call_s_coroutine_while_other_calls_run()
    {
        await using var state = await Start(o => o.Exports.Add("rates.lookup", async (string currency) =>
        {
            await Task.Delay(20);
            return currency == "EUR" ? 0.5 : 1.0;
        }), startup: "function convert(amount, currency) return amount * rates.lookup(currency) end");

        var calls = Enumerable.Range(0, 1000).Select(i => state.CallAsync<double>("convert", [i, "EUR"], timeout: Patience)).ToArray();
        var results = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i * 0.5), results);
    }

    [Fact]
    public async Task An_async_NET_exception_is_raised_in_Lua_with_its_message()
    {
        await using var state = await Start(o => o.Exports.Add("boom", async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("rates are down");
        }), startup: "function try_it() local ok, e = pcall(boom); return tostring(e) end");
        Assert.Contains("rates are down", await state.CallAsync<string>("try_it"));
    }

    [Fact]
    public async Task An_async_NET_function_called_outside_a_call_raises_a_clear_Lua_error()
    {
        var error = await Assert.ThrowsAsync<LuaStartupException>(() => Start(
            o => o.Exports.Add("later", () => Task.Delay(1)), startup: "later()"));
        Assert.Contains("'later' is an async .NET function", error.Message);
    }

    [Fact]
    public async Task Timing_out_the_call_cancels_the_token_the_NET_function_got()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var state = await Start(o => o.Exports.Add("slow", async (CancellationToken token) =>
        {
            token.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, token);
        }), startup: "function wait_slow() slow() end");

        await Assert.ThrowsAsync<LuaCallTimeoutException>(() => state.CallAsync<object>("wait_slow", timeout: TimeSpan.FromMilliseconds(100)));
        await cancelled.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_sync_NET_function_returns_its_value_and_its_exception_becomes_a_Lua_error()
    {
        await using var state = await Start(o => o.Exports
                .Add("twice", (long x) => x * 2)
                .Add("refuse", new Action(() => throw new ArgumentException("not today"))),
            startup: "function use() local ok, e = pcall(refuse); return twice(21), tostring(e) end");
        var (value, error) = await state.CallAsync<(long, string)>("use");
        Assert.Equal(42, value);
        Assert.Contains("not today", error);
    }

    [Fact]
    public async Task The_safe_sandbox_has_no_io_no_debug_and_no_os_execute()
    {
        await using var state = await Start(o => o.Libraries = LuaLibraries.Safe,
            startup: "function probe() return tostring(io) .. tostring(debug) .. tostring(os.execute) .. type(os.time) end");
        Assert.Equal("nilnilnilfunction", await state.CallAsync<string>("probe"));
    }

    [Fact]
    public async Task An_async_NET_result_that_cannot_be_a_Lua_value_fails_the_call_at_once()
    {
        await using var state = await Start(o => o.Exports.Add("handle", async () =>
        {
            await Task.Yield();
            return new Action(() => { });
        }), startup: "function get_handle() return handle() end");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LuaScriptException>(() => state.CallAsync<object>("get_handle", timeout: Patience));
        Assert.Contains("cannot be a Lua value", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the failure took {clock.Elapsed}");
    }

    [Fact]
    public async Task Errors_of_the_lookup_and_of_an_error_value_s_tostring_still_reach_the_caller_at_once()
    {
        await using var state = await Start(startup: """
            strict = setmetatable({}, { __index = function(_, key) error("no field " .. key) end })
            function odd_error() error(setmetatable({}, { __tostring = function() error("worse") end })) end
            """);
        var lookup = await Assert.ThrowsAsync<LuaScriptException>(() => state.CallAsync<object>("strict.missing", timeout: Patience));
        Assert.Contains("no field missing", lookup.Message);
        var odd = await Assert.ThrowsAsync<LuaScriptException>(() => state.CallAsync<object>("odd_error", timeout: Patience));
        Assert.Contains("__tostring failed", odd.Message);
        Assert.Equal(0, state.TrackedCalls);
    }

    [Fact]
    public async Task Calls_that_fail_before_or_at_their_lookup_leave_nothing_behind()
    {
        await using var state = await Start();
        for (int i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<LuaScriptException>(() => state.CallAsync<object>("pricing.nothing"));
            await Assert.ThrowsAsync<LuaConversionException>(() => state.CallAsync<object>("pricing.add", [new Action(() => { }), 1]));
        }
        Assert.Equal(0, state.TrackedCalls);
    }

    [Fact]
    public async Task A_runaway_call_abandoned_while_in_NET_code_ends_even_after_other_calls_were_abandoned()
    {
        await using var state = await Start(o => o.Exports
                .Add("block", (CancellationToken _) => Thread.Sleep(500))
                .Add("forever", (CancellationToken token) => Task.Delay(Timeout.Infinite, token)),
            startup: "function stuck() block(); while true do end end; function waits() forever() end");
        var waiting = state.CallAsync<object>("waits", timeout: TimeSpan.FromMilliseconds(300));
        await Task.Delay(50);
        var runaway = state.CallAsync<object>("stuck", timeout: TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAsync<LuaCallTimeoutException>(() => runaway);
        await Assert.ThrowsAsync<LuaCallTimeoutException>(() => waiting); // abandoned after the runaway
        Assert.Equal(5L, await state.CallAsync<long>("pricing.add", [2, 3], timeout: Patience));
    }

    [Fact]
    public async Task A_script_that_stops_DSS_ends_its_state_and_stop_does_not_hang()
    {
        var state = await Start(startup: "function quit() local d = require 'darksidesync'; d.stop(); d.start() end");
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => state.CallAsync<object>("quit", timeout: Patience));
        await state.Stopped.WaitAsync(Patience);
        await state.StopAsync().WaitAsync(Patience);
    }

    [Fact]
    public async Task A_start_up_script_that_never_ends_fails_the_start_at_its_time_limit()
    {
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LuaStartupException>(() => Start(o => o.StartupTimeout = TimeSpan.FromMilliseconds(200), startup: "while true do end"));
        Assert.Contains("time budget exceeded", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the start took {clock.Elapsed} to fail");
    }

    [Fact]
    public async Task The_safe_sandbox_refuses_bytecode_darksidesync_and_a_changed_package_path()
    {
        _scripts.Write("elsewhere.lua", "return 1");
        await using var state = await Start(o =>
        {
            o.Libraries = LuaLibraries.Safe;
            o.QueueCapacity = 100; // set through darksidesync before the sandbox hides it
        }, startup: """
            function probe()
              local bytecode = load(string.dump(function() end))
              local dss_ok = pcall(require, "darksidesync")
              package.path = "/tmp/?.lua"
              local moved_ok = pcall(require, "not_there_at_all")
              return tostring(bytecode), dss_ok, moved_ok, require("pricing").add(1, 2)
            end
            """);
        var (bytecode, dss, moved, sum) = await state.CallAsync<(string, bool, bool, long)>("probe");
        Assert.Equal(("nil", false, false, 3L), (bytecode, dss, moved, sum));
    }

    [Fact]
    public async Task Stop_drains_the_calls_in_flight_then_refuses_new_ones()
    {
        var state = await Start(o => o.Exports.Add("pause", () => Task.Delay(200)),
            startup: "function slow_add(a, b) pause(); return a + b end");
        var inFlight = state.CallAsync<long>("slow_add", [1, 2], timeout: Patience);
        await Task.Delay(50);
        await state.StopAsync().WaitAsync(Patience);
        Assert.Equal(3L, await inFlight);
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => state.CallAsync<long>("pricing.add", [1, 2]));
    }

    [Fact]
    public async Task Stop_ends_a_runaway_script_at_the_deadline()
    {
        var state = await Start(o => o.StopDeadline = TimeSpan.FromMilliseconds(200));
        var runaway = state.CallAsync<object>("pricing.spin", timeout: TimeSpan.FromMinutes(5));
        await Task.Delay(50);
        var clock = Stopwatch.StartNew();
        await state.StopAsync().WaitAsync(Patience);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"stop took {clock.Elapsed}");
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => runaway);
    }

    [Fact]
    public async Task A_result_that_arrives_after_the_state_closed_is_dropped()
    {
        var release = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = await Start(o =>
        {
            o.StopMode = LuaStopMode.Cancel;
            o.Exports.Add("later", () => release.Task);
        }, startup: "function wait_later() return later() end");
        var call = state.CallAsync<long>("wait_later", timeout: Patience);
        await Task.Delay(50);
        await state.StopAsync().WaitAsync(Patience);
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => call);
        long refusedBefore = state.Stats.Refused;
        release.SetResult(7); // its delivery is refused: nothing touches the closed state
        await AwaitAssertAsync(() => Assert.Equal(refusedBefore + 1, state.Stats.Refused), Patience);
        Assert.Equal(0, state.TrackedCalls);
    }
}
