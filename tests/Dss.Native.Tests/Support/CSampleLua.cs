namespace DarkSideSync.Native.Tests.Support;

/// <summary>Lua shared by the scripts of the *CSampleSpec specs.</summary>
public static class CSampleLua
{
    /// <summary>
    /// Loads darksidesync (as <c>darksidesync</c>) and LuaSocket (as <c>socket</c>) and defines
    /// <c>queued(n)</c>, which waits until n deliveries are queued (raising after 10 s), and
    /// <c>settled(u)</c>, which waits until the threads of a dss_producer ended (false after
    /// 10 s). settled never calls darksidesync: after stop-DSS, and inside lua_close, it raises.
    /// </summary>
    public const string Prelude = """
        local darksidesync = require "darksidesync"
        local socket = require "socket"
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

        """;
}
