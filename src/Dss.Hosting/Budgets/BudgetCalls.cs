using System.Runtime.InteropServices;
using DarkSideSync.Interop;

namespace DarkSideSync.Hosting.Budgets;

/// <summary>
/// budget_hook.c: the count hook that ends a call whose time or the state's memory is spent,
/// or that was cancelled. Lua thread, except <see cref="Control"/>'s fields (any thread).
/// </summary>
internal static unsafe partial class BudgetCalls
{
    private const string Library = "dss_budget";

    private static readonly Lock InitGate = new();
    private static bool _initialized; // guarded by InitGate

    /// <summary>dss_budget_control: one per hosted state, in native memory for the state's life.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Control
    {
        public const int AbandonedSlots = 16;      // ABANDONED_SLOTS of budget_hook.c
        public fixed long Abandoned[AbandonedSlots]; // recent calls that timed out or were cancelled: each ends at its next check
        public long NextAbandoned;                 // the slot the next abandon takes
        public int Stopping;                       // 1: whatever runs ends at its next check
    }

    [LibraryImport(Library)]
    private static partial void dss_budget_init(LuaFunctions* functions);

    [LibraryImport(Library)]
    public static partial nint dss_budget_time_marker();

    [LibraryImport(Library)]
    public static partial nint dss_budget_memory_marker();

    [LibraryImport(Library)]
    public static partial nint dss_budget_cancel_marker();

    [LibraryImport(Library)]
    [SuppressGCTransition]
    public static partial long dss_budget_now_ns();

    [LibraryImport(Library)]
    public static partial void dss_budget_arm(lua_State coroutine);

    [LibraryImport(Library)]
    public static partial void dss_budget_disarm(lua_State L);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    public static partial void dss_budget_enter(Control* control, long call, long deadlineNs, long memoryLimit);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    public static partial void dss_budget_leave();

    /// <summary>Any thread, before the first hosted state starts: hands the hook the Lua functions it calls. Idempotent.</summary>
    public static void EnsureInitialized()
    {
        lock (InitGate)
        {
            if (_initialized)
            {
                return;
            }
            nint lua = NativeLibrary.Load(LuaNative.Library, typeof(LuaNative).Assembly, null);
            var functions = new LuaFunctions
            {
                SetHook = NativeLibrary.GetExport(lua, "lua_sethook"),
                Gc = NativeLibrary.GetExport(lua, "lua_gc"),
                PushLightUserdata = NativeLibrary.GetExport(lua, "lua_pushlightuserdata"),
                Error = NativeLibrary.GetExport(lua, "lua_error"),
            };
            dss_budget_init(&functions);
            _initialized = true;
        }
    }

    // struct dss_budget_lua of budget_hook.c, field for field.
    [StructLayout(LayoutKind.Sequential)]
    private struct LuaFunctions
    {
        public nint SetHook;
        public nint Gc;
        public nint PushLightUserdata;
        public nint Error;
    }
}
