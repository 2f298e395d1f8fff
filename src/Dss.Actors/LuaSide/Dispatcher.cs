using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Event;
using DarkSideSync.Deliveries;
using DarkSideSync.Engine;
using Debug = System.Diagnostics.Debug;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// The engine's side of <c>darksidesync.dispatch</c>, whose loop is C (Interop/dispatch_loop.c):
/// the loop calls these to take each delivery and settle it, and calls the decode hooks and
/// callbacks itself, so a Lua error never longjmps over a .NET frame. Lua thread only.
/// </summary>
/// <remarks>
/// One per state (it lives in the <see cref="LuaBinding"/>). A C utility's decode runs between
/// <see cref="Take"/> and <see cref="Settle"/> (or <see cref="Abandon"/> when it raised), with its
/// gate held across those calls: <see cref="_decoding"/> is that delivery.
/// </remarks>
internal sealed unsafe class Dispatcher
{
    // Values of take and settle besides a value count (dispatch_loop.c).
    private const int TakeEnd = -1, TakeDecode = -2;

    private Delivery? _decoding; // the delivery whose C decode runs now; its owner's gate is held
    private HookGate.ThreadGates? _luaThreadGates; // the Lua thread's, looked up once per dispatch call

    /// <summary>The functions the C loop calls (dispatch_loop.c's dss_dispatch_engine, field for field).</summary>
    public static Engine EngineFunctions => new()
    {
        Begin = &Begin,
        Take = &Take,
        Settle = &Settle,
        Abandon = &Abandon,
        Finish = &Finish,
    };

    /// <summary>Lua thread: pushes darksidesync.dispatch, a closure over the binding at <paramref name="binding"/> and the metatables.</summary>
    public static void PushFunction(lua_State L, int binding, int waitingCallbackMetatable, int closeWatchMetatable)
    {
        lua_pushvalue(L, binding);
        PushDefaultErrorHandler(L);
        lua_pushvalue(L, waitingCallbackMetatable);
        lua_pushvalue(L, closeWatchMetatable);
        lua_pushcclosure(L, (delegate* unmanaged[Cdecl]<lua_State, int>)Interop.HookCalls.DispatchRunFunction, 2);
        lua_pushcclosure(L, (delegate* unmanaged[Cdecl]<lua_State, int>)Interop.HookCalls.DispatchFunction, 3);
    }

    // As an xpcall message handler it runs where the error was raised, so the traceback shows the callback.
    private static ReadOnlySpan<byte> DefaultErrorHandler =>
        """
        local tostring, traceback = tostring, debug.traceback
        return function(err)
          io.stderr:write(traceback("darksidesync: error in a callback: " .. tostring(err), 2), "\n")
        end
        """u8;

    private static void PushDefaultErrorHandler(lua_State L)
    {
        if (luaL_loadbuffer(L, DefaultErrorHandler, "=darksidesync\0"u8) != LUA_OK || lua_pcall(L, 0, 1) != LUA_OK)
        {
            throw new InvalidOperationException("darksidesync: the default error handler failed to load: " + lua_tostring(L, -1));
        }
    }

    // In dispatch's own frame (its upvalues are ours): the arguments, the call's bounds, the handler.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Begin(lua_State L, Call* call)
    {
        try
        {
            var slot = (nint*)lua_touserdata(L, lua_upvalueindex(1));
            if (LuaBinding.FromUpvalue(L) is not { Engine: { } engine } binding)
            {
                return Refuse(L, LuaFunctions.NotStarted);
            }
            if (LuaArguments.CheckOptionalCount(L, 1, "dispatch", out long max) is { } badMax)
            {
                return Refuse(L, badMax);
            }
            int handler = lua_type(L, 2);
            if (handler > LUA_TNIL && handler != LUA_TFUNCTION)
            {
                return Refuse(L, $"bad argument #2 to 'dispatch' (function expected, got {LuaArguments.TypeName(L, 2)})");
            }
            lua_pushvalue(L, handler == LUA_TFUNCTION ? 2 : lua_upvalueindex(2));
            call->Binding = *slot;
            binding.Dispatcher._luaThreadGates = HookGate.OfCurrentThread;
            // Until Finish: a delivery this thread makes that would wait (from a callback) is refused.
            binding.LuaThread.EnterHeld();
            call->Epoch = binding.Stops;
            call->Max = (int)Math.Min(int.MaxValue, max > 0 ? max : SizeRearmedWhenEmpty(engine));
            return 0;
        }
        catch (Exception e)
        {
            return Refuse(L, "darksidesync: " + e.Message);
        }
    }

    // The queue size; an empty queue re-arms coalesced wake-ups, as poll does when it finds
    // nothing (so a caller that dispatches until nothing remains never strands an item), and
    // makes getfd's fd unreadable.
    private static int SizeRearmedWhenEmpty(DssEngine engine)
    {
        int size = engine.Mailbox.Count;
        if (size == 0 && engine.Notifier.IsCoalesced)
        {
            engine.Notifier.Rearm();
            size = engine.Mailbox.Count; // a delivery racing with the re-arm is taken now, or wakes Lua again
        }
        if (size == 0)
        {
            engine.QuietWakeFdIfEmpty();
        }
        engine.Statistics.Observe(size);
        return size;
    }

