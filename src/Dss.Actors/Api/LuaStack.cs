using DarkSideSync.Interop;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync;

/// <summary>
/// A view of a Lua state's stack for .NET utilities, valid only inside the decode or return
/// hook it was handed to, and only on the Lua thread that called the hook.
/// </summary>
/// <remarks>
/// Works on a raw <c>lua_State*</c>, so it serves stock <c>lua5.4</c> states as well as
/// KeraLua ones; KeraLua hosts may also wrap <see cref="State"/> with <c>Lua.FromIntPtr</c>.
/// Nothing here raises a Lua error; a push the stack has no room for throws instead.
/// </remarks>
public readonly struct LuaStack
{
    /// <summary>Wraps a raw <c>lua_State*</c>; use it on that state's Lua thread only.</summary>
    public LuaStack(nint state) => State = state;

    /// <summary>The raw <c>lua_State*</c>.</summary>
    public nint State { get; }

    /// <summary>Index of the top value (the number of values on the stack in a hook).</summary>
    public int Top => lua_gettop(State);

    public LuaValueType TypeAt(int index) => (LuaValueType)lua_type(State, index);

    public void PushNil()
    {
        MakeRoom();
        lua_pushnil(State);
    }

    public void PushBoolean(bool value)
    {
        MakeRoom();
        lua_pushboolean(State, value ? 1 : 0);
    }

    public void PushInteger(long value)
    {
        MakeRoom();
        lua_pushinteger(State, value);
    }

    public void PushNumber(double value)
    {
        MakeRoom();
        lua_pushnumber(State, value);
    }

    public void PushString(string? value)
    {
        MakeRoom();
        LuaNative.lua_pushstring(State, value);
    }

    /// <summary>Pushes the value a <see cref="LuaReference"/> keeps alive (a callback, usually).</summary>
    public void Push(LuaReference reference)
    {
        MakeRoom();
        lua_rawgeti(State, LUA_REGISTRYINDEX, reference.Id);
    }

    public bool ToBoolean(int index) => lua_toboolean(State, index) != 0;

    /// <summary>The integer at <paramref name="index"/>, or null when it is not one (as <c>lua_tointegerx</c>).</summary>
    public unsafe long? ToInteger(int index)
    {
        int isInteger;
        long value = lua_tointegerx(State, index, &isInteger);
        return isInteger != 0 ? value : null;
    }

    /// <summary>The number at <paramref name="index"/>, or null when it is not convertible to one.</summary>
    public unsafe double? ToNumber(int index)
    {
        int isNumber;
        double value = lua_tonumberx(State, index, &isNumber);
        return isNumber != 0 ? value : null;
    }

    /// <summary>The string (or number as string) at <paramref name="index"/>, or null.</summary>
    public string? ToStringAt(int index) => LuaNative.lua_tostring(State, index);

    /// <summary>
    /// Anchors the value at <paramref name="index"/> in the registry (<c>luaL_ref</c>) so a
    /// utility can push it again in a later decode. Release it with <see cref="Release"/>.
    /// </summary>
    public LuaReference Reference(int index)
    {
        MakeRoom();
        lua_pushvalue(State, index);
        return new LuaReference(luaL_ref(State, LUA_REGISTRYINDEX));
    }

    public void Release(LuaReference reference) => luaL_unref(State, LUA_REGISTRYINDEX, reference.Id);

    // Lua only promises a C function 20 free slots, and pushing past the end corrupts memory
    // instead of failing: so every push asks for its slot (cheap while the stack has room).
    private void MakeRoom()
    {
        if (lua_checkstack(State, 1) == 0)
        {
            throw new InvalidOperationException("The Lua stack cannot grow any further (too many values pushed).");
        }
    }
}

/// <summary>A value anchored in the Lua registry (the id <c>luaL_ref</c> returned).</summary>
public readonly record struct LuaReference(int Id);

/// <summary>Lua's basic types, numbered as in <c>lua.h</c>.</summary>
public enum LuaValueType
{
    None = -1,
    Nil = 0,
    Boolean = 1,
    LightUserData = 2,
    Number = 3,
    String = 4,
    Table = 5,
    Function = 6,
    UserData = 7,
    Thread = 8,
}
