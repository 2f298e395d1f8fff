namespace DarkSideSync.Native.Tests.Support;

/// <summary>Lua shared by the scripts of the fault specs (faulty_utility, c/faulty_utility/).</summary>
public static class FaultLua
{
    /// <summary>
    /// Loads darksidesync, socket and faulty_utility (as <c>fu</c>) and defines
    /// <c>queued(n)</c> (waits until n deliveries are queued; raises after 10 s),
    /// <c>settled(u)</c> (waits until u's pthreads ended; false after 10 s, without calling
    /// darksidesync), <c>stopped()</c> (true when darksidesync raises its "not started" error)
    /// and <c>answer(...)</c>, a callback that answers a blocking delivery (its first argument
    /// is then the waitingthread_callback) with 1.
    /// </summary>
    public const string Prelude = """
        local darksidesync = require "darksidesync"
        local socket = require "socket"
        local fu = require "faulty_utility"
        local function queued(n)
          local deadline = socket.gettime() + 10
          while darksidesync.queuesize() < n do
            assert(socket.gettime() < deadline, "never got " .. n .. " queued deliveries")
            darksidesync.wait(0.01)
          end
        end
        local function settled(u)
          local deadline = socket.gettime() + 10
          while u:running() > 0 do
            if socket.gettime() > deadline then return false end
            socket.sleep(0.005)
          end
          return true
        end
        local function stopped()
          local ok, err = pcall(darksidesync.queuesize)
          return not ok and err == "DSS was not started yet, or already stopped"
        end
        local function answer(first, ...)
          if type(first) == "userdata" then first(1) end
        end

        """;
}
