using System.Runtime.InteropServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Sequences: tables whose keys are exactly 1..n. One traversal (lua_next) reads each element
// where its key says, so the hash part's order does not matter and the cost is O(n).
internal static unsafe class SequenceReading
{
    // Above this length a table's keys are counted before anything is allocated: lua_rawlen is
    // a border, which a sparse table ({[1]=1, [2]=2, [4]=4, ... [2^30]=x}) can make huge.
    private const int CountKeysAbove = 4096;

    /// <summary>The length the table at <paramref name="index"/> has if it is a sequence, or -1 when it cannot be one.</summary>
    public static int Length(lua_State L, int index)
    {
        ulong border = lua_rawlen(L, index);
        if (border > int.MaxValue)
        {
            return -1;
        }
        int length = (int)border;
        return length > CountKeysAbove && CountKeys(L, index) != length ? -1 : length;
    }

    /// <summary>Fills <paramref name="items"/> from the table at <paramref name="index"/>, which must have exactly the keys 1..items.Length.</summary>
    public static void Fill<E>(lua_State L, int index, Reader<E> reader, ConversionWalk walk, Span<E> items)
    {
        int n = items.Length;
        int keyIndex = lua_gettop(L) + 1;
        int valueIndex = keyIndex + 1;
        int count = 0;
        long key = 0;
        lua_pushnil(L);
        try
        {
            while (lua_next(L, index) != 0)
            {
                if (lua_isinteger(L, keyIndex) == 0 || (key = lua_tointegerx(L, keyIndex, null)) < 1 || key > n)
                {
                    key = 0;
                    throw NotASequence(L, keyIndex);
                }
                items[(int)key - 1] = reader.Read(L, valueIndex, walk);
                count++;
                lua_settop(L, keyIndex);
            }
        }
        catch (LuaConversionException e) when (key != 0 && e.Within(PathSegments.Index(key)))
        {
            throw;
        }
        if (count != n)
        {
            throw Hole(L, index, n);
        }
    }

    /// <summary>Whether the keys of the table at <paramref name="index"/> are exactly 1..<paramref name="n"/> (values not read).</summary>
    public static bool HasExactly(lua_State L, int index, int n)
    {
        int keyIndex = lua_gettop(L) + 1;
        int count = 0;
        lua_pushnil(L);
        while (lua_next(L, index) != 0)
        {
            long key;
            if (lua_isinteger(L, keyIndex) == 0 || (key = lua_tointegerx(L, keyIndex, null)) < 1 || key > n)
            {
                lua_settop(L, keyIndex - 1);
                return false;
            }
            count++;
            lua_settop(L, keyIndex);
        }
        return count == n;
    }

    public static LuaConversionException NotASequence(lua_State L, int keyIndex) =>
        new($"not a sequence (keys 1..n): it has the key {TypeNames.OfLua(L, keyIndex)}");

    public static LuaConversionException NotASequence(string target) =>
        new($"cannot read this table as {target}: it is not a sequence (keys 1..n)");

    private static LuaConversionException Hole(lua_State L, int index, int n)
    {
        long missing = 1;
        for (; missing <= n; missing++)
        {
            int type = lua_rawgeti(L, index, missing);
            lua_pop(L, 1);
            if (type == LUA_TNIL)
            {
                break;
            }
        }
        return new LuaConversionException($"not a sequence (keys 1..n): key {missing} is missing");
    }

    private static long CountKeys(lua_State L, int index)
    {
        int keyIndex = lua_gettop(L) + 1;
        long count = 0;
        lua_pushnil(L);
        while (lua_next(L, index) != 0)
        {
            count++;
            lua_settop(L, keyIndex);
        }
        return count;
    }
}

internal sealed class ArrayReader<E> : Reader<E[]>
{
    private readonly Reader<E> element = ReaderOf<E>.Instance;

    public override E[] Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TTABLE)
        {
            return NilOrMismatch(L, index, type);
        }
        walk.EnterTable(L, index);
        MakeRoom(L);
        int n = SequenceReading.Length(L, index);
        if (n < 0)
        {
            throw SequenceReading.NotASequence(TypeNames.Of(typeof(E[])));
        }
        E[] items = n == 0 ? [] : new E[n];
        SequenceReading.Fill(L, index, element, walk, items);
        walk.ExitTable();
        return items;
    }
}

/// <summary>List&lt;E&gt; and the interfaces it stands for (IList&lt;E&gt;, IEnumerable&lt;E&gt;, IReadOnlyList&lt;E&gt;...).</summary>
internal sealed class ListReader<TList, E> : Reader<TList> where TList : class
{
    private readonly Reader<E> element = ReaderOf<E>.Instance;

    public override TList Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TTABLE)
        {
            return NilOrMismatch(L, index, type);
        }
        walk.EnterTable(L, index);
        MakeRoom(L);
        int n = SequenceReading.Length(L, index);
        if (n < 0)
        {
            throw SequenceReading.NotASequence(TypeNames.Of(typeof(TList)));
        }
        var list = new List<E>(n);
        CollectionsMarshal.SetCount(list, n);
        SequenceReading.Fill(L, index, element, walk, CollectionsMarshal.AsSpan(list));
        walk.ExitTable();
        return (TList)(object)list;
    }
}
