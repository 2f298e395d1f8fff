namespace DarkSideSync.Hosting;

/// <summary>
/// The names of hosted Lua's metrics: one <see cref="System.Diagnostics.Metrics.Meter"/> named
/// <see cref="MeterName"/> (OpenTelemetry: <c>AddMeter("DarkSideSync")</c>). Every instrument is
/// tagged <c>pool</c> (absent for a state outside a pool) and <c>state</c> (the state's name, e.g.
/// <c>pricing-0</c>; absent for a pool's refusal when none of its states runs).
/// </summary>
public static class DarkSideSyncMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "DarkSideSync";

    /// <summary>Counter, <c>{call}</c>: calls made to a state (every <c>CallAsync</c> that reached one, whatever its outcome).</summary>
    public const string Calls = "darksidesync.lua.calls";

    /// <summary>
    /// Counter, <c>{call}</c>: calls that failed in or at the state, tagged <c>error.type</c>:
    /// <c>script</c> (Lua raised), <c>time_budget</c>, <c>memory_budget</c>, <c>conversion</c>
    /// (a value that does not convert), <c>stopped</c> (the state stopped before answering).
    /// </summary>
    public const string Errors = "darksidesync.lua.errors";

    /// <summary>Counter, <c>{call}</c>: calls that got no answer within their timeout.</summary>
    public const string Timeouts = "darksidesync.lua.timeouts";

    /// <summary>Counter, <c>{call}</c>: calls refused before Lua saw them (a full queue, a state stopping or being replaced).</summary>
    public const string Refusals = "darksidesync.lua.refusals";

    /// <summary>Histogram, seconds: from <c>CallAsync</c> to its result or failure.</summary>
    public const string CallDuration = "darksidesync.lua.call.duration";

    /// <summary>Histogram, seconds: from <c>CallAsync</c> until the state's Lua thread took the call from its queue.</summary>
    public const string QueueWait = "darksidesync.lua.queue.wait";

    /// <summary>Observable gauge, <c>{call}</c>: calls (and other deliveries) waiting in a state's queue now.</summary>
    public const string QueueDepth = "darksidesync.lua.queue.depth";
}
