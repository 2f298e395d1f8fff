using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// TEMPORARY stand-in until the codec branch lands: primitives only.
internal static unsafe class LuaCodec
{
    public static void Push(lua_State L, object? value)
    {
        switch (value)
        {
            case null: lua_pushnil(L); break;
            case bool b: lua_pushboolean(L, b ? 1 : 0); break;
            case int i: lua_pushinteger(L, i); break;
            case long l: lua_pushinteger(L, l); break;
            case double d: lua_pushnumber(L, d); break;
            case string s: lua_pushstring(L, s); break;
            default: throw new LuaConversionException("value", $"cannot convert {value.GetType()}");
        }
    }

    public static object? Read(lua_State L, int index, Type target)
    {
        int type = lua_type(L, index);
        object? value = type switch
        {
            LUA_TNIL or LUA_TNONE => null,
            LUA_TBOOLEAN => lua_toboolean(L, index) != 0,
            LUA_TNUMBER => lua_isinteger(L, index) != 0 ? lua_tointegerx(L, index, null) : lua_tonumberx(L, index, null),
            LUA_TSTRING => lua_tostring(L, index),
            _ => throw new LuaConversionException("value", $"cannot convert Lua type {type}"),
        };
        if (value is null || target == typeof(object) || target.IsInstanceOfType(value))
        {
            return value;
        }
        return Convert.ChangeType(value, Nullable.GetUnderlyingType(target) ?? target, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static T Read<T>(lua_State L, int index) => (T)Read(L, index, typeof(T))!;

    public static T ReadResults<T>(lua_State L, int first, int count) =>
        count == 0 ? default! : Read<T>(L, first);
}

public sealed class LuaConversionException(string path, string message) : Exception($"{path}: {message}")
{
    public string Path { get; } = path;
}
