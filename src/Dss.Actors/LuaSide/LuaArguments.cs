using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.LuaSide;

/// <summary>
/// Argument checks with Lua's own wording (as luaL_checkinteger would say it), returning the
/// message instead of raising: the Lua wrapper of each function raises it.
/// </summary>
internal static unsafe class LuaArguments
{
    public static string? CheckPort(lua_State L, int arg, string function, out int port)
    {
        port = 0;
        if (CheckInteger(L, arg, function, out long value) is { } error)
        {
            return error;
        }
        if (value is < 0 or > 65535)
        {
            return $"bad argument #{arg} to '{function}' (port must be from 0 to 65535, got {value})";
        }
        port = (int)value;
        return null;
    }

    public static string? CheckInteger(lua_State L, int arg, string function, out long value)
    {
        int isInteger;
        value = lua_tointegerx(L, arg, &isInteger);
        if (isInteger != 0)
        {
            return null;
        }
        return lua_isnumber(L, arg) != 0
            ? $"bad argument #{arg} to '{function}' (number has no integer representation)"
            : $"bad argument #{arg} to '{function}' (number expected, got {TypeName(L, arg)})";
    }

    /// <summary>A count: nil or absent is 0 (the caller's default), else an integer ≥ 1.</summary>
    public static string? CheckOptionalCount(lua_State L, int arg, string function, out long count)
    {
        count = 0;
        if (lua_isnoneornil(L, arg))
        {
            return null;
        }
        if (CheckInteger(L, arg, function, out long value) is { } error)
        {
            return error;
        }
        if (value < 1)
        {
            return $"bad argument #{arg} to '{function}' (a count of at least 1 expected, got {value})";
        }
        count = value;
        return null;
    }

    /// <summary>A queue capacity: nil or absent is <see cref="Queueing.QueueBound.Unbounded"/>, else an integer from 1.</summary>
    public static string? CheckCapacity(lua_State L, int arg, string function, out int capacity)
    {
        capacity = Queueing.QueueBound.Unbounded;
        if (lua_isnoneornil(L, arg))
        {
            return null;
        }
        if (CheckInteger(L, arg, function, out long value) is { } error)
        {
            return error;
        }
        if (value is < 1 or > int.MaxValue)
        {
            return $"bad argument #{arg} to '{function}' (capacity must be nil or from 1 to {int.MaxValue}, got {value})";
        }
        capacity = (int)value;
        return null;
    }

    /// <summary>One of <paramref name="options"/> (as luaL_checkoption); nil or absent is null.</summary>
    public static string? CheckOptionalOption(lua_State L, int arg, string function, string[] options, out string? option)
    {
        option = null;
        if (lua_isnoneornil(L, arg))
        {
            return null;
        }
        if (lua_type(L, arg) is not (LUA_TSTRING or LUA_TNUMBER))
        {
            return $"bad argument #{arg} to '{function}' (string expected, got {TypeName(L, arg)})";
        }
        string given = lua_tostring(L, arg) ?? "";
        if (Array.IndexOf(options, given) < 0)
        {
            return $"bad argument #{arg} to '{function}' (invalid option '{given}')";
        }
        option = given;
        return null;
    }

    /// <summary>A timeout in seconds: nil or absent is null (no limit), else a number ≥ 0.</summary>
    public static string? CheckOptionalSeconds(lua_State L, int arg, string function, out TimeSpan? timeout)
    {
        timeout = null;
        if (lua_isnoneornil(L, arg))
        {
            return null;
        }
        int isNumber;
        double seconds = lua_tonumberx(L, arg, &isNumber);
        if (isNumber == 0)
        {
            return $"bad argument #{arg} to '{function}' (number expected, got {TypeName(L, arg)})";
        }
        if (!(seconds >= 0) || seconds > int.MaxValue / 1000.0)
        {
            return $"bad argument #{arg} to '{function}' (seconds must be from 0 to {int.MaxValue / 1000}, got {seconds})";
        }
        timeout = TimeSpan.FromSeconds(seconds);
        return null;
    }

    public static string TypeName(lua_State L, int arg) => lua_type(L, arg) switch
    {
        LUA_TNONE => "no value",
        LUA_TNIL => "nil",
        LUA_TBOOLEAN => "boolean",
        LUA_TLIGHTUSERDATA or LUA_TUSERDATA => "userdata",
        LUA_TNUMBER => "number",
        LUA_TSTRING => "string",
        LUA_TTABLE => "table",
        LUA_TFUNCTION => "function",
        _ => "thread",
    };
}
