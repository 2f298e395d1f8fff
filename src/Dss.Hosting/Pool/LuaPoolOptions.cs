namespace DarkSideSync.Hosting;

/// <summary>How a pool picks the state for a call that names no key.</summary>
public enum LuaRouting
{
    /// <summary>The state with the fewest calls outstanding (from this pool).</summary>
    LeastBusy,

    /// <summary>Each state in turn.</summary>
    RoundRobin,
}

/// <summary>A pool of hosted states with the same scripts; plain properties, so they bind from configuration.</summary>
public sealed class LuaPoolOptions
{
    /// <summary>How each state is set up (scripts, libraries, budgets, queue bound, exports).</summary>
    public LuaStateOptions State { get; init; } = new();

    /// <summary>How many states, each on its own thread; default: the processor count.</summary>
    public int Size { get; set; } = Environment.ProcessorCount;

    /// <summary>For calls without a key; a call with a key always goes to the same state (a stable hash of the key).</summary>
    public LuaRouting Routing { get; set; } = LuaRouting.LeastBusy;

    /// <summary>The first delay before a state that died is replaced; it doubles for each failure in a row, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>When the pool's health check reports it degraded (read by Dss.Hosting.Akka's <c>LuaPoolHealthCheck</c>; nothing here acts on it).</summary>
    public LuaPoolHealthOptions Health { get; init; } = new();
}

/// <summary>The thresholds of a pool's health check; plain properties, so they bind from configuration.</summary>
public sealed class LuaPoolHealthOptions
{
    /// <summary>A state whose queue holds more calls than this, for <see cref="DegradedAfter"/>, makes the pool degraded.</summary>
    public int QueueThreshold { get; set; } = 1000;

    /// <summary>How long a queue must stay above <see cref="QueueThreshold"/> (seen so at two checks this far apart) before it counts; zero: at once.</summary>
    public TimeSpan DegradedAfter { get; set; } = TimeSpan.FromSeconds(5);
}
