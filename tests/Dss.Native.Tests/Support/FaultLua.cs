namespace DarkSideSync.Native.Tests.Support;

/// <summary>Lua shared by the scripts of the fault specs (faulty_utility, c/faulty_utility/).</summary>
public static class FaultLua
{
    /// <summary>
    /// <see cref="CSampleLua.Prelude"/> (darksidesync, socket, <c>queued(n)</c>, <c>settled(u)</c>),
    /// then faulty_utility (as <c>fu</c>), <c>stopped()</c> (true when darksidesync raises its "not started" error)
    /// and <c>answer(...)</c>, a callback that answers a blocking delivery (its first argument
    /// is then the waitingthread_callback) with 1.
    /// </summary>
    public const string Prelude = CSampleLua.Prelude + """
        local fu = require "faulty_utility"
        local function stopped()
          local ok, err = pcall(darksidesync.queuesize)
          return not ok and err == "DSS was not started yet, or already stopped"
        end
        local function answer(first, ...)
          if type(first) == "userdata" then first(1) end
        end

        """;
}
