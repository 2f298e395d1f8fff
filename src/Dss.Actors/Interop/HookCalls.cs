using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

/// <summary>
/// The engine's C side: the trampoline (<c>hook_calls.c</c>) through which the engine calls C
/// utilities' decode and return hooks on the Lua thread, and <c>darksidesync.dispatch</c>
/// (<c>dispatch_loop.c</c>), so that a hook or a callback raising a Lua error longjmps only
/// over C frames, into a lua_pcall, and never over a .NET frame.
/// </summary>
/// <remarks>
/// .NET hosts load it as <c>libdarksidesync_hooks.so</c> from beside Dss.Actors.dll; the
/// native module links it in statically (DirectPInvoke). Hooks with <c>L == NULL</c> (cancels)
/// touch no Lua state and are called directly.
/// </remarks>
internal static unsafe partial class HookCalls
{
    public const string Library = "darksidesync_hooks";

    /// <summary>
    /// Set (by the native module's runtime config) when Lua is the host process's own, bound
    /// at load time, rather than a library .NET loads (KeraLua's liblua54.so).
    /// </summary>
    private const string LuaIsHostProcessSwitch = "DarkSideSync.LuaIsHostProcess";

    private static readonly Lock InitGate = new();
    private static bool _initialized; // guarded by InitGate; set once

    /// <summary>
    /// decode(L, pData, utilid) under lua_pcall. <see cref="LuaNative.LUA_OK"/>: the values it
    /// pushed are on top (as many as it claimed, at most what it pushed). Any other status: the
    /// hook raised, and the error object alone is on top. Needs two free stack slots.
    /// </summary>
    [LibraryImport(Library)]
    public static partial int dss_call_decode(lua_State L, nint decode, nint pData, nint utilId);

    /// <summary>
    /// ret(L, pData, utilid, garbage) under lua_pcall with the whole stack (<paramref name="nargs"/>
    /// values) as its arguments. <see cref="LuaNative.LUA_OK"/>: the stack holds only what ret
    /// left for Lua. Any other status: the stack holds only the error object. Needs two free stack slots.
    /// </summary>
    [LibraryImport(Library)]
    public static partial int dss_call_return(lua_State L, nint ret, nint pData, nint utilId, int garbage, int nargs);

    [LibraryImport(Library)]
    private static partial void dss_hooks_init(LuaFunctions* functions);

    [LibraryImport(Library)]
    private static partial void dss_dispatch_init(LuaSide.Dispatcher.Engine* functions);

    [LibraryImport(Library)]
    private static partial void dss_dispatch_functions(nint* dispatch, nint* run);

    /// <summary>The C function that is <c>darksidesync.dispatch</c> (dispatch_loop.c); set by <see cref="EnsureInitialized"/>.</summary>
    public static nint DispatchFunction { get; private set; }

    /// <summary>The C function dispatch runs under lua_pcall; one closure of it per state is dispatch's upvalue 3.</summary>
    public static nint DispatchRunFunction { get; private set; }

    /// <summary>
    /// Any thread, before the first hook call or dispatch (loading the module calls it): hands
    /// the C side the Lua functions this engine's interop is bound to, and the engine's
    /// functions for dispatch. Idempotent.
    /// </summary>
    /// <exception cref="DllNotFoundException">libdarksidesync_hooks.so is not beside Dss.Actors.dll.</exception>
    public static void EnsureInitialized()
    {
        lock (InitGate)
        {
            if (_initialized)
            {
                return;
            }
            nint lua = AppContext.TryGetSwitch(LuaIsHostProcessSwitch, out bool hostProcess) && hostProcess
                ? NativeLibrary.GetMainProgramHandle()
                : NativeLibrary.Load(LuaNative.Library, typeof(HookCalls).Assembly, null);
            var functions = new LuaFunctions
            {
                GetTop = NativeLibrary.GetExport(lua, "lua_gettop"),
                SetTop = NativeLibrary.GetExport(lua, "lua_settop"),
                ToUserdata = NativeLibrary.GetExport(lua, "lua_touserdata"),
                PushCClosure = NativeLibrary.GetExport(lua, "lua_pushcclosure"),
                PushValue = NativeLibrary.GetExport(lua, "lua_pushvalue"),
                PushLightUserdata = NativeLibrary.GetExport(lua, "lua_pushlightuserdata"),
                Rotate = NativeLibrary.GetExport(lua, "lua_rotate"),
                PCallK = NativeLibrary.GetExport(lua, "lua_pcallk"),
                CallK = NativeLibrary.GetExport(lua, "lua_callk"),
                PushInteger = NativeLibrary.GetExport(lua, "lua_pushinteger"),
                Error = NativeLibrary.GetExport(lua, "lua_error"),
            };
            dss_hooks_init(&functions);
            var engine = LuaSide.Dispatcher.EngineFunctions;
            dss_dispatch_init(&engine);
            nint dispatch, run;
            dss_dispatch_functions(&dispatch, &run);
            DispatchFunction = dispatch;
            DispatchRunFunction = run;
            _initialized = true;
        }
    }

    // struct dss_lua_functions of hook_calls.c, field for field.
    [StructLayout(LayoutKind.Sequential)]
    private struct LuaFunctions
    {
        public nint GetTop;
        public nint SetTop;
        public nint ToUserdata;
        public nint PushCClosure;
        public nint PushValue;
        public nint PushLightUserdata;
        public nint Rotate;
        public nint PCallK;
        public nint CallK;
        public nint PushInteger;
        public nint Error;
    }
}
