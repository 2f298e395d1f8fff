using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DarkSideSync.Hosting.State;

namespace DarkSideSync.Hosting.Diagnostics;

/// <summary>
/// The instruments of <see cref="DarkSideSyncMetrics"/>, recorded where the facts are: each
/// state's <c>CallAsync</c> (on the caller's thread) and the pool's routing. With no listener an
/// instrument's record is a check of one field, and the call's timestamps are not even taken.
/// </summary>
internal static class LuaMetrics
{
    private static readonly Meter Meter = new(DarkSideSyncMetrics.MeterName,
        typeof(LuaMetrics).Assembly.GetName().Version?.ToString(3));

    // The states that run now, for the queue-depth gauge; a state adds itself once set up and goes at its close.
    private static readonly ConcurrentDictionary<LuaStateThread, byte> Running = new();

    public static readonly Counter<long> Calls = Meter.CreateCounter<long>(DarkSideSyncMetrics.Calls, "{call}",
        "Calls made to a hosted Lua state.");

    public static readonly Counter<long> Errors = Meter.CreateCounter<long>(DarkSideSyncMetrics.Errors, "{call}",
        "Calls that failed in or at the state (error.type: script, time_budget, memory_budget, conversion, stopped).");

    public static readonly Counter<long> Timeouts = Meter.CreateCounter<long>(DarkSideSyncMetrics.Timeouts, "{call}",
        "Calls that got no answer within their timeout.");

    public static readonly Counter<long> Refusals = Meter.CreateCounter<long>(DarkSideSyncMetrics.Refusals, "{call}",
        "Calls refused before Lua saw them (full queue, state stopping or being replaced).");

    public static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>(DarkSideSyncMetrics.CallDuration, "s",
        "From CallAsync to the call's result or failure.");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>(DarkSideSyncMetrics.QueueWait, "s",
        "From CallAsync until the state's Lua thread took the call.");

    private static readonly ObservableGauge<int> QueueDepth = Meter.CreateObservableGauge(DarkSideSyncMetrics.QueueDepth,
        ObserveQueues, "{call}", "Deliveries waiting in a state's queue.");

    /// <summary>True when someone listens to the call timings: only then does a call take its timestamps.</summary>
    public static bool Timing => CallDuration.Enabled || QueueWait.Enabled;

    public static void Started(LuaStateThread state) => Running.TryAdd(state, 0);

    public static void Closed(LuaStateThread state) => Running.TryRemove(state, out _);

    public static double Seconds(long from, long to) => (double)(to - from) / Stopwatch.Frequency;

    private static IEnumerable<Measurement<int>> ObserveQueues()
    {
        foreach (var state in Running.Keys)
        {
            yield return new Measurement<int>(state.Utility.QueueSize, state.MetricTags);
        }
    }

    /// <summary>The tags of a state's measurements: pool (when in one) and state.</summary>
    public static TagList TagsOf(string? pool, string state)
    {
        var tags = new TagList();
        if (pool is not null)
        {
            tags.Add("pool", pool);
        }
        tags.Add("state", state);
        return tags;
    }

    /// <summary>The tags of an error: the state's, and error.type.</summary>
    public static TagList WithErrorType(TagList tags, string type)
    {
        tags.Add("error.type", type);
        return tags;
    }
}
