namespace DarkSideSync.Engine;

/// <summary>
/// Process-wide map from utilid to registration. A C utility's utilid is a number, never a
/// pointer, so a bogus or stale utilid is looked up and refused instead of dereferenced.
/// Ids are never reused: after stop and start, old utilids stay invalid.
/// </summary>
/// <remarks>
/// Ids are 1, 2, 3, ...: the table is an array indexed by id, so the lookup every delivery
/// makes is a bounds check and a load. Writers (registration, unregister; rare) take a lock
/// and publish a grown array whole; readers never lock. Its size is the number of
/// registrations ever made, 16 bytes each: a utilid that is gone still names the statistics
/// of its Lua state, so a delivery refused after an unregister or a stop is counted there.
/// </remarks>
internal static class UtilityTable
{
    private static readonly Lock Writers = new();
    private static Registration?[] _slots = new Registration?[64]; // index = utilid; replaced whole when it grows
    private static Queueing.DeliveryStatistics?[] _gone = new Queueing.DeliveryStatistics?[64]; // index = utilid of a removed registration; guarded by Writers
    private static long _lastId;

    public static nint NextId() => (nint)Interlocked.Increment(ref _lastId);

    public static void Add(Registration registration)
    {
        lock (Writers)
        {
            var slots = _slots;
            long id = registration.UtilId;
            if (id >= slots.Length)
            {
                Array.Resize(ref slots, (int)Math.Max(id + 1, slots.Length * 2L));
            }
            Volatile.Write(ref slots[id], registration);
            Volatile.Write(ref _slots, slots);
        }
    }

    public static void Remove(Registration registration)
    {
        lock (Writers)
        {
            long id = registration.UtilId;
            if (id < _slots.Length)
            {
                Volatile.Write(ref _slots[id], null);
            }
            if (id >= _gone.Length)
            {
                Array.Resize(ref _gone, (int)Math.Max(id + 1, _gone.Length * 2L));
            }
            _gone[id] = registration.Engine.Statistics;
        }
    }

    /// <summary>Lua thread, as a state closes: its statistics are read no more, so utilids that are gone stop naming them.</summary>
    public static void ForgetGone(Queueing.DeliveryStatistics statistics)
    {
        lock (Writers)
        {
            for (int i = 0; i < _gone.Length; i++)
            {
                if (_gone[i] == statistics)
                {
                    _gone[i] = null;
                }
            }
        }
    }

    /// <summary>Any thread, off the hot path: counts a refused delivery to a utilid that is gone, in its state's statistics (an unknown one: nowhere).</summary>
    public static void RefusedForGone(nint utilId)
    {
        lock (Writers)
        {
            if ((nuint)utilId < (nuint)_gone.Length)
            {
                _gone[utilId]?.Refused();
            }
        }
    }

    /// <summary>Any thread, no lock: the registration of a utilid, or null for one that is unknown or gone.</summary>
    public static Registration? Find(nint utilId)
    {
        var slots = Volatile.Read(ref _slots);
        return (nuint)utilId < (nuint)slots.Length ? Volatile.Read(ref slots[utilId]) : null;
    }
}
