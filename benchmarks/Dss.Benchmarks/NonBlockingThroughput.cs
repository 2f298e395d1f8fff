using System.Diagnostics;

namespace DarkSideSync.Benchmarks;

/// <summary>One non-blocking run: items/s that Lua consumed, and what the Lua thread and the GC saw meanwhile.</summary>
/// <param name="Items">Items delivered and consumed.</param>
/// <param name="EmptyPolls">Calls of poll() or dispatch() that found the queue empty (Lua faster than the producers).</param>
/// <param name="Gc">What the .NET GC did over the run.</param>
/// <param name="Misreported">Items poll() returned with a count of -1 (an engine bug; should be 0).</param>
internal sealed record ThroughputRun(long Items, double ItemsPerSecond, long EmptyPolls, GcFigures Gc, long Misreported)
{
    public double GcPauseShare => Gc.PauseShare;
}

/// <summary>
/// Scenario 1: <c>producers</c> threads deliver <c>total</c> items between them as fast as they
/// can; the Lua thread runs the consumer loop (bench.consume_items: poll, then
/// <c>cb(args[1])</c>; or bench.dispatch_items: dispatch()) until the callback has counted them
/// all. Timed from the release of the producers to the last callback.
/// </summary>
internal static class NonBlockingThroughput
{
    public static ThroughputRun Run(BenchHost host, IDeliveryPath path, ConsumerLoop loop, int producers, int total)
    {
        int share = total / producers;
        long items = (long)share * producers;
        using var threads = new ProducerThreads(producers, p => path.DeliverItems(p * share, share));
        var gc = GcMeter.Start();
        long start = threads.Release();
        var (emptyPolls, misreported) = host.Call2(loop.LuaFunction, items);
        long elapsed = Stopwatch.GetTimestamp() - start;
        threads.Join();
        double seconds = Measure.Seconds(elapsed);
        return new ThroughputRun(items, items / seconds, emptyPolls, gc.Stop(seconds, threads.AllocatedBytes), misreported);
    }
}
