using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// Dictionary&lt;K, V&gt; (and IDictionary&lt;K, V&gt;, IReadOnlyDictionary&lt;K, V&gt;, IDictionary) from
/// any table: each key read as K, each value as V. Two Lua keys that read as one K ("A" and "a"
/// for an enum) are an error.
/// </summary>
internal sealed class DictionaryReader<TDictionary, TKey, TValue> : Reader<TDictionary>
    where TDictionary : class
    where TKey : notnull
{
    private readonly Reader<TKey> keys = typeof(TKey) == typeof(object)
        ? (Reader<TKey>)(object)new NaturalKeyReader()
        : ReaderOf<TKey>.Instance;
    private readonly Reader<TValue> values = ReaderOf<TValue>.Instance;

    public override TDictionary Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TTABLE)
        {
            return NilOrMismatch(L, index, type);
        }
        walk.EnterTable(L, index);
        MakeRoom(L);
        var dictionary = new Dictionary<TKey, TValue>();
        int keyIndex = lua_gettop(L) + 1;
        int valueIndex = keyIndex + 1;
        bool inKey = false;
        lua_pushnil(L);
        try
        {
            while (lua_next(L, index) != 0)
            {
                inKey = true;
                TKey key = keys.Read(L, keyIndex, walk);
                inKey = false;
                if (!dictionary.TryAdd(key, values.Read(L, valueIndex, walk)))
                {
                    throw new LuaConversionException($"duplicate key: another Lua key also reads as this {TypeNames.Of(typeof(TKey))} key");
                }
                lua_settop(L, keyIndex);
            }
        }
        catch (LuaConversionException e) when ((inKey && e.AboutKey()) || e.Within(PathSegments.LuaKey(L, keyIndex)))
        {
            throw;
        }
        walk.ExitTable();
        return (TDictionary)(object)dictionary;
    }
}
