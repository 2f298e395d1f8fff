namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// <c>require "bounded_producer"</c> (c/bounded_producer/): pthreads that deliver through the
/// header's 1v1 helper (dss_deliver_ex, dss_queuesize), deliveries from the Lua thread and
/// from inside hooks, and a ledger of hook calls; its functions are listed at the top of the C file.
/// </summary>
public static class BoundedProducerLua
{
    public const string Source = "tests/Dss.Native.Tests/c/bounded_producer/bounded_producer.c";

    public static Task AddBoundedProducerAsync(this LuaProcess lua) => lua.AddCModuleAsync("bounded_producer", Source);

    /// <summary>
    /// <see cref="CSampleLua.Prelude"/>, then bounded_producer (as <c>bp</c>), a callback that
    /// records <c>got[thread]</c> (and keeps the waitingthread_callback of a blocking delivery
    /// in <c>held</c>), <c>take(n)</c> (polls up to n items and runs their callbacks),
    /// <c>drain_all()</c>, <c>until(f)</c> (waits for f() to be true, raising after 10 s) and
    /// <c>show(t)</c> (a status table as "NAME=n ..." in name order).
    /// </summary>
    public const string Prelude = CSampleLua.Prelude + """
        local bp = require "bounded_producer"
        local got, held, order_errors = {}, nil, 0
        bp.callback(function(a, b, c)
          local thread, seq = a, b
          if type(a) == "userdata" then held, thread, seq = a, b, c end
          if (got[thread] or 0) + 1 ~= seq and seq ~= 0 then order_errors = order_errors + 1 end
          got[thread] = seq
        end)
        local function take(n)
          local ran = 0
          for _ = 1, n do
            local count, callback, args = darksidesync.poll()
            if count == -1 then break end
            if callback then callback(table.unpack(args)) ran = ran + 1 end
          end
          return ran
        end
        local function drain_all() return take(math.maxinteger) end
        local function until_(f, what)
          local deadline = socket.gettime() + 10
          while not f() do
            assert(socket.gettime() < deadline, "timed out waiting for " .. (what or "a condition"))
            socket.sleep(0.002)
          end
        end
        local function show(t)
          local names = {}
          for name, n in pairs(t) do names[#names + 1] = name .. "=" .. n end
          table.sort(names)
          return table.concat(names, " ")
        end

        """;
}
