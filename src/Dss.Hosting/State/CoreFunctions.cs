using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DarkSideSync.Hosting.Budgets;
using Akka.Event;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.State;

/// <summary>
/// The <c>core</c> table hosting.lua is loaded with: C functions (here, [UnmanagedCallersOnly])
/// whose upvalue 1 is the state's <see cref="LuaStateThread"/> handle. None raises a Lua
/// error, and no exception leaves any of them. Lua thread only.
/// </summary>
internal static unsafe class CoreFunctions
{
    /// <summary>Pushes the core table.</summary>
    public static void Push(lua_State L, nint self)
    {
        lua_createtable(L, 0, 9);
        Add(L, self, "arm\0"u8, &Arm);
        Add(L, self, "enter\0"u8, &Enter);
        Add(L, self, "leave\0"u8, &Leave);
        Add(L, self, "finished\0"u8, &Finished);
        Add(L, self, "running\0"u8, &Running);
        Add(L, self, "log\0"u8, &Log);
        Add(L, self, "markers\0"u8, &Markers);
        Add(L, self, "sleep\0"u8, &Sleep);
        Add(L, self, "answer\0"u8, &Answer);
    }

    private static void Add(lua_State L, nint self, ReadOnlySpan<byte> name, delegate* unmanaged[Cdecl]<lua_State, int> function)
    {
        lua_pushlightuserdata(L, (void*)self);
        lua_pushcclosure(L, function, 1);
        lua_setfield(L, -2, name);
    }

    /// <summary>The state of a core or export function (its upvalue 1).</summary>
    public static LuaStateThread Owner(lua_State L) =>
        (LuaStateThread)GCHandle.FromIntPtr((nint)lua_touserdata(L, lua_upvalueindex(1))).Target!;

    private static long CallId(lua_State L, int index) => lua_tointegerx(L, index, null);

    // arm(co, id, fresh): the call's coroutine is known as the call's; a fresh one gets the budget hook.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Arm(lua_State L)
    {
        try
        {
            var owner = Owner(L);
            nint coroutine = lua_tothread(L, 1);
            if (coroutine != 0 && owner.Calls.TryGetValue(CallId(L, 2), out var call))
            {
                call.Coroutine = coroutine;
                owner.CallsByCoroutine[coroutine] = call;
                if (lua_toboolean(L, 3) != 0)
                {
                    BudgetCalls.dss_budget_arm(coroutine);
                }
            }
        }
        catch (Exception e)
        {
            Report(L, e);
        }
        return 0;
    }

    // enter(id): the call's coroutine is about to run; its time budget runs from now.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Enter(lua_State L)
    {
        try
        {
            var owner = Owner(L);
            if (owner.Calls.TryGetValue(CallId(L, 1), out var call))
            {
                long now = BudgetCalls.dss_budget_now_ns();
                call.SliceStartNs = now;
                long deadline = call.BudgetLeftNs == long.MaxValue ? long.MaxValue : now + Math.Max(0, call.BudgetLeftNs);
                deadline = Math.Min(deadline, call.TimeoutAtNs); // the hook ends the call at its timeout (HostedCall.TimeoutAtNs)
                BudgetCalls.dss_budget_enter(owner.Control, call.Id, deadline, owner.Options.MemoryLimitBytes ?? 0);
            }
        }
        catch (Exception e)
        {
            Report(L, e);
        }
        return 0;
    }

    // leave(id): the coroutine returned, raised or yielded; what it used comes off its budget.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Leave(lua_State L)
    {
        try
        {
            BudgetCalls.dss_budget_leave();
            if (Owner(L).Calls.TryGetValue(CallId(L, 1), out var call) && call.BudgetLeftNs != long.MaxValue)
            {
                call.BudgetLeftNs -= BudgetCalls.dss_budget_now_ns() - call.SliceStartNs;
            }
        }
        catch (Exception e)
        {
            Report(L, e);
        }
        return 0;
    }

    // finished(id): the call's Lua side is over; what it started in .NET is cancelled.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Finished(lua_State L)
    {
        try
        {
            var owner = Owner(L);
            if (owner.Calls.TryRemove(CallId(L, 1), out var call))
            {
                owner.CallsByCoroutine.Remove(call.Coroutine);
                call.Cancel();
            }
        }
        catch (Exception e)
        {
            Report(L, e);
        }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Running(lua_State L)
    {
        try
        {
            lua_pushboolean(L, Owner(L).IsRunning ? 1 : 0);
        }
        catch (Exception)
        {
            lua_pushboolean(L, 0);
        }
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Log(lua_State L)
    {
        try
        {
            var owner = Owner(L);
            owner.Log.Error("{0}: a hosted callback failed: {1}", owner.Name, lua_tostring(L, 1));
        }
        catch (Exception)
        {
            // Nothing may escape into Lua.
        }
        return 0;
    }

    // sleep(): the loop lets go of the state until something is queued or the host wakes it.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sleep(lua_State L)
    {
        try
        {
            Owner(L).Sleep();
        }
        catch (Exception e)
        {
            Report(L, e);
        }
        return 0;
    }

    // answer(id, ok, ...): what a call that runs on its caller's thread answered (it has no DSS reply).
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Answer(lua_State L)
    {
        try
        {
            if (Owner(L).Answering.TryRemove(CallId(L, 1), out var answer))
            {
                answer.Read(L, 2);
            }
        }
        catch (Exception e)
        {
            Report(L, e);
        }
        return 0;
    }

    // markers(): the values budget_hook.c raises, for hosting.lua to tell them from script errors.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Markers(lua_State L)
    {
        try
        {
            lua_pushlightuserdata(L, (void*)BudgetCalls.dss_budget_time_marker());
            lua_pushlightuserdata(L, (void*)BudgetCalls.dss_budget_memory_marker());
            lua_pushlightuserdata(L, (void*)BudgetCalls.dss_budget_cancel_marker());
            return 3;
        }
        catch (Exception e)
        {
            Report(L, e);
            return 0;
        }
    }

    private static void Report(lua_State L, Exception e)
    {
        try
        {
            Owner(L).Log.Error(e, "A hosting core function failed.");
        }
        catch (Exception)
        {
            // Nothing may escape into Lua.
        }
    }
}
