using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace DarkSideSync.Hosting.Codec;

// What kind of value a .NET type is, for choosing its pusher and reader (reflection, once per
// type: the results are cached with the converters).
internal static class TypeShapes
{
    /// <summary>Why values of <paramref name="type"/> can never cross to Lua, or null.</summary>
    public static string? Refusal(Type type)
    {
        if (typeof(Delegate).IsAssignableFrom(type))
        {
            return "delegates cannot cross to Lua";
        }
        if (type.IsPointer || type.IsByRef || type.IsByRefLike || type == typeof(nint) || type == typeof(nuint)
            || type == typeof(Pointer))
        {
            return "pointers and ref structs cannot cross to Lua";
        }
        if (typeof(MemberInfo).IsAssignableFrom(type) || typeof(Assembly).IsAssignableFrom(type)
            || typeof(ParameterInfo).IsAssignableFrom(type) || typeof(Module).IsAssignableFrom(type))
        {
            return "reflection objects (Type, MethodInfo...) cannot cross to Lua";
        }
        if (typeof(IAsyncResult).IsAssignableFrom(type) || IsGeneric(type, typeof(ValueTask<>)) || type == typeof(ValueTask)
            || HasGenericInterface(type, typeof(IAsyncEnumerable<>)))
        {
            return "tasks and asynchronous streams cannot cross to Lua: await them first";
        }
        if (typeof(Exception).IsAssignableFrom(type))
        {
            return "exceptions cannot cross to Lua";
        }
        // (An iterator is both an IEnumerable and its own first IEnumerator: it is a sequence.)
        if ((typeof(IEnumerator).IsAssignableFrom(type) && !typeof(IEnumerable).IsAssignableFrom(type)) || typeof(Stream).IsAssignableFrom(type)
            || typeof(WaitHandle).IsAssignableFrom(type) || type == typeof(CancellationToken)
            || type == typeof(Thread) || type == typeof(object))
        {
            return "it has no Lua form";
        }
        return null;
    }

    /// <summary>
    /// True for the base class library's own types (namespace System or System.*): those the
    /// codec knows are converted, the others (BigInteger, Uri, Version...) are refused rather
    /// than turned into a table of their properties.
    /// </summary>
    public static bool IsFramework(Type type) =>
        type.Namespace is { } ns && (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal));

    public static bool IsTuple(Type type) =>
        type.IsGenericType && typeof(ITuple).IsAssignableFrom(type)
        && (type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true
            || type.FullName?.StartsWith("System.Tuple`", StringComparison.Ordinal) == true);

    public static bool IsGeneric(Type type, Type definition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == definition;

    public static bool HasGenericInterface(Type type, Type definition) => GenericInterface(type, definition) is not null;

    /// <summary>The one implementation of the generic interface <paramref name="definition"/> (the type itself if it is one), or null (none, or several).</summary>
    public static Type? GenericInterface(Type type, Type definition)
    {
        if (IsGeneric(type, definition))
        {
            return type;
        }
        Type? found = null;
        foreach (Type candidate in type.GetInterfaces())
        {
            if (IsGeneric(candidate, definition))
            {
                if (found is not null)
                {
                    return null;
                }
                found = candidate;
            }
        }
        return found;
    }

    /// <summary>The key and value types of a dictionary or a collection of KeyValuePairs, or null.</summary>
    public static (Type Key, Type Value, bool IsDictionary)? KeyValueTypes(Type type)
    {
        Type? dictionary = GenericInterface(type, typeof(IDictionary<,>)) ?? GenericInterface(type, typeof(IReadOnlyDictionary<,>));
        if (dictionary is not null)
        {
            Type[] arguments = dictionary.GetGenericArguments();
            return (arguments[0], arguments[1], true);
        }
        Type? elements = GenericInterface(type, typeof(IEnumerable<>));
        if (elements is not null && IsGeneric(elements.GetGenericArguments()[0], typeof(KeyValuePair<,>)))
        {
            Type[] arguments = elements.GetGenericArguments()[0].GetGenericArguments();
            return (arguments[0], arguments[1], false);
        }
        return null;
    }

    /// <summary>True when values of <paramref name="type"/> may be null: reference types and Nullable&lt;T&gt;.</summary>
    public static bool AcceptsNull(Type type) => !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;
}
