using System.Runtime.InteropServices;
using DarkSideSync.Interop;

namespace DarkSideSync.Queueing;

/// <summary>
/// The file descriptor of <c>darksidesync.getfd()</c>: readable whenever deliveries are
/// queued, level-triggered, for luv, cqueues, Copas or any poll(2) loop. One per Lua state,
/// from the first getfd() until the state closes; every engine of the state posts through it.
/// </summary>
/// <remarks>
/// Producers make it readable only on a change from empty to non-empty: the first one to
/// find it <see cref="Clear"/> takes the write, every other one reads one int and goes on.
/// The Lua thread makes it unreadable when a poll or dispatch leaves the queue empty, then
/// looks at the queue once more, so an item posted meanwhile (whose producer saw the fd still
/// readable and did not write) makes it readable again: no wake-up is ever missed. Each side
/// changes the state with a full fence before it reads what the other side wrote (the
/// producers' post adds to its counter with Interlocked), so one of the two always sees the other.
/// A wake-up with nothing queued is possible, once: a producer between its claim and its write
/// when the Lua thread empties the queue; the next look at the empty queue clears it.
/// </remarks>
internal sealed class WakeFd : IDisposable
{
    private const int Clear = 0;      // unreadable; the next post writes
    private const int Signalling = 1; // one thread is writing; only it leaves this state
    private const int Readable = 2;   // written; only a Lua-side clear leaves this state
    private const int Closed = 3;     // the state closed; final

    private int _state = Clear;

    private WakeFd(int fd) => Fd = fd;

    /// <summary>The descriptor; DSS's own: Lua must not read or close it.</summary>
    public int Fd { get; }

    /// <summary>The engine that posts through it now (the state's latest): only it may clear the fd when its stop finishes.</summary>
    public object? Owner { get; set; }

    /// <exception cref="IOException">The system refused an eventfd (out of descriptors).</exception>
    public static WakeFd Open()
    {
        int fd = WakeFdCalls.dss_wakefd_open();
        return fd >= 0 ? new WakeFd(fd) : throw new IOException("eventfd failed: " + Marshal.GetPInvokeErrorMessage(-fd));
    }

    /// <summary>Any producer thread, right after its post counted. Never throws; a system call only when the fd was unreadable.</summary>
    public void AfterPost()
    {
        if (Volatile.Read(ref _state) == Clear)
        {
            Signal();
        }
    }

    /// <summary>Any thread, after a fence: makes the fd readable if something is queued (a new fd, a new engine).</summary>
    public void SignalIfQueued(Mailbox mailbox)
    {
        Interlocked.MemoryBarrier();
        if (mailbox.Count > 0)
        {
            Signal();
        }
    }

    /// <summary>
    /// Lua thread, when a poll or dispatch may have left <paramref name="mailbox"/> (the
    /// current engine's) empty: makes the fd unreadable if it is. Costs one read while the fd
    /// is not readable; a system call only on the change from non-empty to empty.
    /// </summary>
    public void ClearIfEmpty(Mailbox mailbox)
    {
        // Signalling: readable in a moment; the next look at an empty queue clears it.
        if (Volatile.Read(ref _state) != Readable || mailbox.Count != 0)
        {
            return;
        }
        WakeFdCalls.dss_wakefd_clear(Fd);
        if (Interlocked.CompareExchange(ref _state, Clear, Readable) == Readable && mailbox.Count > 0)
        {
            Signal(); // posted between the look and the clear
        }
    }

    private void Signal()
    {
        if (Interlocked.CompareExchange(ref _state, Signalling, Clear) != Clear)
        {
            return; // another thread writes, or it is readable already, or closed
        }
        WakeFdCalls.dss_wakefd_signal(Fd);
        Volatile.Write(ref _state, Readable);
    }

    /// <summary>Lua thread, as the state closes: closes the fd once no producer is writing to it; later posts leave it alone.</summary>
    public void Dispose()
    {
        var spin = new SpinWait();
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Closed)
            {
                return;
            }
            if (state != Signalling && Interlocked.CompareExchange(ref _state, Closed, state) == state)
            {
                break;
            }
            spin.SpinOnce(); // a write in progress: one system call
        }
        WakeFdCalls.dss_wakefd_close(Fd);
    }
}
