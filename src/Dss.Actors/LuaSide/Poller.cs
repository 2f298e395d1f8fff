using Akka.Event;
using Debug = System.Diagnostics.Debug;
using DarkSideSync.Queueing;
using DarkSideSync.Engine;
using DarkSideSync.Deliveries;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// <c>poll()</c>: takes the oldest delivery and has its utility decode it onto the Lua stack.
/// Lua thread only.
/// </summary>
internal static class Poller
{
    /// <summary>
    /// Pushes poll()'s results and returns their count: -1; or the queue size; or size,
    /// callback, args. When the utility's decode raised a Lua error, arranges for poll to raise
    /// it (<see cref="RaiseOnReturn"/>) instead.
    /// </summary>
    public static int Poll(lua_State L, DssEngine engine, int waitingCallbackMetatable, int closeWatchMetatable)
    {
        var mailbox = engine.Mailbox;
        var gates = HookGate.OfCurrentThread;
        var delivery = Settlement.TakeOldest(mailbox, gates);
        if (delivery is null && engine.Notifier.IsCoalesced)
        {
            // Coalesced wake-ups: re-arm before the second look, so a delivery racing with
            // this poll either is seen now or sends the next datagram.
            engine.Notifier.Rearm();
            delivery = Settlement.TakeOldest(mailbox, gates);
        }
        if (delivery is null)
        {
            engine.QuietWakeFdIfEmpty();
            lua_pushinteger(L, -1);
            return 1;
        }
        int results;
        try
        {
            results = Collect(L, delivery, waitingCallbackMetatable, closeWatchMetatable);
        }
        finally
        {
            delivery.Owner.Gate.ExitHeld(gates); // may run a stop-DSS a hook deferred
        }
        // This take may have emptied the queue: getfd's fd goes quiet now, not one poll later.
        engine.QuietWakeFdIfEmpty();
        if (results == Raised)
        {
            return RaiseOnReturn.ArrangeTop(L);
        }
        if (!engine.IsRunning)
        {
            // A hook or a finalizer stopped DSS; the stop ran as the gate was left and
            // cancelled what was queued, so the count pushed under the gate is stale.
            lua_pushinteger(L, mailbox.Count);
            lua_replace(L, -results - 1);
        }
        return results;
    }

    // Collect's result when the decode hook raised a Lua error (its error object is on top).
    private const int Raised = -1;

    // Owner's gate held, delivery in state Decoding; leaves it in a final state or AwaitingAnswer.
    // Pushes poll's results (the count, and the callback and args if decode pushed any) and
    // returns how many, or Raised. The count is taken last, so it includes what decode delivered.
    private static int Collect(lua_State L, Delivery delivery, int waitingCallbackMetatable, int closeWatchMetatable)
    {
        var owner = delivery.Owner;
        Debug.Assert(owner.Gate.IsHeldByCurrentThread && delivery.State == DeliveryState.Decoding);
        // The queue as it was before this take, for the high-water mark (before decode adds to it).
        owner.Engine.Statistics.Observe(owner.Engine.Mailbox.Count + 1L);
        int top = lua_gettop(L);
        int pushed;
        try
        {
            if (!delivery.TryDecode(L, out pushed))
            {
                // That delivery ends here, as if cancelled: no further hook call for its data. The
                // error is not logged: poll raises it to the Lua code that called it.
                Settlement.AfterRaisingDecode(delivery);
                return Raised;
            }
            pushed = Math.Clamp(pushed, 0, Math.Max(0, lua_gettop(L) - top));
        }
        catch (Exception e)
        {
            owner.Engine.Log.Error(e, "The decode hook of utility {0} threw; the delivery ended.", owner.UtilId);
            lua_settop(L, top);
            delivery.Fail(e);
            Settlement.AfterRaisingDecode(delivery);
            lua_pushinteger(L, owner.Engine.Mailbox.Count);
            return 1;
        }

        if (!Settlement.AfterDecode(delivery, pushed))
        {
            lua_settop(L, top);
            lua_pushinteger(L, owner.Engine.Mailbox.Count);
            return 1;
        }

        // The decoded values are the top `pushed` values: callback first, then its arguments.
        // Lua guarantees a C function 20 free slots (LUA_MINSTACK); below we use up to 6 more
        // than decode did (count, callback, args, the waitingthread_callback, a close watch
        // and its metatable).
        if (pushed > 14)
        {
            lua_checkstack(L, 6);
        }
        int first = lua_gettop(L) - pushed + 1;
        lua_pushinteger(L, owner.Engine.Mailbox.Count);
        lua_pushvalue(L, first);
        bool waits = delivery.WaitsForAnswer;
        lua_createtable(L, pushed - 1 + (waits ? 1 : 0), 0);
        int next = 1;
        if (waits)
        {
            WaitingThreadCallback.Push(L, delivery, waitingCallbackMetatable);
            lua_rawseti(L, -2, next++);
            LuaBinding.RenewCloseWatch(L, closeWatchMetatable);
        }
        for (int i = first + 1; i < first + pushed; i++)
        {
            lua_pushvalue(L, i);
            lua_rawseti(L, -2, next++);
        }
        return 3;
    }
}
