using KeraLua;

namespace DarkSideSync.Sample;

/// <summary>
/// A C# utility that gives Lua <c>timer.every(milliseconds, count, callback)</c>: a
/// <see cref="PeriodicTimer"/> on the thread pool delivers each tick and goes on at once,
/// without waiting for Lua. Lua's <c>callback(n, count)</c> runs when Lua drains its queue.
/// </summary>
/// <remarks>This sample has one Lua state, so the registration is a static.</remarks>
internal static class TimerUtility
{
    private static readonly object LibraryId = new();

    // Lua keeps only a native pointer to the delegate; this field keeps the GC from collecting it.
    private static readonly LuaFunction EveryFunction = Every;

    private static readonly CancellationTokenSource Stopping = new(); // cancelled when DSS cancels the utility
    private static readonly List<Task> Timers = [];                    // every timer started; guarded by itself
    private static DssUtility? _utility;                                // set once, on the Lua thread, by Install
    private static int _ticksDelivered;

    public static int TicksDelivered => Volatile.Read(ref _ticksDelivered);

    /// <summary>Lua thread, after <c>require "darksidesync"</c>: registers with DSS and sets the global <c>timer</c>.</summary>
    public static void Install(Lua lua)
    {
        var status = DssUtility.Register(lua.Handle, LibraryId, Cancel, out _utility);
        if (status != DssStatus.Success)
        {
            throw new InvalidOperationException($"DSS refused the timer utility: {status}.");
        }
        lua.NewTable();
        lua.PushCFunction(EveryFunction);
        lua.SetField(-2, "every");
        lua.SetGlobal("timer");
    }

    /// <summary>Completes when every timer has stopped (all ticks delivered, or DSS cancelled them).</summary>
    public static Task WhenStopped()
    {
        lock (Timers)
        {
            return Task.WhenAll(Timers);
        }
    }

    // Stop-DSS calls this on an actor's thread: stop ticking, then leave, as the spec asks.
    private static void Cancel(DssUtility utility)
    {
        Stopping.Cancel();
        utility.Unregister();
    }

    // Lua thread. Bad arguments are returned as (nil, message), never raised: a Lua error
    // would longjmp through this C# frame.
    private static int Every(nint state)
    {
        var lua = Lua.FromIntPtr(state);
        long? milliseconds = lua.ToIntegerX(1);
        long? count = lua.ToIntegerX(2);
        if (milliseconds is not > 0 || count is not > 0 || !lua.IsFunction(3) || _utility is not { } utility)
        {
            lua.PushNil();
            lua.PushString("usage: timer.every(milliseconds > 0, count > 0, callback)");
            return 2;
        }
        lua.PushCopy(3);
        var callback = new LuaReference(lua.Ref(LuaRegistry.Index));
        lock (Timers)
        {
            Timers.Add(TickAsync(utility, TimeSpan.FromMilliseconds(milliseconds.Value), count.Value, callback));
        }
        lua.PushBoolean(true);
        return 1;
    }

    private static async Task TickAsync(DssUtility utility, TimeSpan period, long count, LuaReference callback)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            for (long n = 1; n <= count; n++)
            {
                await timer.WaitForNextTickAsync(Stopping.Token).ConfigureAwait(false);
                if (!utility.Deliver(new Tick(callback, n, count), Decode).IsDelivered())
                {
                    return; // unregistered: nobody would ever see the ticks
                }
                Interlocked.Increment(ref _ticksDelivered);
            }
        }
        catch (OperationCanceledException)
        {
            // DSS cancelled the utility; the callback stays in the registry until the state closes.
        }
    }

    // Lua thread, inside poll(): the callback and its arguments.
    private static int Decode(LuaStack lua, Tick tick)
    {
        lua.Push(tick.Callback);
        if (tick.Number == tick.Count)
        {
            lua.Release(tick.Callback); // the last tick: the copy on the stack is all Lua needs now
        }
        lua.PushInteger(tick.Number);
        lua.PushInteger(tick.Count);
        return 3;
    }

    private readonly record struct Tick(LuaReference Callback, long Number, long Count);
}
