using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Arrays, lists, tuples and other enumerables become sequences: a table with keys 1..n.
// A null element is refused: Lua cannot store nil in a table, so the element would vanish
// and the sequence would read back shorter or as a dictionary.
internal static class Sequences
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PushElement<T>(lua_State L, T element, ConversionWalk walk)
    {
        // The flag first: without optimizations (Debug) `element is null` boxes a struct element.
        if (Nulls<T>.Possible && element is null)
        {
            throw new LuaConversionException("null in a sequence: a Lua table cannot hold nil (it would leave a hole)");
        }
        LuaCodec.PushValue(L, element, walk);
    }

    // Presizing trusts a collection's Count only so far: the table grows past it as needed.
    public const int MaxPresize = 1 << 20;

    public static void Begin(lua_State L, object identity, bool isValueType, int count, ConversionWalk walk)
    {
        walk.EnterObject(isValueType ? null : identity);
        if (lua_checkstack(L, 3) == 0)
        {
            throw LuaCodec.StackFull();
        }
        lua_createtable(L, Math.Clamp(count, 0, MaxPresize), 0);
    }

    public static LuaConversionException Threw(Exception exception) =>
        new($"enumerating the collection threw {exception.GetType().Name}: {exception.Message}", exception);
}

/// <summary>Whether values of <typeparamref name="T"/> can be null (reference types, Nullable).</summary>
internal static class Nulls<T>
{
    public static readonly bool Possible = TypeShapes.AcceptsNull(typeof(T));
}

internal sealed class ArrayPusher<T> : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var items = (T[])value;
        Sequences.Begin(L, items, false, items.Length, walk);
        int i = 0;
        try
        {
            for (; i < items.Length; i++)
            {
                Sequences.PushElement(L, items[i], walk);
                lua_rawseti(L, -2, i + 1);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Index(i + 1)))
        {
            throw;
        }
        walk.ExitObject();
    }
}

internal sealed class ListPusher<T> : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var list = (List<T>)value;
        Span<T> items = CollectionsMarshal.AsSpan(list);
        Sequences.Begin(L, list, false, items.Length, walk);
        int i = 0;
        try
        {
            for (; i < items.Length; i++)
            {
                Sequences.PushElement(L, items[i], walk);
                lua_rawseti(L, -2, i + 1);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Index(i + 1)))
        {
            throw;
        }
        walk.ExitObject();
    }
}

internal sealed class EnumerablePusher<T> : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var items = (IEnumerable<T>)value;
        int count = items switch
        {
            ICollection<T> c => c.Count,
            IReadOnlyCollection<T> c => c.Count,
            _ => 0,
        };
        Sequences.Begin(L, items, value.GetType().IsValueType, count, walk);
        int i = 0;
        try
        {
            foreach (T item in items)
            {
                Sequences.PushElement(L, item, walk);
                lua_rawseti(L, -2, ++i);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Index(i + 1)))
        {
            throw;
        }
        catch (Exception e) when (e is not LuaConversionException)
        {
            throw Sequences.Threw(e).WithSegment(PathSegments.Index(i + 1));
        }
        walk.ExitObject();
    }
}

internal sealed class NonGenericEnumerablePusher : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var items = (IEnumerable)value;
        Sequences.Begin(L, items, value.GetType().IsValueType, items is ICollection c ? c.Count : 0, walk);
        int i = 0;
        try
        {
            foreach (object? item in items)
            {
                Sequences.PushElement(L, item, walk);
                lua_rawseti(L, -2, ++i);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Index(i + 1)))
        {
            throw;
        }
        catch (Exception e) when (e is not LuaConversionException)
        {
            throw Sequences.Threw(e).WithSegment(PathSegments.Index(i + 1));
        }
        walk.ExitObject();
    }
}

/// <summary>ValueTuple and Tuple values: a sequence of their items, (1, "a") as {1, "a"}.</summary>
internal sealed class TuplePusher : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var tuple = (ITuple)value;
        Sequences.Begin(L, value, value.GetType().IsValueType, tuple.Length, walk);
        int i = 0;
        try
        {
            for (; i < tuple.Length; i++)
            {
                Sequences.PushElement(L, tuple[i], walk);
                lua_rawseti(L, -2, i + 1);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Index(i + 1)))
        {
            throw;
        }
        walk.ExitObject();
    }
}
