using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

// Lua threads (coroutines), for the hosting layer's calls: each runs in one, and calls made
// on a caller's thread start on a thread of their own.
internal static partial class LuaNative
{
    [LibraryImport(Library)]
    [SuppressGCTransition]
    public static partial lua_State lua_tothread(lua_State L, int idx);

    /// <summary>Pushes a new Lua thread of L's state and returns it (may raise a memory error: set-up only).</summary>
    [LibraryImport(Library)]
    public static partial lua_State lua_newthread(lua_State L);
}
