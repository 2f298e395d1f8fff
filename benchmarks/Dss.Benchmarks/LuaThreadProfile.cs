using System.Diagnostics;
using DarkSideSync.Benchmarks.CAbi;

namespace DarkSideSync.Benchmarks;

/// <summary>A step of the Lua thread's work and its cost per item, one thread, no producer running.</summary>
internal sealed record ProfileRow(string Step, double NsPerItem);

/// <summary>
/// Splits the Lua thread's cost per item with micro-loops on one thread: the Lua loop itself,
/// a call into the engine, the Lua wrapper, taking an item, decoding it and building the args
/// table, and the callback. Items are queued beforehand (timed too: the producer's cost of a
/// deliver with nobody consuming), so the Lua side runs free of any contention. The dispatch
/// rows drain the same pre-filled queue with one <c>dispatch()</c> (DSS 1.1), which calls
/// each callback from the engine's C loop with no args table.
/// </summary>
internal static class LuaThreadProfile
{
    public static IReadOnlyList<ProfileRow> Run(BenchHost host, ManagedPath managed, CAbiPath native, int n, int warmups, int repetitions)
    {
        double Loop(string function) => Measure.Median(Measure.Repeat(warmups, repetitions, () =>
        {
            long start = Stopwatch.GetTimestamp();
            host.Call(function, n);
            return PerItem(Stopwatch.GetTimestamp() - start, n);
        }));

        // Returns (Lua ns per item, producer ns per item).
        (double Lua, double Producer) Drain(string function, Action<int> prefill)
        {
            var runs = Measure.Repeat(warmups, repetitions, () =>
            {
                long start = Stopwatch.GetTimestamp();
                prefill(n);
                long queued = Stopwatch.GetTimestamp();
                host.Call(function, n);
                long drained = Stopwatch.GetTimestamp();
                if (host.Call("queuesize", 0) != 0)
                {
                    throw new InvalidOperationException($"bench.{function} left items in the queue");
                }
                return (Lua: PerItem(drained - queued, n), Producer: PerItem(queued - start, n));
            });
            return (Measure.Median(runs.Select(r => r.Lua)), Measure.Median(runs.Select(r => r.Producer)));
        }

        var rows = new List<ProfileRow>
        {
            new("Lua: empty numeric for loop", Loop("empty_loop")),
            new("Lua: f(i), a Lua function", Loop("lua_call")),
            new("Lua: local t = {i}; f(t[1])", Loop("lua_table_call")),
            new("darksidesync.poll(), empty queue", Loop("poll_only")),
        };
        rows.Add(new("poll(), decode pushes nothing (C# API)", Drain("poll_only", managed.DeliverNothing).Lua));
        rows.Add(new("poll(), decode pushes cb, i (C# API)", Drain("poll_only", c => managed.DeliverItems(0, c)).Lua));
        var managedFull = Drain("poll_and_call", c => managed.DeliverItems(0, c));
        rows.Add(new("poll() + cb(args[1]) (C# API)", managedFull.Lua));
        var nativeFull = Drain("poll_and_call", c => native.DeliverItems(0, c));
        rows.Add(new("poll() + cb(args[1]) (C ABI)", nativeFull.Lua));
        rows.Add(new("dispatch(), decode pushes nothing (C# API)", Drain("dispatch_queue", managed.DeliverNothing).Lua));
        var managedDispatch = Drain("dispatch_queue", c => managed.DeliverItems(0, c));
        rows.Add(new("dispatch() + cb(i) (C# API)", managedDispatch.Lua));
        var nativeDispatch = Drain("dispatch_queue", c => native.DeliverItems(0, c));
        rows.Add(new("dispatch() + cb(i) (C ABI)", nativeDispatch.Lua));
        rows.Add(new("producer: Deliver, nobody polling (C# API)", Measure.Median([managedFull.Producer, managedDispatch.Producer])));
        rows.Add(new("producer: deliver, nobody polling (C ABI)", Measure.Median([nativeFull.Producer, nativeDispatch.Producer])));
        return rows;
    }

    private static double PerItem(long ticks, int n) => Measure.Seconds(ticks) * 1e9 / n;
}
