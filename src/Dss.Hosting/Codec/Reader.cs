using System.Collections;
using System.Collections.Concurrent;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>Reads Lua values as one .NET target type.</summary>
/// <remarks>
/// Lua thread only. <c>index</c> is always absolute. A reader leaves the stack as it found it
/// when it returns; when it throws it may leave values above, which the top-level conversion
/// removes. A reader that traverses a table makes room for its key and value itself.
/// </remarks>
internal abstract class Reader
{
    public abstract object? ReadBoxed(lua_State L, int index, ConversionWalk walk);
}

internal abstract class Reader<T> : Reader
{
    // nil reads as null for reference types and Nullable<T>, and is an error for the rest.
    private static readonly bool NilIsNull = TypeShapes.AcceptsNull(typeof(T));

    public abstract T Read(lua_State L, int index, ConversionWalk walk);

    public sealed override object? ReadBoxed(lua_State L, int index, ConversionWalk walk) => Read(L, index, walk);

    /// <summary>The value for nil or no value, when <paramref name="type"/> is one; else throws the mismatch.</summary>
    protected static T NilOrMismatch(lua_State L, int index, int type) =>
        type <= LUA_TNIL && NilIsNull ? default! : throw Mismatch(L, index);

    protected static LuaConversionException Mismatch(lua_State L, int index, string? why = null) =>
        new($"cannot read Lua {TypeNames.OfLua(L, index)} as {TypeNames.Of(typeof(T))}{(why is null ? "" : ": " + why)}");

    protected static void MakeRoom(lua_State L)
    {
        if (lua_checkstack(L, 3) == 0)
        {
            throw LuaCodec.StackFull();
        }
    }
}

/// <summary>The reader of each target type, chosen once by reflection and cached.</summary>
internal static class Readers
{
    private static readonly ConcurrentDictionary<Type, Reader> ByType = new();

    public static Reader For(Type type) => ByType.TryGetValue(type, out Reader? reader) ? reader : ByType.GetOrAdd(type, Create);

    private static Reader Create(Type type)
    {
        if (type == typeof(object))
        {
            return new NaturalReader();
        }
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Generic(typeof(NullableReader<>), underlying);
        }
        if (ScalarReaders.For(type) is { } scalar)
        {
            return scalar;
        }
        if (type.IsByRefLike || type.IsPointer || type.IsByRef || type.IsGenericTypeDefinition)
        {
            return Unsupported(type, "pointers, ref structs and open generic types cannot be read");
        }
        if (TypeShapes.Refusal(type) is { } refusal)
        {
            return Unsupported(type, refusal);
        }
        if (type.IsArray)
        {
            return type.IsSZArray
                ? Generic(typeof(ArrayReader<>), type.GetElementType()!)
                : Unsupported(type, "multi-dimensional arrays have no Lua form");
        }
        if (TypeShapes.IsTuple(type))
        {
            return Generic(typeof(TupleReader<>), type);
        }
        if (type.IsGenericType && SequenceTargets.Contains(type.GetGenericTypeDefinition()))
        {
            return Generic(typeof(ListReader<,>), type, type.GetGenericArguments()[0]);
        }
        if (type.IsGenericType && DictionaryTargets.Contains(type.GetGenericTypeDefinition()))
        {
            Type[] arguments = type.GetGenericArguments();
            return Generic(typeof(DictionaryReader<,,>), type, arguments[0], arguments[1]);
        }
        if (type == typeof(IDictionary))
        {
            return new DictionaryReader<IDictionary, object, object?>();
        }
        if (type == typeof(IList) || type == typeof(ICollection) || type == typeof(IEnumerable))
        {
            return Generic(typeof(ListReader<,>), type, typeof(object));
        }
        if (TypeShapes.IsFramework(type) || TypeShapes.KeyValueTypes(type) is not null || typeof(IEnumerable).IsAssignableFrom(type))
        {
            return Unsupported(type, "the codec does not know how to create it");
        }
        if (type.IsInterface || type.IsAbstract)
        {
            return Unsupported(type, "interfaces and abstract classes cannot be created");
        }
        return RecordReader.Create(type);
    }

    // Targets read from a sequence into a List<T> (or T[]).
    private static readonly HashSet<Type> SequenceTargets =
    [
        typeof(List<>), typeof(IList<>), typeof(ICollection<>), typeof(IEnumerable<>),
        typeof(IReadOnlyList<>), typeof(IReadOnlyCollection<>),
    ];

    // Targets read from any table into a Dictionary<K, V>.
    private static readonly HashSet<Type> DictionaryTargets =
    [
        typeof(Dictionary<,>), typeof(IDictionary<,>), typeof(IReadOnlyDictionary<,>),
    ];

    private static Reader Generic(Type definition, params Type[] arguments) =>
        (Reader)Activator.CreateInstance(definition.MakeGenericType(arguments))!;

    private static Reader Unsupported(Type type, string reason) =>
        (Reader)Activator.CreateInstance(typeof(UnsupportedReader<>).MakeGenericType(type), reason)!;
}

/// <summary>The reader of <typeparamref name="T"/>, without a dictionary lookup.</summary>
internal static class ReaderOf<T>
{
    public static readonly Reader<T> Instance = (Reader<T>)Readers.For(typeof(T));
}

internal sealed class UnsupportedReader<T>(string reason) : Reader<T>
{
    public override T Read(lua_State L, int index, ConversionWalk walk) =>
        throw new LuaConversionException($"cannot read a value as {TypeNames.Of(typeof(T))}: {reason}");
}

internal sealed class NullableReader<T> : Reader<T?> where T : struct
{
    private readonly Reader<T> inner = ReaderOf<T>.Instance;

    public override T? Read(lua_State L, int index, ConversionWalk walk) =>
        lua_type(L, index) <= LUA_TNIL ? null : inner.Read(L, index, walk);
}
