using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Configuration;

namespace DarkSideSync.Native;

/// <summary>
/// The one ActorSystem of the process, shared by every Lua state that loads the module; each
/// state gets its own DssSupervisor in it (DssModule.Open does that).
/// </summary>
internal static class ProcessActorSystem
{
    /// <summary>Names a HOCON file whose keys override the embedded defaults.</summary>
    public const string ConfigVariable = "DARKSIDESYNC_CONFIG";

    // Quiet by default: Lua scripts own stdout. Warnings and errors still show (on stderr, see
    // Create). Coordinated shutdown stays out of process exit: lua_close has already run
    // stop-DSS for every state by then, and the host process decides when it exits. Both
    // serializer aliases name BytesOnlySerializer: Akka's JSON serializer would bring
    // Newtonsoft.Json into the module for messages that never leave the process.
    private static readonly Config ModuleDefaults = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.actor.serializers.json = "DarkSideSync.Native.BytesOnlySerializer, darksidesync"
        akka.actor.serializers.bytes = "DarkSideSync.Native.BytesOnlySerializer, darksidesync"
        """);

    private static readonly Lock Gate = new();

    // Set once, never cleared. Stays null after a failed creation, so a corrected config file
    // works on the next require without restarting the process.
    private static ActorSystem? _system;

    /// <summary>Any thread (one Lua state per thread): the process's ActorSystem, created on first use.</summary>
    /// <exception cref="ConfigurationException">The config file is missing or invalid; the message says which and why.</exception>
    public static ActorSystem Get()
    {
        lock (Gate)
        {
            return _system ??= Create();
        }
    }

    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(BytesOnlySerializer))]
    private static ActorSystem Create()
    {
        var config = ReadOverrides().WithFallback(ModuleDefaults).WithFallback(DssSettings.DefaultConfig);
        // Fails here, with the file named, rather than later in each state's first require.
        try
        {
            DssSettings.Create(config);
        }
        catch (ConfigurationException e)
        {
            throw new ConfigurationException(Source() + e.Message, e);
        }
        // This library's Console is its own (Lua prints through C's stdout); only Akka's
        // standard-out logger writes to it, and log lines belong on stderr.
        Console.SetOut(Console.Error);
        var system = ActorSystem.Create("darksidesync", config);
        // Starting the ActorSystem allocates 2.6 MB, nearly all of it garbage (parsing Akka's
        // reference HOCON and reading it), and DSS's steady state allocates next to nothing, so
        // no collection would ever give those pages back. One aggressive collection, once per
        // process, does (it decommits what it frees): idle RSS -1.6 MB for ~1 ms of require.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return system;
    }

    private static Config ReadOverrides()
    {
        string? path = Environment.GetEnvironmentVariable(ConfigVariable);
        if (string.IsNullOrEmpty(path))
        {
            return Config.Empty;
        }
        if (Directory.Exists(path))
        {
            throw new ConfigurationException(Source() + "a directory, not a HOCON file.");
        }
        try
        {
            string text = File.ReadAllText(path);
            HoconBrackets.Check(text); // the parser itself accepts a file that ends inside { ... }
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception e)
        {
            // Any failure of reading or parsing: the HOCON parser throws more than its own type.
            throw new ConfigurationException(Source() + "not a readable HOCON file: " + e.Message, e);
        }
    }

    private static string Source() =>
        Environment.GetEnvironmentVariable(ConfigVariable) is { Length: > 0 } path ? $"{ConfigVariable}={path}: " : "";
}
