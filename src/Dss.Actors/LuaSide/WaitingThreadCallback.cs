using Akka.Event;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DarkSideSync.Deliveries;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// The waitingthread_callback: a userdata handed to Lua as <c>args[1]</c> of a blocking delivery.
/// Calling it hands Lua's answer to the utility's return hook and releases the producer;
/// collecting it uncalled does the same with <c>garbage = true</c>. It acts at most once.
/// </summary>
/// <remarks>The userdata holds one GCHandle to the delivery, zeroed when it has acted.</remarks>
internal static unsafe class WaitingThreadCallback
{
    private static ReadOnlySpan<byte> MetatableName => "DSS.WaitingThreadCallback\0"u8;

    /// <summary>Lua thread: pushes the metatable of these userdata (created on first use per state).</summary>
    /// <remarks>
    /// getmetatable() on a callback returns a stand-in (<c>__metatable</c>) that has <c>__call</c>
    /// too, so the usual callable checks (<c>getmetatable(f).__call</c>, Penlight's
    /// is_callable) see a callable; changing the stand-in changes nothing, so Lua code
    /// cannot take away the <c>__gc</c> that releases a producer.
    /// </remarks>
    public static void PushMetatable(lua_State L)
    {
        if (luaL_newmetatable(L, MetatableName))
        {
            lua_pushcclosure(L, &Call, 0);
            lua_setfield(L, -2, "__call\0"u8);
            lua_pushcclosure(L, &Collect, 0);
            lua_setfield(L, -2, "__gc\0"u8);
            lua_createtable(L, 0, 2);
            lua_pushcclosure(L, &CallThroughStandIn, 0);
            lua_setfield(L, -2, "__call\0"u8);
            lua_pushstring(L, MetatableName[..^1]);
            lua_setfield(L, -2, "__name\0"u8);
            lua_setfield(L, -2, "__metatable\0"u8);
        }
    }

    /// <summary>Lua thread: pushes a new callback for <paramref name="delivery"/>; the metatable is at <paramref name="metatableIndex"/>.</summary>
    public static void Push(lua_State L, Delivery delivery, int metatableIndex)
    {
        var slot = (nint*)lua_newuserdatauv(L, (nuint)sizeof(nint), 0);
        *slot = GCHandle.ToIntPtr(GCHandle.Alloc(delivery));
        lua_pushvalue(L, metatableIndex);
        lua_setmetatable(L, -2);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Call(lua_State L) => CallWithAnswer(L);

    // The stand-in's __call: Lua code may call it with anything as argument 1, not only a
    // callback (only the real metatable's __call is sure to get one of ours).
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CallThroughStandIn(lua_State L)
    {
        try
        {
            return luaL_testudata(L, 1, MetatableName) is null ? 0 : CallWithAnswer(L);
        }
        catch (Exception)
        {
            return 0;
        }
    }

    // Argument 1 is a waitingthread_callback, the rest Lua's answer. Never throws.
    private static int CallWithAnswer(lua_State L)
    {
        try
        {
            if (Take(L) is not { } delivery)
            {
                return 0;
            }
            // Drop the userdata itself: the utility sees only the values Lua passed.
            lua_rotate(L, 1, -1);
            lua_pop(L, 1);
            int results = Answer(L, delivery, garbage: false, out bool raised);
            return raised ? RaiseOnReturn.ArrangeTop(L) : results; // a raising return hook: args[1](...) raises
        }
        catch (Exception)
        {
            return 0; // never unwind through Lua; Answer has logged what it could
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Collect(lua_State L)
    {
        try
        {
            if (Take(L) is { } delivery)
            {
                lua_settop(L, 0);
                Answer(L, delivery, garbage: true, out _); // a finalizer has nobody to raise to
            }
        }
        catch (Exception)
        {
            // A finalizer has nobody to report to; Answer has logged what it could.
        }
        return 0;
    }

    // Empties the userdata's slot, so the callback acts once only.
    private static Delivery? Take(lua_State L)
    {
        var slot = (nint*)lua_touserdata(L, 1);
        if (slot is null || *slot == 0)
        {
            return null;
        }
        var handle = GCHandle.FromIntPtr(*slot);
        *slot = 0;
        var delivery = (Delivery?)handle.Target;
        handle.Free();
        return delivery;
    }

    // Returns how many values on top go back to Lua. raised: the return hook raised a Lua
    // error, whose object is on top; the delivery ended there, as if cancelled.
    private static int Answer(lua_State L, Delivery delivery, bool garbage, out bool raised)
    {
        var owner = delivery.Owner;
        int results;
        raised = false;
        bool threw = false;
        using (owner.Gate.Enter())
        {
            if (!delivery.TryMove(DeliveryState.AwaitingAnswer, DeliveryState.Answering))
            {
                return 0; // cancelled already (unregister, stop-DSS, or the producer's timeout)
            }
            owner.StopAwaiting(delivery);
            int top = lua_gettop(L);
            try
            {
                raised = !delivery.TryAnswer(L, garbage, out results);
                results = raised ? 0 : Math.Clamp(results, 0, lua_gettop(L));
            }
            catch (Exception e)
            {
                owner.Engine.Log.Error(e, "The return hook of utility {0} threw; the delivery ended without an answer.", owner.UtilId);
                lua_settop(L, top);
                delivery.Fail(e);
                results = 0;
                threw = true;
            }
            bool ended = raised || threw;
            delivery.TryMove(DeliveryState.Answering, ended ? DeliveryState.Cancelled : DeliveryState.Completed);
            if (ended)
            {
                owner.Engine.Statistics.Cancelled();
            }
            else
            {
                owner.Engine.Statistics.Completed();
            }
            // Before the gate is left: a stop-DSS that the hook deferred runs as it is left,
            // and may wait for a cancel hook that waits for this producer.
            delivery.Release();
        }
        return results;
    }
}
