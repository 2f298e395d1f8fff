using System.Runtime.InteropServices;

namespace DarkSideSync.Interop;

// Raw table access and table identity, for the hosting layer's value codec (lua.h "get
// functions", "set functions", "miscellaneous functions"). None of these runs a metamethod,
// and none raises a Lua error in the way the codec calls them.
internal static unsafe partial class LuaNative
{
    // Pushes t[k] for the key on top (popped), raw; returns the value's type. No allocation.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_rawget(lua_State L, int idx);

    // t[k] = v for the key and value on top (both popped), raw. Not SuppressGCTransition: a new
    // key may grow the table. Raises for a nil or NaN key: callers never pass one.
    [LibraryImport(Library)]
    public static partial void lua_rawset(lua_State L, int idx);

    // The next key and value of a traversal (the previous key on top is popped); 0 at the end.
    // Raises only for a key that is no longer in the table: callers never change a table they
    // traverse. No allocation.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial int lua_next(lua_State L, int idx);

    // The raw length (#t without __len) of a table: a border, O(log n). No allocation.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial ulong lua_rawlen(lua_State L, int idx);

    // The address of a table, function, thread or userdata: its identity, for cycle detection.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial void* lua_topointer(lua_State L, int idx);
}
