using System.Runtime.InteropServices;

namespace DarkSideSync.Queueing;

/// <summary>
/// A counter that many producer threads change at once without fighting over one cache line:
/// each thread adds to its own stripe (<see cref="ProducerThread.Stripe"/>), and a read sums
/// the stripes. For counters written on every delivery and read rarely (by the Lua thread,
/// an unregister, or <c>stats()</c>).
/// </summary>
/// <remarks>
/// A sum is a moment's view, not a snapshot: stripes are read one after another. It is exact
/// for a counter that only grows, once its writers are done. A thread that adds and later
/// subtracts must use the same stripe both times (keep the one <see cref="Add(long)"/> returned),
/// so no stripe ever goes below zero and a sum of 0 means nobody is in between.
/// </remarks>
internal sealed class StripedCounter
{
    private readonly Stripe[] _stripes = new Stripe[ProducerThread.StripeCount];

    /// <summary>Adds <paramref name="delta"/> to the current thread's stripe; returns that stripe.</summary>
    public int Add(long delta)
    {
        int stripe = ProducerThread.Current.Stripe;
        Interlocked.Add(ref _stripes[stripe].Value, delta);
        return stripe;
    }

    /// <summary>Adds <paramref name="delta"/> to <paramref name="stripe"/>: one <see cref="Add(long)"/> returned, or the current thread's (<see cref="Deliveries.Delivery.Stripe"/>).</summary>
    public void Add(int stripe, long delta) => Interlocked.Add(ref _stripes[stripe].Value, delta);

    /// <summary>The sum of the stripes, each read once (volatile).</summary>
    public long Sum
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _stripes.Length; i++)
            {
                sum += Volatile.Read(ref _stripes[i].Value);
            }
            return sum;
        }
    }

    // One cache line (and its neighbour, which the prefetcher pulls in) per stripe.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Stripe
    {
        [FieldOffset(0)]
        public long Value;
    }
}
