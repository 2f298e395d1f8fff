namespace DarkSideSync.Tests.Support;

/// <summary>Lua-side loops the concurrency specs run on the Lua thread.</summary>
public static class LuaLoop
{
    /// <summary>
    /// Defines <c>run(total)</c>: polls until <c>total</c> callbacks ran, sleeping in
    /// darksidesync.wait when the queue is empty, and gives up after <c>idle</c> seconds without work.
    /// </summary>
    public const string Define = """
        function run(total, idle)
          local ran, poll, wait = 0, darksidesync.poll, darksidesync.wait
          while ran < total do
            local n, callback, args = poll()
            if n == -1 then
              if wait(idle or 30) == 0 then error('no work for ' .. (idle or 30) .. ' s after ' .. ran .. ' callbacks') end
            elseif callback then
              callback(table.unpack(args))
              ran = ran + 1
            end
          end
          return ran
        end
        """;
}
