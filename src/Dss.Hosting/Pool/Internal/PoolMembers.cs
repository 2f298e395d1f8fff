namespace DarkSideSync.Hosting.Pool.Internal;

/// <summary>
/// The running states of a pool, by index, shared by its actors (which set them) and the
/// <see cref="LuaPool"/> façade (which routes calls straight to them, without an actor hop).
/// Thread-safe: slots are swapped whole.
/// </summary>
internal sealed class PoolMembers(int size)
{
    private readonly HostedLuaState?[] _states = new HostedLuaState?[size];
    private int _next;

    public int Size => _states.Length;

    /// <summary>Completes once every state started for the first time; fails with the first start-up error.</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HostedLuaState? this[int index] => Volatile.Read(ref _states[index]);

    /// <summary>Puts a started state in its slot (null: none now); returns the one it replaced.</summary>
    public HostedLuaState? Set(int index, HostedLuaState? state) => Interlocked.Exchange(ref _states[index], state);

    /// <summary>Clears the slot only if it still holds <paramref name="state"/>.</summary>
    public void Clear(int index, HostedLuaState state) => Interlocked.CompareExchange(ref _states[index], null, state);

    /// <summary>The slot a key always maps to (FNV-1a of its UTF-16: the same in every process).</summary>
    public int IndexOf(string key)
    {
        uint hash = 2166136261;
        foreach (char c in key)
        {
            hash = (hash ^ c) * 16777619;
        }
        return (int)(hash % (uint)_states.Length);
    }

    /// <summary>A running state for a call without a key, or -1 when none runs.</summary>
    public int Pick(LuaRouting routing)
    {
        int size = _states.Length;
        int start = (int)((uint)Interlocked.Increment(ref _next) % (uint)size);
        int best = -1;
        for (int i = 0; i < size; i++)
        {
            int index = (start + i) % size;
            if (this[index] is null)
            {
                continue;
            }
            if (routing == LuaRouting.RoundRobin)
            {
                return index;
            }
            // Each state counts its own outstanding calls, whether they came through the façade or an actor.
            if (best < 0 || this[index]!.Outstanding < this[best]?.Outstanding)
            {
                best = index;
            }
        }
        return best;
    }


    /// <summary>True when every slot holds a running state.</summary>
    public bool AllRunning
    {
        get
        {
            for (int i = 0; i < _states.Length; i++)
            {
                if (this[i] is null)
                {
                    return false;
                }
            }
            return true;
        }
    }
}