    // The message where luaL_error would put it, for dispatch to raise.
    private static int Refuse(lua_State L, string message)
    {
        luaL_where(L, 1);
        lua_pushstring(L, message);
        lua_concat(L, 2);
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LuaBinding BindingOf(Call* call) => (LuaBinding)GCHandle.FromIntPtr(call->Binding).Target!;

    // In run's frame (upvalues: the two metatables), whose stack is empty.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Take(lua_State L, Call* call)
    {
        try
        {
            var binding = BindingOf(call);
            return binding.Stops == call->Epoch && call->Taken < call->Max && binding.Engine is { } engine
                ? binding.Dispatcher.TakeNext(L, engine, call)
                : TakeEnd;
        }
        catch (Exception e)
        {
            LogFailure(call, e);
            return TakeEnd;
        }
    }

    private int TakeNext(lua_State L, DssEngine engine, Call* call)
    {
        if (_decoding is not null)
        {
            return TakeEnd; // dispatch called from inside a C decode: that decode is not done
        }
        var gates = _luaThreadGates!;
        if (Settlement.TakeOldest(engine.Mailbox, gates) is not { } delivery)
        {
            return TakeEnd;
        }
        call->Taken++;
        if (delivery is NativeDelivery native)
        {
            _decoding = native;
            native.HandOver(out call->Decode, out call->PData, out call->UtilId);
            return TakeDecode;
        }
        return DecodeHere(L, delivery, gates);
    }

    // A .NET utility's decode, which cannot raise a Lua error; the gate is held and left here.
    private static int DecodeHere(lua_State L, Delivery delivery, HookGate.ThreadGates gates)
    {
        int pushed;
        try
        {
            pushed = delivery.TryDecode(L, out int claimed) ? Math.Clamp(claimed, 0, lua_gettop(L)) : 0;
        }
        catch (Exception e)
        {
            delivery.Owner.Engine.Log.Error(e, "The decode hook of utility {0} threw; the delivery ended.", delivery.Owner.UtilId);
            lua_settop(L, 0);
            delivery.Fail(e);
            Settlement.AfterRaisingDecode(delivery);
            delivery.Owner.Gate.ExitHeld(gates);
            return 0;
        }
        return Arrange(L, delivery, pushed, gates);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Settle(lua_State L, Call* call, int claimed)
    {
        var dispatcher = BindingOf(call).Dispatcher;
        var delivery = dispatcher._decoding!;
        dispatcher._decoding = null;
        try
        {
            return Arrange(L, delivery, claimed, dispatcher._luaThreadGates!);
        }
        catch (Exception e)
        {
            LogFailure(call, e);
            return TakeEnd;
        }
    }

    // Gate held; leaves it. The decoded values are the top `pushed` of the frame: the callback
    // and its arguments (a blocking delivery's waitingthread_callback goes first among those).
    // Returns how many values the loop calls with, 0 for none.
    private static int Arrange(lua_State L, Delivery delivery, int pushed, HookGate.ThreadGates gates)
    {
        var gate = delivery.Owner.Gate;
        try
        {
            if (!Settlement.AfterDecode(delivery, pushed))
            {
                lua_settop(L, 0);
                return 0;
            }
            int extra = lua_gettop(L) - pushed; // values a decode pushed without counting them
            if (extra > 0)
            {
                lua_rotate(L, 1, pushed);
                lua_settop(L, pushed);
            }
            if (delivery.WaitsForAnswer)
            {
                lua_checkstack(L, 2);
                WaitingThreadCallback.Push(L, delivery, lua_upvalueindex(1));
                lua_rotate(L, 2, 1);
                LuaBinding.RenewCloseWatch(L, lua_upvalueindex(2));
                pushed++;
            }
            return pushed;
        }
        finally
        {
            gate.ExitHeld(gates); // may run a stop-DSS the decode deferred: the next take then ends the call
        }
    }

    // The C decode raised (its error went to the handler): that delivery ends there.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Abandon(lua_State L, Call* call)
    {
        try
        {
            var dispatcher = BindingOf(call).Dispatcher;
            var delivery = dispatcher._decoding;
            Debug.Assert(delivery is not null, "the loop abandons only a delivery it is decoding");
            dispatcher._decoding = null;
            if (delivery is not null)
            {
                Settlement.AfterRaisingDecode(delivery);
                delivery.Owner.Gate.ExitHeld(dispatcher._luaThreadGates!);
            }
        }
        catch (Exception e)
        {
            LogFailure(call, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static long Finish(lua_State L, Call* call)
    {
        try
        {
            var binding = BindingOf(call);
            binding.LuaThread.LeaveHeld();
            return binding.Stops == call->Epoch && binding.Engine is { } engine ? SizeRearmedWhenEmpty(engine) : 0;
        }
        catch (Exception)
        {
            return 0;
        }
    }

    private static void LogFailure(Call* call, Exception e)
    {
        try
        {
            BindingOf(call).Engine?.Log.Error(e, "dispatch failed.");
        }
        catch (Exception)
        {
            // Nothing may escape into C.
        }
    }

    /// <summary>dispatch_loop.c's dss_dispatch_call, field for field.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Call
    {
        public nint Binding;
        public int Epoch;
        public int Max;
        public int Taken;
        public int Ran;
        public int Decoding;
        public int Reserved;
        public nint Decode;
        public nint PData;
        public nint UtilId;
    }

    /// <summary>dispatch_loop.c's dss_dispatch_engine, field for field.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Engine
    {
        public delegate* unmanaged[Cdecl]<lua_State, Call*, int> Begin;
        public delegate* unmanaged[Cdecl]<lua_State, Call*, int> Take;
        public delegate* unmanaged[Cdecl]<lua_State, Call*, int, int> Settle;
        public delegate* unmanaged[Cdecl]<lua_State, Call*, void> Abandon;
        public delegate* unmanaged[Cdecl]<lua_State, Call*, long> Finish;
    }
}
