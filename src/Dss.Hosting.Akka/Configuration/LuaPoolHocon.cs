using System.Globalization;
using Akka.Configuration;

namespace DarkSideSync.Hosting.Configuration;

/// <summary>
/// Reads a pool's options from HOCON: <c>darksidesync.hosting.pools.&lt;name&gt;</c> over
/// <c>pool-defaults</c> over the reference (<c>hocon/darksidesync-hosting.conf</c>, embedded).
/// Every key is read, so the result is complete; a bad value fails with a message that names
/// its full path.
/// </summary>
internal static class LuaPoolHocon
{
    public const string Root = "darksidesync.hosting";

    /// <summary>The reference configuration embedded in this assembly.</summary>
    public static Config Reference { get; } = ConfigurationFactory.FromResource(
        "DarkSideSync.Hosting.darksidesync-hosting.conf", typeof(LuaPoolHocon).Assembly);

    /// <summary>The section a pool reads, merged with the defaults and the reference.</summary>
    public static Config SectionOf(Config systemConfig, string pool)
    {
        var all = systemConfig.WithFallback(Reference);
        var defaults = all.GetConfig($"{Root}.pool-defaults");
        string own = $"{Root}.pools.{pool}";
        return all.HasPath(own) ? all.GetConfig(own).WithFallback(defaults) : defaults;
    }

    /// <summary>Fresh options from <paramref name="section"/> (see <see cref="SectionOf"/>); <paramref name="path"/> names it in errors.</summary>
    public static LuaPoolOptions Read(Config section, string path)
    {
        var options = new LuaPoolOptions
        {
            Size = Text(section, path, "size") == "auto"
                ? Environment.ProcessorCount
                : Ranged(Int(section, path, "size"), 1, 1024, path, "size", "auto or an integer from 1 to 1024"),
            Routing = Text(section, path, "routing") switch
            {
                "least-busy" => LuaRouting.LeastBusy,
                "round-robin" => LuaRouting.RoundRobin,
                var other => throw Bad(path, "routing", "least-busy or round-robin", other),
            },
            MinBackoff = Positive(section, path, "min-backoff"),
            MaxBackoff = Positive(section, path, "max-backoff"),
        };
        var state = options.State;
        foreach (string folder in Strings(section, path, "script-folders"))
        {
            state.ScriptFolders.Add(folder);
        }
        foreach (string script in Strings(section, path, "startup-scripts"))
        {
            state.StartupScripts.Add(script);
        }
        state.Libraries = Text(section, path, "libraries") switch
        {
            "all" => LuaLibraries.All,
            "safe" => LuaLibraries.Safe,
            var other => throw Bad(path, "libraries", "all or safe", other),
        };
        state.DefaultTimeout = PositiveOrOff(section, path, "default-timeout");
        state.CallBudget = PositiveOrOff(section, path, "call-budget");
        state.MemoryLimitBytes = Text(section, path, "memory-limit") == "off" ? null : Bytes(section, path, "memory-limit");
        state.QueueCapacity = Text(section, path, "queue-capacity") == "unbounded"
            ? null
            : Ranged(Int(section, path, "queue-capacity"), 1, int.MaxValue, path, "queue-capacity", "unbounded or a positive integer");
        state.QueueOverflow = Text(section, path, "queue-overflow") switch
        {
            "block" => QueueOverflow.Block,
            "fail" => QueueOverflow.Fail,
            var other => throw Bad(path, "queue-overflow", "block or fail", other),
        };
        state.StopMode = Text(section, path, "stop-mode") switch
        {
            "drain" => LuaStopMode.Drain,
            "cancel" => LuaStopMode.Cancel,
            var other => throw Bad(path, "stop-mode", "drain or cancel", other),
        };
        state.StopDeadline = Positive(section, path, "stop-deadline");
        state.SpinBeforeSleep = Duration(section, path, "spin-before-sleep") is var spin && spin >= TimeSpan.Zero
            ? spin
            : throw Bad(path, "spin-before-sleep", "a duration of 0s or more", Text(section, path, "spin-before-sleep"));
        state.RunCallsOnCallerThread = Text(section, path, "run-calls-on-caller-thread") switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            var other => throw Bad(path, "run-calls-on-caller-thread", "on or off", other),
        };
        options.Health.QueueThreshold = Ranged(Int(section, path, "health.queue-threshold"), 0, int.MaxValue, path, "health.queue-threshold", "an integer from 0");
        options.Health.DegradedAfter = Duration(section, path, "health.degraded-after") is var after && after >= TimeSpan.Zero
            ? after
            : throw Bad(path, "health.degraded-after", "a duration of 0s or more", Text(section, path, "health.degraded-after"));
        return options;
    }

    private static string Text(Config section, string path, string key) =>
        Guard(path, key, () => section.GetString(key)) ?? throw Bad(path, key, "a value", "nothing");

    private static int Int(Config section, string path, string key)
    {
        string text = Text(section, path, key);
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw Bad(path, key, "an integer", text);
    }

    private static long Bytes(Config section, string path, string key) =>
        Guard(path, key, () => section.GetByteSize(key)) is { } bytes && bytes > 0
            ? bytes
            : throw Bad(path, key, "a positive size in bytes, or off", Text(section, path, key));

    private static TimeSpan Duration(Config section, string path, string key) =>
        Guard(path, key, () => section.GetTimeSpan(key, allowInfinite: false));

    private static TimeSpan Positive(Config section, string path, string key) =>
        Duration(section, path, key) is var value && value > TimeSpan.Zero
            ? value
            : throw Bad(path, key, "a duration greater than 0", Text(section, path, key));

    private static TimeSpan? PositiveOrOff(Config section, string path, string key) =>
        Text(section, path, key) == "off" ? null : Positive(section, path, key);

    private static IList<string> Strings(Config section, string path, string key) =>
        Guard(path, key, () => section.GetStringList(key));

    private static int Ranged(int value, int min, int max, string path, string key, string allowed) =>
        value >= min && value <= max ? value : throw Bad(path, key, allowed, value.ToString(CultureInfo.InvariantCulture));

    private static T Guard<T>(string path, string key, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e)
        {
            throw new ConfigurationException($"{path}.{key}: {e.Message}");
        }
    }

    private static ConfigurationException Bad(string path, string key, string allowed, string actual) =>
        new($"{path}.{key} must be {allowed}, not '{actual}'.");
}
