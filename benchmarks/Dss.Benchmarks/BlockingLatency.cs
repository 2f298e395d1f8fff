using System.Diagnostics;

namespace DarkSideSync.Benchmarks;

/// <summary>One blocking run: round-trip percentiles over every request of every producer.</summary>
/// <param name="Misreported">Requests poll() returned with a count of -1 (an engine bug; should be 0).</param>
internal sealed record LatencyRun(double P50Us, double P99Us, double MaxUs, double RequestsPerSecond, long Misreported);

/// <summary>
/// Scenario 2: each of <c>producers</c> dedicated threads sends <c>requests</c> blocking deliveries
/// one after the other; the Lua thread runs <c>bench.consume_requests</c>, whose callback answers
/// <c>args[1](x + 1)</c>. A round trip is timed on the producer, from just before the deliver call
/// until the answer is in its hands.
/// </summary>
internal static class BlockingLatency
{
    public static LatencyRun Run(BenchHost host, IDeliveryPath path, int producers, int requests)
    {
        var samples = new long[producers][];
        using var threads = new ProducerThreads(producers, p =>
        {
            var mine = samples[p] = new long[requests];
            for (int i = 0; i < requests; i++)
            {
                long before = Stopwatch.GetTimestamp();
                long answer = path.RoundTrip(i);
                mine[i] = Stopwatch.GetTimestamp() - before;
                if (answer != i + 1)
                {
                    throw new InvalidOperationException($"request {i}: Lua answered {answer}");
                }
            }
        });
        long start = threads.Release();
        var (_, misreported) = host.Call2("consume_requests", (long)producers * requests);
        long elapsed = Stopwatch.GetTimestamp() - start;
        threads.Join();

        var all = samples.SelectMany(s => s).ToArray();
        Array.Sort(all);
        return new LatencyRun(
            Measure.Microseconds(Measure.Percentile(all, 50)),
            Measure.Microseconds(Measure.Percentile(all, 99)),
            Measure.Microseconds(all[^1]),
            all.Length / Measure.Seconds(elapsed),
            misreported);
    }
}
