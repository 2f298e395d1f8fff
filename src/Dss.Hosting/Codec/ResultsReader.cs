using System.Globalization;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Several values of the stack (the results of a call) as one .NET value. Errors name each
// value result[i], i counted from 1 at the first result.
internal static partial class LuaCodec
{
    private const string ResultsRoot = "result";

    /// <summary>
    /// Reads the <paramref name="count"/> values from <paramref name="first"/> as <typeparamref name="T"/>:
    /// a ValueTuple takes them in order (fewer values than its arity: the rest read as nil; more,
    /// or none: an error); an array T[] takes them all, each as T (none: empty); any other T, a
    /// List&lt;E&gt; too, reads the first value (none: as nil; the others are ignored, as Lua adjusts
    /// results): <c>CallAsync&lt;List&lt;Item&gt;&gt;</c> reads the one table a function returns.
    /// </summary>
    public static T? ReadResults<T>(lua_State L, int first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > 0 && (first < 1 || first + count - 1 > lua_gettop(L)))
        {
            throw new ArgumentOutOfRangeException(nameof(first), first, $"{count} results from {first} are not all on the stack");
        }
        return ResultsOf<T>.Instance.Read(L, first, count);
    }

    // The index of a value that is not there (LUA_TNONE), which readers take as nil.
    private static int Absent(lua_State L)
    {
        if (lua_checkstack(L, 1) == 0)
        {
            throw AtRoot(StackFull(), ResultsRoot, 0);
        }
        return lua_gettop(L) + 1;
    }

    private abstract class ResultsReader<T>
    {
        public abstract T? Read(lua_State L, int first, int count);
    }

    private static class ResultsOf<T>
    {
        public static readonly ResultsReader<T> Instance = Create();

        private static ResultsReader<T> Create()
        {
            Type type = typeof(T);
            if (TypeShapes.IsTuple(type) && type.IsValueType)
            {
                return new TupleResults<T>();
            }
            if (type.IsSZArray)
            {
                return (ResultsReader<T>)Activator.CreateInstance(typeof(ArrayResults<>).MakeGenericType(type.GetElementType()!))!;
            }
            return new SingleResult<T>();
        }
    }

    private sealed class SingleResult<T> : ResultsReader<T>
    {
        public override T? Read(lua_State L, int first, int count) =>
            Read<T>(L, count > 0 ? first : Absent(L), ResultsRoot, 1);
    }

    private sealed class ArrayResults<E> : ResultsReader<E[]>
    {
        public override E[]? Read(lua_State L, int first, int count)
        {
            var results = new E[count];
            for (int i = 0; i < count; i++)
            {
                results[i] = Read<E>(L, first + i, ResultsRoot, i + 1)!;
            }
            return results;
        }
    }

    private sealed class TupleResults<T> : ResultsReader<T>
    {
        private readonly TupleShape shape = TupleShape.Of(typeof(T));

        public override T? Read(lua_State L, int first, int count)
        {
            int arity = shape.Elements.Length;
            if (count == 0 || count > arity)
            {
                var wrong = new LuaConversionException(string.Create(CultureInfo.InvariantCulture,
                    $"{count} results for {TypeNames.Of(typeof(T))}, which takes 1 to {arity}"));
                throw AtRoot(wrong, ResultsRoot, 0);
            }
            var elements = new object?[arity];
            for (int i = 0; i < arity; i++)
            {
                elements[i] = ReadWith(L, i < count ? first + i : Absent(L), shape.ReaderAt(i), ResultsRoot, i + 1);
            }
            return (T)shape.Build(elements);
        }
    }
}
