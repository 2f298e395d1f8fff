using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

// Lua threads (coroutines), for the hosting layer's calls: each runs in one.
internal static partial class LuaNative
{
    [LibraryImport(Library)]
    [SuppressGCTransition]
    public static partial lua_State lua_tothread(lua_State L, int idx);
}
