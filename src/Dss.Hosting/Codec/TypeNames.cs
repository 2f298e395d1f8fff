using System.Globalization;
using System.Text;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Text for error messages: C#-like type names, and short descriptions of Lua values.
// Only error paths call these.
internal static class TypeNames
{
    private const int MaxShown = 40;

    public static string Of(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Of(underlying) + "?";
        }
        string? keyword = Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Char => "char",
            TypeCode.SByte => "sbyte",
            TypeCode.Byte => "byte",
            TypeCode.Int16 => "short",
            TypeCode.UInt16 => "ushort",
            TypeCode.Int32 => "int",
            TypeCode.UInt32 => "uint",
            TypeCode.Int64 => "long",
            TypeCode.UInt64 => "ulong",
            TypeCode.Single => "float",
            TypeCode.Double => "double",
            TypeCode.Decimal => "decimal",
            TypeCode.String => "string",
            _ => null,
        };
        if (keyword is not null && !type.IsEnum)
        {
            return keyword;
        }
        if (type == typeof(object))
        {
            return "object";
        }
        if (type.IsArray)
        {
            return Of(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }
        if (!type.IsGenericType)
        {
            return type.Name;
        }
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        var text = new StringBuilder(tick < 0 ? name : name[..tick]).Append('<');
        Type[] arguments = type.GetGenericArguments();
        for (int i = 0; i < arguments.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(Of(arguments[i]));
        }
        return text.Append('>').ToString();
    }

    /// <summary>"integer 300", "float 3.0", "string \"abc\"", "table", "nil"... of the Lua value at <paramref name="index"/>.</summary>
    public static unsafe string OfLua(lua_State L, int index)
    {
        switch (lua_type(L, index))
        {
            case LUA_TNONE: return "no value";
            case LUA_TNIL: return "nil";
            case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0 ? "boolean true" : "boolean false";
            case LUA_TNUMBER:
                return lua_isinteger(L, index) != 0
                    ? "integer " + lua_tointegerx(L, index, null).ToString(CultureInfo.InvariantCulture)
                    : "float " + Float(lua_tonumberx(L, index, null));
            case LUA_TSTRING: return "string " + Quoted(LuaStrings.ReadString(L, index));
            case LUA_TTABLE: return "table";
            case LUA_TFUNCTION: return "function";
            case LUA_TLIGHTUSERDATA: return "light userdata";
            case LUA_TUSERDATA: return "userdata";
            case LuaCodec.LUA_TTHREAD: return "thread";
            default: return "value of type " + lua_type(L, index).ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The Lua type name only ("string", "table"), for messages about keys.</summary>
    public static string LuaTypeOf(lua_State L, int index) => lua_type(L, index) switch
    {
        LUA_TNONE => "no value",
        LUA_TNIL => "nil",
        LUA_TBOOLEAN => "boolean",
        LUA_TNUMBER => lua_isinteger(L, index) != 0 ? "integer" : "float",
        LUA_TSTRING => "string",
        LUA_TTABLE => "table",
        LUA_TFUNCTION => "function",
        LUA_TLIGHTUSERDATA => "light userdata",
        LUA_TUSERDATA => "userdata",
        LuaCodec.LUA_TTHREAD => "thread",
        _ => "unknown",
    };

    /// <summary>As Lua prints a float: 3.0, -0.0, 1e+100, nan, inf.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny('.', 'E') < 0 ? text + ".0" : text;
    }

    public static string Quoted(string text) => "\"" + Shorten(text) + "\"";

    private static string Shorten(string text) => text.Length <= MaxShown ? text : text[..MaxShown] + "...";
}
