using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>
/// The DarkSideSync meter as a listener sees it (MeterListener, real pools): calls, errors,
/// timeouts and refusals counted and tagged by pool and state, call duration and queue wait
/// recorded, each state's queue depth observed.
/// </summary>
public sealed class LuaMetricsSpec : TestKit, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ScriptFolder _scripts = new();
    private readonly MeterListener _listener = new();
    private readonly string _pool = "metered-" + Guid.NewGuid().ToString("N")[..8];

    // Every measurement of this test's pool: (instrument, tags without pool, value).
    private readonly ConcurrentQueue<(string Instrument, Dictionary<string, string> Tags, double Value)> _seen = new();

    public LuaMetricsSpec()
    {
        _scripts.Write("startup.lua", """
            function add(a, b) return a + b end
            function fail() error("no such price") end
            function spin(seconds) local t = os.clock() + seconds; while os.clock() < t do end; return true end
            """);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DarkSideSyncMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Seen(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Seen(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Seen(i, v, tags));
        _listener.Start();
    }

    private void Seen(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, string>();
        foreach (var tag in tags)
        {
            map[tag.Key] = tag.Value?.ToString() ?? "";
        }
        if (map.GetValueOrDefault("pool") == _pool)
        {
            _seen.Enqueue((instrument.Name, map, value));
        }
    }

    private double Sum(string instrument, string? state = null, string? errorType = null) =>
        _seen.Where(m => m.Instrument == instrument
                && (state is null || m.Tags.GetValueOrDefault("state") == state)
                && (errorType is null || m.Tags.GetValueOrDefault("error.type") == errorType))
            .Sum(m => m.Value);

    private int Count(string instrument) => _seen.Count(m => m.Instrument == instrument);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _listener.Dispose();
            _scripts.Dispose();
        }
        base.Dispose(disposing);
    }

    private Task<LuaPool> Start(int size = 1, Action<LuaStateOptions>? configure = null)
    {
        var state = new LuaStateOptions { ScriptFolders = [_scripts.Path], StartupScripts = ["startup.lua"] };
        configure?.Invoke(state);
        return LuaPool.StartAsync(Sys, new LuaPoolOptions { Size = size, State = state }, _pool);
    }

    [Fact]
    public async Task Calls_are_counted_and_timed_per_pool_and_state()
    {
        await using var pool = await Start();
        for (int i = 0; i < 5; i++)
        {
            await pool.CallAsync<long>("add", [i, 1]);
        }
        Assert.Equal(5, Sum(DarkSideSyncMetrics.Calls, state: $"{_pool}-0"));
        Assert.Equal(5, Count(DarkSideSyncMetrics.CallDuration));
        Assert.Equal(5, Count(DarkSideSyncMetrics.QueueWait));
        Assert.All(_seen.Where(m => m.Instrument == DarkSideSyncMetrics.CallDuration), m => Assert.InRange(m.Value, 0, Patience.TotalSeconds));
        var wait = _seen.Where(m => m.Instrument == DarkSideSyncMetrics.QueueWait).Select(m => m.Value);
        var took = _seen.Where(m => m.Instrument == DarkSideSyncMetrics.CallDuration).Select(m => m.Value);
        Assert.True(wait.Sum() <= took.Sum(), "a call waited in the queue longer than it took");
        Assert.Equal(0, Sum(DarkSideSyncMetrics.Errors));
    }

    [Fact]
    public async Task Errors_are_counted_with_their_type_and_timeouts_on_their_own()
    {
        await using var pool = await Start(configure: o => o.CallBudget = TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAsync<LuaScriptException>(() => pool.CallAsync<object>("fail"));
        await Assert.ThrowsAsync<LuaBudgetExceededException>(() => pool.CallAsync<object>("spin", [5]));
        await Assert.ThrowsAsync<LuaCallTimeoutException>(() => pool.CallAsync<object>("spin", [0.04], timeout: TimeSpan.FromMilliseconds(5)));
        Assert.Equal(1, Sum(DarkSideSyncMetrics.Errors, errorType: "script"));
        Assert.Equal(1, Sum(DarkSideSyncMetrics.Errors, errorType: "time_budget"));
        Assert.Equal(1, Sum(DarkSideSyncMetrics.Timeouts));
        Assert.Equal(3, Sum(DarkSideSyncMetrics.Calls));
    }

    [Fact]
    public async Task A_full_queue_counts_refusals_and_the_gauge_shows_each_state_s_queue()
    {
        await using var pool = await Start(configure: o =>
        {
            o.QueueCapacity = 2;
            o.QueueOverflow = QueueOverflow.Fail;
        });
        var busy = pool.CallAsync<bool>("spin", [0.5]);                   // the Lua thread is taken
        await Task.Delay(100);
        var queued = new[] { pool.CallAsync<long>("add", [1, 1]), pool.CallAsync<long>("add", [2, 2]) };
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => pool.CallAsync<long>("add", [3, 3]));
        _listener.RecordObservableInstruments();
        Assert.Equal(2, _seen.Where(m => m.Instrument == DarkSideSyncMetrics.QueueDepth && m.Tags["state"] == $"{_pool}-0").Max(m => m.Value));
        Assert.True(await busy.WaitAsync(Patience));
        await Task.WhenAll(queued).WaitAsync(Patience);
        Assert.Equal(1, Sum(DarkSideSyncMetrics.Refusals, state: $"{_pool}-0"));
    }

    [Fact]
    public async Task A_pool_with_no_running_state_counts_its_refusals_under_the_pool_alone()
    {
        var pool = await Start();
        await pool.StopAsync();
        await Assert.ThrowsAsync<LuaStateUnavailableException>(() => pool.CallAsync<long>("add", [1, 1]));
        var refusal = Assert.Single(_seen, m => m.Instrument == DarkSideSyncMetrics.Refusals);
        Assert.False(refusal.Tags.ContainsKey("state"));
    }
}
