using System.Collections;
using System.Collections.Concurrent;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>Pushes the .NET values of one runtime type as one Lua value each.</summary>
/// <remarks>
/// Lua thread only. The caller has made room for one value; a pusher that builds a table makes
/// room for its own keys and values. On failure a pusher throws and may leave values above the
/// slot it was to fill: the top-level conversion restores the top.
/// </remarks>
internal abstract class Pusher
{
    public abstract void Push(lua_State L, object value, ConversionWalk walk);

    // Room for a table, a key and a value above the current top.
    protected static void MakeRoomForTable(lua_State L)
    {
        if (lua_checkstack(L, 3) == 0)
        {
            throw LuaCodec.StackFull();
        }
    }
}

/// <summary>The pusher of each runtime type, chosen once by reflection and cached.</summary>
internal static class Pushers
{
    private static readonly ConcurrentDictionary<Type, Pusher> ByType = new();

    public static Pusher For(Type type) => ByType.TryGetValue(type, out Pusher? pusher) ? pusher : ByType.GetOrAdd(type, Create);

    private static Pusher Create(Type type)
    {
        if (ScalarPushers.For(type) is { } scalar)
        {
            return scalar;
        }
        if (TypeShapes.Refusal(type) is { } refusal)
        {
            return new UnsupportedPusher(type, refusal);
        }
        if (TypeShapes.KeyValueTypes(type) is { } pair)
        {
            return (Pusher)Activator.CreateInstance(
                typeof(DictionaryPusher<,>).MakeGenericType(pair.Key, pair.Value),
                [DictionaryPusher.MayCollide(pair.Key, pair.IsDictionary)])!;
        }
        if (type.IsArray)
        {
            return type.IsSZArray
                ? Generic(typeof(ArrayPusher<>), type.GetElementType()!)
                : new UnsupportedPusher(type, "multi-dimensional arrays have no Lua form");
        }
        if (TypeShapes.IsTuple(type))
        {
            return new TuplePusher();
        }
        if (TypeShapes.IsGeneric(type, typeof(List<>)))
        {
            return Generic(typeof(ListPusher<>), type.GetGenericArguments()[0]);
        }
        if (typeof(IDictionary).IsAssignableFrom(type))
        {
            return new NonGenericDictionaryPusher();
        }
        if (TypeShapes.GenericInterface(type, typeof(IEnumerable<>)) is { } enumerable)
        {
            return Generic(typeof(EnumerablePusher<>), enumerable.GetGenericArguments()[0]);
        }
        if (typeof(IEnumerable).IsAssignableFrom(type))
        {
            return new NonGenericEnumerablePusher();
        }
        if (TypeShapes.IsFramework(type))
        {
            return new UnsupportedPusher(type, "the codec does not know this framework type");
        }
        return ObjectPusher.Create(type);
    }

    private static Pusher Generic(Type definition, Type argument) =>
        (Pusher)Activator.CreateInstance(definition.MakeGenericType(argument))!;
}

/// <summary>The pusher of <typeparamref name="T"/>, without a dictionary lookup.</summary>
internal static class PusherOf<T>
{
    public static readonly Pusher Instance = Pushers.For(typeof(T));
}

internal sealed class UnsupportedPusher(Type type, string reason) : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk) =>
        throw new LuaConversionException($"cannot push {TypeNames.Of(type)}: {reason}");
}
