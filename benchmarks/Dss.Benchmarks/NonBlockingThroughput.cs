using System.Diagnostics;

namespace DarkSideSync.Benchmarks;

/// <summary>One non-blocking run: items/s that Lua consumed, and what the Lua thread saw meanwhile.</summary>
/// <param name="EmptyPolls">Polls that found the queue empty (Lua faster than the producers).</param>
/// <param name="GcPauseShare">Share of the run the .NET GC had threads paused.</param>
/// <param name="Misreported">Items poll() returned with a count of -1 (an engine bug; should be 0).</param>
internal sealed record ThroughputRun(double ItemsPerSecond, long EmptyPolls, double GcPauseShare, long Misreported);

/// <summary>
/// Scenario 1: <c>producers</c> threads deliver <c>total</c> items between them as fast as they
/// can; the Lua thread runs <c>bench.consume_items</c> (poll, then <c>cb(args[1])</c>) until the
/// callback has counted them all. Timed from the first poll to the last callback.
/// </summary>
internal static class NonBlockingThroughput
{
    public static ThroughputRun Run(BenchHost host, IDeliveryPath path, int producers, int total)
    {
        int share = total / producers;
        using var threads = new ProducerThreads(producers, p => path.DeliverItems(p * share, share));
        var pausedBefore = GC.GetTotalPauseDuration();
        long start = threads.Release();
        var (emptyPolls, misreported) = host.Call2("consume_items", share * producers);
        long elapsed = Stopwatch.GetTimestamp() - start;
        threads.Join();
        double seconds = Measure.Seconds(elapsed);
        return new ThroughputRun(
            share * producers / seconds,
            emptyPolls,
            (GC.GetTotalPauseDuration() - pausedBefore).TotalSeconds / seconds,
            misreported);
    }
}
