using System.Collections;
using System.Runtime.CompilerServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Dictionaries and collections of KeyValuePairs become tables keyed by the converted keys. An
// entry whose value is null is left out (Lua's t[k] = nil). Keys: strings, chars, integers,
// bools, floats (not NaN; an integral float becomes an integer key, as in Lua), decimals (as
// floats), enums (their names, as values), Guids; anything else, and null, is refused.
internal static class DictionaryPusher
{
    // Whether two distinct .NET keys may become one Lua key (1 and 1L as object keys, two
    // decimals with one double, a list of pairs with a repeated key), so each key is checked.
    public static bool MayCollide(Type key, bool isDictionary)
    {
        if (!isDictionary)
        {
            return true;
        }
        if (key.IsEnum)
        {
            return false;
        }
        return Type.GetTypeCode(key) switch
        {
            TypeCode.String or TypeCode.Char or TypeCode.Boolean or TypeCode.SByte or TypeCode.Byte
                or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64
                or TypeCode.UInt64 or TypeCode.Single or TypeCode.Double => false,
            _ => key != typeof(Guid),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PushKey<TKey>(lua_State L, TKey key)
    {
        if (typeof(TKey) == typeof(string) && key is not null)
        {
            LuaStrings.Push(L, (string)(object)key);
        }
        else if (typeof(TKey) == typeof(long))
        {
            lua_pushinteger(L, Unsafe.As<TKey, long>(ref key));
        }
        else if (typeof(TKey) == typeof(int))
        {
            lua_pushinteger(L, Unsafe.As<TKey, int>(ref key));
        }
        else
        {
            PushKey(L, (object?)key);
        }
    }

    public static void PushKey(lua_State L, object? key)
    {
        switch (key)
        {
            case null:
                throw new LuaConversionException("null key: a Lua table key cannot be nil");
            case double d when double.IsNaN(d):
            case float f when float.IsNaN(f):
                throw new LuaConversionException("NaN key: a Lua table key cannot be NaN");
            case string or char or bool or sbyte or byte or short or ushort or int or uint or long or ulong
                or float or double or decimal or Enum or Guid:
                // Scalar pushers never use the walk (no nesting below a scalar).
                Pushers.For(key.GetType()).Push(L, key, null!);
                return;
            default:
                throw new LuaConversionException($"cannot use {TypeNames.Of(key.GetType())} as a Lua table key (keys are strings, integers, floats, booleans, enums or Guids)");
        }
    }

    public static void Begin(lua_State L, object identity, int count, ConversionWalk walk)
    {
        walk.EnterObject(identity.GetType().IsValueType ? null : identity);
        if (lua_checkstack(L, 3) == 0)
        {
            throw LuaCodec.StackFull();
        }
        lua_createtable(L, 0, Math.Clamp(count, 0, Sequences.MaxPresize));
    }

    // With the key on top of the table: fails when the table already has it.
    public static void RefuseDuplicate(lua_State L)
    {
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) != LUA_TNIL)
        {
            lua_pop(L, 1);
            throw new LuaConversionException("duplicate key: two .NET keys become this one Lua key");
        }
        lua_pop(L, 1);
    }

    public static LuaConversionException Threw(Exception exception) =>
        new($"enumerating the dictionary threw {exception.GetType().Name}: {exception.Message}", exception);
}

internal sealed class DictionaryPusher<TKey, TValue>(bool checkCollisions) : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var entries = (IEnumerable<KeyValuePair<TKey, TValue>>)value;
        int count = entries switch
        {
            ICollection<KeyValuePair<TKey, TValue>> c => c.Count,
            IReadOnlyCollection<KeyValuePair<TKey, TValue>> c => c.Count,
            _ => 0,
        };
        DictionaryPusher.Begin(L, entries, count, walk);
        TKey? key = default;
        try
        {
            foreach (KeyValuePair<TKey, TValue> entry in entries)
            {
                key = entry.Key;
                DictionaryPusher.PushKey(L, key);
                if (checkCollisions)
                {
                    DictionaryPusher.RefuseDuplicate(L);
                }
                LuaCodec.PushValue(L, entry.Value, walk);
                lua_rawset(L, -3);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Key(key)))
        {
            throw;
        }
        catch (Exception e) when (e is not LuaConversionException)
        {
            throw DictionaryPusher.Threw(e);
        }
        walk.ExitObject();
    }
}

internal sealed class NonGenericDictionaryPusher : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var dictionary = (IDictionary)value;
        DictionaryPusher.Begin(L, dictionary, dictionary.Count, walk);
        object? key = null;
        try
        {
            IDictionaryEnumerator entries = dictionary.GetEnumerator();
            while (entries.MoveNext())
            {
                key = entries.Key;
                DictionaryPusher.PushKey(L, key);
                DictionaryPusher.RefuseDuplicate(L);
                LuaCodec.PushValue(L, entries.Value, walk);
                lua_rawset(L, -3);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Key(key)))
        {
            throw;
        }
        catch (Exception e) when (e is not LuaConversionException)
        {
            throw DictionaryPusher.Threw(e);
        }
        walk.ExitObject();
    }
}
