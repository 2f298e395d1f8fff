using System.Runtime.InteropServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// Reads a Lua value as its natural .NET value (target object): nil null, boolean bool, integer
/// long, float double, string string; a table with keys exactly 1..n (n ≥ 1) a List&lt;object?&gt;,
/// any other table (the empty one too) a Dictionary&lt;object, object?&gt; keyed by long, double,
/// string or bool.
/// </summary>
internal sealed unsafe class NaturalReader : Reader<object?>
{
    private static readonly object True = true;
    private static readonly object False = false;

    public override object? Read(lua_State L, int index, ConversionWalk walk) => lua_type(L, index) switch
    {
        LUA_TNONE or LUA_TNIL => null,
        LUA_TBOOLEAN => lua_toboolean(L, index) != 0 ? True : False,
        LUA_TNUMBER => lua_isinteger(L, index) != 0 ? (object)lua_tointegerx(L, index, null) : (object)lua_tonumberx(L, index, null),
        LUA_TSTRING => LuaStrings.ReadString(L, index),
        LUA_TTABLE => ReadTable(L, index, walk),
        _ => throw Mismatch(L, index, "functions, userdata and threads have no .NET form"),
    };

    /// <summary>A key as a natural dictionary key: long, double, string or bool.</summary>
    public static object ReadKey(lua_State L, int index) => lua_type(L, index) switch
    {
        LUA_TBOOLEAN => lua_toboolean(L, index) != 0 ? True : False,
        LUA_TNUMBER => lua_isinteger(L, index) != 0 ? (object)lua_tointegerx(L, index, null) : (object)lua_tonumberx(L, index, null),
        LUA_TSTRING => LuaStrings.ReadString(L, index),
        _ => throw new LuaConversionException(
            $"a Lua {TypeNames.LuaTypeOf(L, index)} key has no .NET form (keys are long, double, string or bool)"),
    };

    private object ReadTable(lua_State L, int index, ConversionWalk walk)
    {
        walk.EnterTable(L, index);
        MakeRoom(L);
        int n = SequenceReading.Length(L, index);
        // Read as a sequence while the keys allow, as a dictionary from the first key that does not.
        List<object?>? sequence = null;
        Dictionary<object, object?>? dictionary = null;
        if (n > 0)
        {
            sequence = new List<object?>(n);
            CollectionsMarshal.SetCount(sequence, n);
        }
        else
        {
            dictionary = [];
        }
        int count = 0;
        int keyIndex = lua_gettop(L) + 1;
        int valueIndex = keyIndex + 1;
        bool inKey = false;
        lua_pushnil(L);
        try
        {
            while (lua_next(L, index) != 0)
            {
                if (sequence is not null)
                {
                    long position;
                    if (lua_isinteger(L, keyIndex) != 0 && (position = lua_tointegerx(L, keyIndex, null)) >= 1 && position <= n)
                    {
                        sequence[(int)position - 1] = Read(L, valueIndex, walk);
                        count++;
                        lua_settop(L, keyIndex);
                        continue;
                    }
                    dictionary = ToDictionary(sequence);
                    sequence = null;
                }
                inKey = true;
                object key = ReadKey(L, keyIndex);
                inKey = false;
                // Two Lua strings can decode to one .NET string (invalid UTF-8 becomes U+FFFD).
                if (!dictionary!.TryAdd(key, Read(L, valueIndex, walk)))
                {
                    throw new LuaConversionException("duplicate key: another Lua key decodes to the same .NET string (invalid UTF-8)");
                }
                lua_settop(L, keyIndex);
            }
        }
        catch (LuaConversionException e) when ((inKey && e.AboutKey()) || e.Within(PathSegments.LuaKey(L, keyIndex)))
        {
            throw;
        }
        walk.ExitTable();
        if (sequence is not null && count == n)
        {
            return sequence;
        }
        // A table with holes below its border ({1, nil, 3}): its integer keys as they are.
        return dictionary ?? ToDictionary(sequence!);
    }

    private static Dictionary<object, object?> ToDictionary(List<object?> sequence)
    {
        var dictionary = new Dictionary<object, object?>(sequence.Count);
        for (int i = 0; i < sequence.Count; i++)
        {
            // Every value read is non-null (a table holds no nil), so null marks a key not seen yet.
            if (sequence[i] is { } value)
            {
                dictionary.Add((long)(i + 1), value);
            }
        }
        return dictionary;
    }
}

/// <summary>Keys of a Dictionary&lt;object, V&gt; target: the natural scalars.</summary>
internal sealed class NaturalKeyReader : Reader<object>
{
    public override object Read(lua_State L, int index, ConversionWalk walk) => NaturalReader.ReadKey(L, index);
}
