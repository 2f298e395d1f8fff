using Akka.TestKit.Xunit2;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>
/// Calls run on their caller's thread while the state is idle (LuaStateOptions.RunCallsOnCallerThread):
/// no thread hop, one call at a time in the state whatever the number of callers, a call that
/// awaits .NET going on from the state's thread, and the same outcomes as a queued call:
/// timeouts, cancellation, budgets.
/// </summary>
public sealed class CallsOnCallerThreadSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly ScriptFolder _scripts = new();

    private const string Startup = """
        count = 0
        function bump(n) count = count + 1; return string.format("%d:%d", n, count) end
        local function helper(i) return i % 7 end
        function work(n)
          local s = 0
          for i = 1, 100 + n % 700 do s = s + #string.format("%d", i) + helper(i) end
          count = count + 1
          return n
        end
        function total() return count end
        function forever() while true do end end
        function thread_of() return where() end
        function awaited_thread_of() later(1) return where() end
        function slow_quote(n) return later(n) + 1 end
        """;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scripts.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task<HostedLuaState> Start(Action<LuaStateOptions>? configure = null)
    {
        _scripts.Write("startup.lua", Startup);
        var options = new LuaStateOptions { ScriptFolders = [_scripts.Path], StartupScripts = ["startup.lua"], RunCallsOnCallerThread = true };
        options.Exports
            .Add("where", () => (long)Environment.CurrentManagedThreadId)
            .Add("later", async (long n) => { await Task.Delay(1); return n; });
        configure?.Invoke(options);
        return await HostedLuaState.StartAsync(Sys, options, "here");
    }

    // The state's thread sleeps once a call has gone through and the spin after it is over.
    private static async Task Idle(HostedLuaState state)
    {
        await state.CallAsync<long>("total");
        await Task.Delay(50);
    }

    [Fact]
    public async Task A_call_on_an_idle_state_runs_on_the_caller_s_thread_and_is_answered_before_CallAsync_returns()
    {
        await using var state = await Start();
        await Idle(state);
        var (caller, ran) = await Task.Run(async () =>
        {
            int me = Environment.CurrentManagedThreadId;
            var call = state.CallAsync<long>("thread_of");
            Assert.True(call.IsCompleted, "a call on an idle state answers before CallAsync returns");
            return (me, await call);
        });
        Assert.Equal(caller, ran);
    }

    [Fact]
    public async Task Off_by_default_every_call_runs_on_the_state_s_thread()
    {
        Assert.False(new LuaStateOptions().RunCallsOnCallerThread);
        await using var state = await Start(o => o.RunCallsOnCallerThread = false);
        var threads = new HashSet<long>();
        for (int i = 0; i < 20; i++)
        {
            int caller = 0;
            threads.Add(await Task.Run(() => { caller = Environment.CurrentManagedThreadId; return state.CallAsync<long>("thread_of"); }));
            Assert.DoesNotContain((long)caller, threads);
        }
        Assert.Single(threads);
    }

    [Fact]
    public async Task A_call_that_awaits_dotnet_goes_on_from_the_state_s_thread()
    {
        await using var state = await Start();
        await Idle(state);
        var (caller, ran) = await Task.Run(async () => (Environment.CurrentManagedThreadId, await state.CallAsync<long>("awaited_thread_of", timeout: Patience)));
        Assert.NotEqual(caller, ran);
        Assert.Equal(ran, await Task.Run(() => state.CallAsync<long>("awaited_thread_of", timeout: Patience)));
    }

    [Fact]
    public async Task Many_callers_on_many_threads_run_one_at_a_time_and_every_answer_is_their_own()
    {
        await using var state = await Start();
        const int callers = 16, calls = 3000;
        var wrong = 0;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < calls; i++)
            {
                long n = c * calls + i;
                string answer = i % 50 == 0
                    ? (await state.CallAsync<long>("slow_quote", [n], timeout: Patience) - 1) + ":"
                    : i % 3 == 0 ? await state.CallAsync<long>("work", [n], timeout: Patience) + ":"
                    : await state.CallAsync<string>("bump", [n], timeout: Patience);
                if (!answer.StartsWith($"{n}:", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        })));
        Assert.Equal(0, wrong);
        Assert.Equal(callers * (calls - calls / 50), await state.CallAsync<long>("total"));
    }

    [Fact]
    public async Task A_runaway_call_run_here_ends_at_its_timeout_and_the_state_serves_on()
    {
        await using var state = await Start();
        await Idle(state);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<LuaCallTimeoutException>(() => Task.Run(() => state.CallAsync<object>("forever", timeout: TimeSpan.FromMilliseconds(200))));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5));
        Assert.Equal(3L, await state.CallAsync<long>("work", [3L], timeout: Patience));
    }

    [Fact]
    public async Task A_runaway_call_run_here_ends_when_its_token_is_cancelled()
    {
        await using var state = await Start();
        await Idle(state);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(() => state.CallAsync<object>("forever", timeout: Patience, cancellationToken: cancel.Token)));
        Assert.Equal(3L, await state.CallAsync<long>("work", [3L], timeout: Patience));
    }

    [Fact]
    public async Task A_call_run_here_over_its_budget_fails_with_the_budget()
    {
        await using var state = await Start(o => o.CallBudget = TimeSpan.FromMilliseconds(20));
        await Idle(state);
        var error = await Assert.ThrowsAsync<LuaBudgetExceededException>(() => Task.Run(() => state.CallAsync<object>("forever", timeout: Patience)));
        Assert.Equal(LuaBudget.Time, error.Budget);
    }

    [Fact]
    public async Task Calls_cancelled_at_random_moments_leave_the_state_serving()
    {
        await using var state = await Start();
        const int callers = 16, calls = 1000;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            for (int i = 0; i < calls; i++)
            {
                using var cancel = new CancellationTokenSource();
                cancel.CancelAfter(TimeSpan.FromTicks(random.Next(0, 20_000)));
                try
                {
                    string path = i % 10 == 0 ? "slow_quote" : "work";
                    long answer = await state.CallAsync<long>(path, [(long)i], timeout: Patience, cancellationToken: cancel.Token);
                    Assert.Equal(i % 10 == 0 ? i + 1 : i, answer);
                }
                catch (OperationCanceledException)
                {
                }
            }
        })));
        Assert.Equal(7L, await state.CallAsync<long>("work", [7L], timeout: Patience));
        await AwaitAssertAsync(() => Assert.Equal(0, state.TrackedCalls), Patience);
    }

    [Fact]
    public async Task A_stop_while_a_call_runs_here_ends_it_and_the_state_closes()
    {
        var state = await Start(o => o.StopDeadline = TimeSpan.FromMilliseconds(100));
        await Idle(state);
        var runaway = Task.Run(() => state.CallAsync<object>("forever", timeout: Patience));
        await Task.Delay(100);
        await state.StopAsync().WaitAsync(Patience);
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => runaway);
    }
}
