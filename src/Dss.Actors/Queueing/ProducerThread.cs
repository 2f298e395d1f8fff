namespace DarkSideSync.Queueing;

/// <summary>
/// What a producer thread keeps for itself, looked up once per delivery (a thread-static read
/// is a call in a shared library, so there is one, holding everything): its stripe of the
/// <see cref="StripedCounter"/>s, and its cache of recycled delivery nodes.
/// </summary>
internal sealed class ProducerThread
{
    /// <summary>Stripes per counter: a power of two, at least the processor count, at most 64.</summary>
    public static readonly int StripeCount = (int)Math.Min(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, Environment.ProcessorCount)));

    private static int _lastStripe;

    [ThreadStatic]
    private static ProducerThread? t_current;

    private ProducerThread() => Stripe = Interlocked.Increment(ref _lastStripe) & (StripeCount - 1);

    /// <summary>The current thread's.</summary>
    public static ProducerThread Current => t_current ??= new ProducerThread();

    /// <summary>This thread's stripe: threads take them in turn, so up to StripeCount producers never share one.</summary>
    public int Stripe { get; }

    /// <summary>Recycled nodes, a chain per pool (indexed by its id), for this thread's next deliveries (see <see cref="Deliveries.DeliveryPool"/>).</summary>
    public FreeChain[] FreeNodes = new FreeChain[4];

    /// <summary>A chain head in a struct: storing it into the array needs no covariance check.</summary>
    public struct FreeChain
    {
        public Deliveries.Delivery? Head;
    }
}
