using System.Globalization;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Path segments, in Lua notation: [3] for a sequence element, .name for a field whose key is
// an identifier, ["a key"] / [true] / [1.5] otherwise. Only error paths build them.
internal static class PathSegments
{
    public static string Index(long position) => "[" + position.ToString(CultureInfo.InvariantCulture) + "]";

    public static string Field(string name) => IsIdentifier(name) ? "." + name : "[" + TypeNames.Quoted(name) + "]";

    /// <summary>The segment of a .NET dictionary key (or a key that could not be pushed).</summary>
    public static string Key(object? key) => key switch
    {
        null => "[null]",
        string s => Field(s),
        char c => Field(c.ToString()),
        bool b => b ? "[true]" : "[false]",
        double d => "[" + TypeNames.Float(d) + "]",
        float f => "[" + TypeNames.Float(f) + "]",
        IFormattable f => "[" + f.ToString(null, CultureInfo.InvariantCulture) + "]",
        _ => "[" + TypeNames.Of(key.GetType()) + "]",
    };

    /// <summary>The segment of the Lua key at <paramref name="index"/> (a traversal's key).</summary>
    public static unsafe string LuaKey(lua_State L, int index) => lua_type(L, index) switch
    {
        LUA_TSTRING => Field(LuaStrings.ReadString(L, index)),
        LUA_TNUMBER when lua_isinteger(L, index) != 0 => Index(lua_tointegerx(L, index, null)),
        LUA_TNUMBER => "[" + TypeNames.Float(lua_tonumberx(L, index, null)) + "]",
        LUA_TBOOLEAN => lua_toboolean(L, index) != 0 ? "[true]" : "[false]",
        _ => "[" + TypeNames.LuaTypeOf(L, index) + " key]",
    };

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }
        return true;
    }
}
