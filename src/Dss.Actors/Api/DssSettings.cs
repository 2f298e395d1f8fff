using Akka.Actor;
using Akka.Configuration;

namespace DarkSideSync;

/// <summary>How DSS sends UDP wake-ups (HOCON <c>darksidesync.notification</c>).</summary>
public enum NotificationMode
{
    PerDelivery,
    Coalesced,
}

/// <summary>What a bounded queue does with a delivery that finds it full (HOCON <c>darksidesync.queue.overflow</c>, Lua <c>setlimit</c>).</summary>
public enum QueueOverflow
{
    /// <summary>The producer waits for room (C: 1v0's <c>deliver</c>; .NET: the async deliveries).</summary>
    Block,
    /// <summary>The delivery is refused with <see cref="DssStatus.QueueFull"/>.</summary>
    Fail,
}

/// <summary>The <c>darksidesync</c> section of HOCON; keys and meaning in <c>hocon/darksidesync.conf</c>.</summary>
public sealed record DssSettings(NotificationMode Notification, TimeSpan AskTimeout, TimeSpan StopTimeout)
{
    /// <summary>The bound of each new state's queue (<c>darksidesync.queue.capacity</c>); null: unbounded, as DSS 1.0.</summary>
    public int? QueueCapacity { get; init; }

    /// <summary>What a full bounded queue does (<c>darksidesync.queue.overflow</c>).</summary>
    public QueueOverflow QueueOverflow { get; init; } = QueueOverflow.Block;

    /// <summary>The reference configuration embedded in this assembly.</summary>
    public static Config DefaultConfig { get; } = ConfigurationFactory.FromResource<DssSettings>("DarkSideSync.darksidesync.conf");

    /// <summary>Reads the settings of <paramref name="system"/>, falling back to the reference configuration.</summary>
    public static DssSettings Create(ActorSystem system) =>
        Create(system.Settings.Config.WithFallback(DefaultConfig));

    /// <summary>Reads the settings from a whole configuration (its <c>darksidesync</c> section), with clear errors.</summary>
    /// <exception cref="ConfigurationException">A key is missing, malformed or out of range; the message names it.</exception>
    public static DssSettings Create(Config config)
    {
        if (!config.HasPath("darksidesync") || !config.GetValue("darksidesync").IsObject())
        {
            throw new ConfigurationException("darksidesync must be a section ({ ... }) of settings.");
        }
        var section = config.GetConfig("darksidesync");
        var notification = Read(section, "notification", static (s, key) => s.GetString(key)) switch
        {
            "per-delivery" => NotificationMode.PerDelivery,
            "coalesced" => NotificationMode.Coalesced,
            var other => throw new ConfigurationException(
                $"darksidesync.notification must be per-delivery or coalesced, not '{other}'."),
        };
        return new DssSettings(
            notification,
            Positive(Read(section, "ask-timeout", static (s, key) => s.GetTimeSpan(key)), "ask-timeout"),
            Positive(Read(section, "stop-timeout", static (s, key) => s.GetTimeSpan(key)), "stop-timeout"))
        {
            QueueCapacity = ReadCapacity(section),
            QueueOverflow = Read(section, "queue.overflow", static (s, key) => s.GetString(key)) switch
            {
                "block" => QueueOverflow.Block,
                "fail" => QueueOverflow.Fail,
                var other => throw new ConfigurationException(
                    $"darksidesync.queue.overflow must be block or fail, not '{other}'."),
            },
        };
    }

    private static int? ReadCapacity(Config section)
    {
        string? text = Read(section, "queue.capacity", static (s, key) => s.GetString(key));
        if (text == "unbounded")
        {
            return null;
        }
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int capacity) && capacity > 0
            ? capacity
            : throw new ConfigurationException(
                $"darksidesync.queue.capacity must be unbounded or a positive integer (at most {int.MaxValue}), not '{text}'.");
    }

    // The HOCON library throws FormatException and others on a malformed value: name the key.
    private static T Read<T>(Config section, string key, Func<Config, string, T> read)
    {
        try
        {
            return read(section, key);
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw new ConfigurationException($"darksidesync.{key}: {e.Message}", e);
        }
    }

    private static TimeSpan Positive(TimeSpan value, string key) =>
        value > TimeSpan.Zero ? value : throw new ConfigurationException($"darksidesync.{key} must be greater than 0.");
}
