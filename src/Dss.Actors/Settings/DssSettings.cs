using Akka.Actor;
using Akka.Configuration;

namespace DarkSideSync.Settings;

/// <summary>How DSS sends UDP wake-ups (HOCON <c>darksidesync.notification</c>).</summary>
public enum NotificationMode
{
    PerDelivery,
    Coalesced,
}

/// <summary>The <c>darksidesync</c> section of HOCON; keys and meaning in <c>hocon/darksidesync.conf</c>.</summary>
public sealed record DssSettings(NotificationMode Notification, TimeSpan AskTimeout, TimeSpan StopTimeout)
{
    /// <summary>The reference configuration embedded in this assembly.</summary>
    public static Config DefaultConfig { get; } = ConfigurationFactory.FromResource<DssSettings>("DarkSideSync.darksidesync.conf");

    /// <summary>Reads the settings of <paramref name="system"/>, falling back to the reference configuration.</summary>
    public static DssSettings Create(ActorSystem system) =>
        Create(system.Settings.Config.WithFallback(DefaultConfig).GetConfig("darksidesync"));

    public static DssSettings Create(Config section)
    {
        var notification = section.GetString("notification") switch
        {
            "per-delivery" => NotificationMode.PerDelivery,
            "coalesced" => NotificationMode.Coalesced,
            var other => throw new ConfigurationException(
                $"darksidesync.notification must be per-delivery or coalesced, not '{other}'."),
        };
        return new DssSettings(
            notification,
            Positive(section.GetTimeSpan("ask-timeout"), "ask-timeout"),
            Positive(section.GetTimeSpan("stop-timeout"), "stop-timeout"));
    }

    private static TimeSpan Positive(TimeSpan value, string key) =>
        value > TimeSpan.Zero ? value : throw new ConfigurationException($"darksidesync.{key} must be greater than 0.");
}
