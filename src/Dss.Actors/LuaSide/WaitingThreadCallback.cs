using Akka.Event;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DarkSideSync.Engine.Deliveries;
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
    public static void PushMetatable(lua_State L)
    {
        if (luaL_newmetatable(L, MetatableName))
        {
            lua_pushcclosure(L, &Call, 0);
            lua_setfield(L, -2, "__call\0"u8);
            lua_pushcclosure(L, &Collect, 0);
            lua_setfield(L, -2, "__gc\0"u8);
            lua_pushboolean(L, 0);
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
    private static int Call(lua_State L)
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
            return Answer(L, delivery, garbage: false);
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
                Answer(L, delivery, garbage: true);
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

    private static int Answer(lua_State L, Delivery delivery, bool garbage)
    {
        var owner = delivery.Owner;
        int results = 0;
        lock (owner.Gate)
        {
            if (!delivery.TryMove(DeliveryState.AwaitingAnswer, DeliveryState.Answering))
            {
                return 0; // cancelled already (unregister, stop-DSS, or the producer's timeout)
            }
            owner.StopAwaiting(delivery);
            int top = lua_gettop(L);
            try
            {
                results = Math.Clamp(delivery.Answer(L, garbage), 0, lua_gettop(L));
            }
            catch (Exception e)
            {
                owner.Engine.Log.Error(e, "The return hook of utility {0} threw; the delivery ended without an answer.", owner.UtilId);
                lua_settop(L, top);
                delivery.Fail(e);
                results = 0;
            }
            delivery.TryMove(DeliveryState.Answering, DeliveryState.Completed);
        }
        // Outside the gate: the released producer may deliver again at once.
        delivery.Release();
        return results;
    }
}
