using System.Collections.Concurrent;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// Threads a test starts itself (producers, unregisterers, thread-pool callbacks). An exception
/// or a failed assertion on one of them is recorded, not left to crash the test host, and
/// <see cref="Join"/> rethrows it on the test thread, so it fails the test that caused it.
/// </summary>
public sealed class RawThreads
{
    private readonly ConcurrentQueue<(string Thread, Exception Error)> _failures = new();
    private readonly List<Thread> _threads = [];

    /// <summary>Starts a background thread running <paramref name="body"/>.</summary>
    public Thread Start(string name, Action body)
    {
        var guarded = Guard(name, body);
        var thread = new Thread(() => guarded()) { IsBackground = true, Name = name };
        lock (_threads)
        {
            _threads.Add(thread);
        }
        thread.Start();
        return thread;
    }

    /// <summary>Starts <paramref name="count"/> threads named <c>name-0</c>..; each runs <paramref name="body"/> with its index.</summary>
    public void Start(int count, string name, Action<int> body)
    {
        for (int i = 0; i < count; i++)
        {
            int index = i;
            Start($"{name}-{index}", () => body(index));
        }
    }

    /// <summary>Wraps <paramref name="body"/> for a thread the test does not own (the thread pool, a timer).</summary>
    public Action Guard(string name, Action body) => () =>
    {
        try
        {
            body();
        }
        catch (Exception e)
        {
            _failures.Enqueue((name, e));
        }
    };

    /// <summary>Test thread: fails when a thread is still running after <paramref name="within"/>, then rethrows what any thread recorded.</summary>
    public void Join(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        Thread[] threads;
        lock (_threads)
        {
            threads = [.. _threads];
        }
        var stuck = threads.Where(t => !t.Join(Max(deadline - DateTime.UtcNow, TimeSpan.Zero))).Select(t => t.Name).ToList();
        ThrowIfFailed();
        if (stuck.Count > 0)
        {
            throw new TimeoutException($"{stuck.Count} thread(s) still running after {within.TotalSeconds:0.#} s: {string.Join(", ", stuck)}");
        }
    }

    /// <summary>Test thread: rethrows the failures recorded so far, if any.</summary>
    public void ThrowIfFailed()
    {
        if (!_failures.IsEmpty)
        {
            var failures = _failures.ToArray();
            throw new AggregateException(
                $"{failures.Length} failure(s) on raw threads; first on '{failures[0].Thread}': {failures[0].Error.Message}",
                failures.Select(f => f.Error));
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
