using System.Diagnostics;

namespace DarkSideSync.Benchmarks;

/// <summary>Repetition and the little statistics the report needs.</summary>
internal static class Measure
{
    /// <summary>Runs <paramref name="run"/> <paramref name="warmups"/> times unrecorded (JIT tiers, pools, Lua's heap), then <paramref name="repetitions"/> times.</summary>
    public static T[] Repeat<T>(int warmups, int repetitions, Func<T> run)
    {
        for (int i = 0; i < warmups; i++)
        {
            run();
        }
        var results = new T[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            // Start each run from a clean heap, so one run does not pay for the last one's garbage.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            results[i] = run();
        }
        return results;
    }

    /// <summary>
    /// <see cref="Repeat"/> for two variants, alternating which runs first (a then b, then b then
    /// a, ...), so both see the same spells of load; the two runs of a pair are seconds apart.
    /// </summary>
    public static (T[] A, T[] B) RepeatPair<T>(int warmups, int repetitions, Func<T> a, Func<T> b)
    {
        for (int i = 0; i < warmups; i++)
        {
            a();
            b();
        }
        var first = new T[repetitions];
        var second = new T[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            bool[] order = i % 2 == 0 ? [true, false] : [false, true];
            foreach (bool runA in order)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                if (runA)
                {
                    first[i] = a();
                }
                else
                {
                    second[i] = b();
                }
            }
        }
        return (first, second);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Nearest-rank percentile of sorted values (p in 0..100).</summary>
    public static long Percentile(long[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static double Microseconds(long stopwatchTicks) => stopwatchTicks * 1e6 / Stopwatch.Frequency;

    public static double Seconds(long stopwatchTicks) => (double)stopwatchTicks / Stopwatch.Frequency;
}

/// <summary>
/// Dedicated producer threads that start together: each waits at a gate until
/// <see cref="Release"/>, so thread creation is never timed.
/// </summary>
internal sealed class ProducerThreads : IDisposable
{
    private readonly ManualResetEventSlim _gate = new(false);
    private readonly CountdownEvent _ready;
    private readonly Thread[] _threads;
    private long _allocatedBytes;

    public ProducerThreads(int count, Action<int> body)
    {
        _ready = new CountdownEvent(count);
        _threads = new Thread[count];
        for (int p = 0; p < count; p++)
        {
            int index = p;
            _threads[p] = new Thread(() =>
            {
                _ready.Signal();
                _gate.Wait();
                try
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    body(index);
                    Interlocked.Add(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread() - before);
                }
                catch (Exception e)
                {
                    // The Lua loop would wait forever for the missing items: stop the program.
                    Console.Error.WriteLine($"producer {index} failed: {e}");
                    Environment.Exit(2);
                }
            })
            { IsBackground = true, Name = $"producer-{p}" };
            _threads[p].Start();
        }
        _ready.Wait();
    }

    /// <summary>Lets every producer go; returns the Stopwatch timestamp of that moment.</summary>
    public long Release()
    {
        long now = Stopwatch.GetTimestamp();
        _gate.Set();
        return now;
    }

    public void Join()
    {
        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }

    /// <summary>After <see cref="Join"/>: what the producers' bodies allocated on the managed heap, all threads together.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    public void Dispose()
    {
        _gate.Dispose();
        _ready.Dispose();
    }
}
