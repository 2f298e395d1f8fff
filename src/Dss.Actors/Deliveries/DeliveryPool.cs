using DarkSideSync.Queueing;

namespace DarkSideSync.Deliveries;

/// <summary>
/// Recycled nodes of one kind of non-blocking delivery, so that in steady state a delivery
/// allocates nothing on the managed heap (no garbage, no GC pauses, however fast producers go).
/// </summary>
/// <remarks>
/// Nodes flow in a circle: a producer takes one from its own thread's chain
/// (<see cref="ProducerThread.FreeNodes"/>, no atomic operation); the Lua thread hands finished
/// ones back in batches of up to 64 (<see cref="Mailbox"/> retires them once no snapshot of the
/// queue can reach them), pushed on a stack of batches; a producer whose chain ran dry takes
/// one batch. It takes the whole stack with one exchange and puts the other batches back with
/// a second: exchanges, never a pop of a single element, so the stack is free of the ABA
/// problem although its nodes are reused, and it stays empty only between two instructions.
/// A producer that finds nothing allocates: the pool grows to the most deliveries ever in
/// flight, no further.
/// </remarks>
internal sealed class DeliveryPool
{
    private static int _lastId = -1;

    private readonly int _id = Interlocked.Increment(ref _lastId);
    private Delivery? _batches; // the stack: batch heads linked by NextBatch, each batch a chain through NextFree

    /// <summary>The pool of <typeparamref name="T"/> nodes.</summary>
    public static DeliveryPool Of<T>() where T : Delivery => PoolOf<T>.Instance;

    /// <summary>Producer thread: a recycled node, or null (then allocate one).</summary>
    public Delivery? TryRent(ProducerThread thread)
    {
        var chains = thread.FreeNodes;
        if (_id >= chains.Length)
        {
            Array.Resize(ref thread.FreeNodes, Math.Max(_id + 1, chains.Length * 2));
            chains = thread.FreeNodes;
        }
        ref var chain = ref chains[_id].Head;
        var node = chain ?? TakeBatch();
        if (node is null)
        {
            return null;
        }
        chain = node.NextFree;
        node.NextFree = null;
        return node;
    }

    private Delivery? TakeBatch()
    {
        var batch = Interlocked.Exchange(ref _batches, null);
        if (batch is null)
        {
            return null;
        }
        var rest = batch.NextBatch;
        batch.NextBatch = null;
        if (rest is not null && Interlocked.Exchange(ref _batches, rest) is { } meanwhile)
        {
            // Batches handed back between the two exchanges: push them again (a push is ABA-free).
            var bottom = meanwhile;
            while (bottom.NextBatch is { } below)
            {
                bottom = below;
            }
            Push(meanwhile, bottom);
        }
        return batch;
    }

    /// <summary>Lua thread: hands back one batch, the chain <paramref name="first"/> .. <paramref name="last"/> (linked through NextFree).</summary>
    public void Return(Delivery first, Delivery last)
    {
        last.NextFree = null;
        Push(first, first);
    }

    // Pushes the batches top .. bottom (linked through NextBatch) onto the stack.
    private void Push(Delivery top, Delivery bottom)
    {
        var head = Volatile.Read(ref _batches);
        while (true)
        {
            bottom.NextBatch = head;
            var seen = Interlocked.CompareExchange(ref _batches, top, head);
            if (seen == head)
            {
                return;
            }
            head = seen;
        }
    }

    private static class PoolOf<T>
    {
        public static readonly DeliveryPool Instance = new();
    }
}
