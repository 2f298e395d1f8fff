using System.Collections.Concurrent;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A real OS thread making blocking <c>deliver</c> calls, as a C utility's worker does.
/// Background, so a failing test cannot keep the test process alive.
/// </summary>
internal sealed class CApiProducer
{
    private readonly Thread _thread;
    private int _status;
    private Exception? _failure; // what the thread threw; rethrown on the test thread by Join

    private CApiProducer(string name, Func<CApiProducer, int> deliver)
    {
        _thread = new Thread(() =>
        {
            try
            {
                Volatile.Write(ref _status, deliver(this));
            }
            catch (Exception e)
            {
                _failure = e;
            }
        }) { IsBackground = true, Name = "C producer " + name };
        _thread.Start();
    }

    /// <summary>One blocking deliver of <paramref name="item"/>.</summary>
    public static CApiProducer Start(CApi api, nint utilId, CApiItem item) =>
        new(item.Name, _ => api.Deliver(utilId, item));

    /// <summary>Blocking delivers of new items named <c>name.N</c> until deliver refuses one; <see cref="Delivered"/> lists the accepted ones.</summary>
    public static CApiProducer StartRepeating(CApi api, nint utilId, CApiLog log, string name) =>
        new(name, self =>
        {
            for (int i = 0; ; i++)
            {
                var item = new CApiItem(log, $"{name}.{i}", [i], blocking: true);
                int status = api.Deliver(utilId, item);
                if (status != (int)DssStatus.Success)
                {
                    self.Refused = item;
                    return status;
                }
                self.Delivered.Enqueue(item);
            }
        });

    /// <summary>What the (last) deliver returned; valid once <see cref="Join"/> returned true.</summary>
    public DssStatus Status => (DssStatus)Volatile.Read(ref _status);

    public ConcurrentQueue<CApiItem> Delivered { get; } = new();

    public CApiItem? Refused { get; private set; }

    /// <summary>True when the thread's deliver calls returned within <paramref name="timeout"/>; rethrows what the thread threw.</summary>
    public bool Join(TimeSpan timeout)
    {
        bool ended = _thread.Join(timeout);
        if (_failure is { } failure)
        {
            throw new InvalidOperationException($"The producer thread {_thread.Name} failed: {failure.Message}", failure);
        }
        return ended;
    }
}
