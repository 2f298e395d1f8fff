using DarkSideSync.LuaSide;

namespace DarkSideSync;

/// <summary>
/// Runs on the Lua thread during <c>poll()</c>: push a Lua function and its arguments, return
/// how many values were pushed (0: nothing for Lua, the delivery ends here).
/// </summary>
public delegate int LuaDecode<in T>(LuaStack lua, T data);

/// <summary>
/// Runs on the Lua thread when Lua answers a blocking delivery: the values Lua passed are on
/// the stack (1..Top). <paramref name="garbage"/> is true when Lua dropped the callback
/// without calling it (there are no values then). The result completes the producer's task;
/// values the hook pushes are what <c>args[1](...)</c> returns to Lua.
/// </summary>
public delegate TResult LuaReturn<out TResult>(LuaStack lua, bool garbage);
