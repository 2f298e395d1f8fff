using System.Diagnostics;
using System.Runtime.CompilerServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// Converts .NET values to Lua values on a Lua stack, and back. Lua thread only.
/// </summary>
/// <remarks>
/// <para><b>.NET to Lua</b> (<see cref="Push"/>):</para>
/// <list type="bullet">
/// <item>null, DBNull: nil. bool: boolean.</item>
/// <item>sbyte, byte, short, ushort, int, uint, long: integer. ulong: integer up to
/// long.MaxValue, an error above. Int128/UInt128: integer when in range, else an error.</item>
/// <item>float, double, Half, decimal: float, always (1.0 stays a float: math.type is
/// "float"). decimal loses what a double cannot hold.</item>
/// <item>string, char: string, UTF-8 (a lone surrogate becomes U+FFFD). byte[],
/// ReadOnlyMemory&lt;byte&gt;, Memory&lt;byte&gt;, ArraySegment&lt;byte&gt;: string of those raw bytes.</item>
/// <item>enum: the member's name as a string, as written in C#; a value that no single member
/// names (a flags combination, an undefined value) as its integer.</item>
/// <item>Guid ("D"), DateTime, DateTimeOffset, DateOnly, TimeOnly (ISO 8601, "O"): string.
/// TimeSpan: float seconds.</item>
/// <item>Arrays, lists, tuples, any other IEnumerable: a sequence, keys 1..n. A null element is
/// an error (Lua tables cannot hold nil).</item>
/// <item>Dictionaries (IDictionary, IDictionary&lt;K,V&gt;, IReadOnlyDictionary&lt;K,V&gt;,
/// collections of KeyValuePair): a table. Keys: string, char, integers, bool, float/double
/// (not NaN; integral ones become integer keys, as in Lua), decimal, enum, Guid; a null key,
/// other key types and two keys that become one Lua key are errors. A null value leaves its
/// key out.</item>
/// <item>Other classes, records, structs (not the framework's): a table keyed by their public
/// readable properties and fields, named as in C#; a null member is left out.</item>
/// <item>Errors: delegates, pointers, Type and reflection objects, tasks, exceptions, streams,
/// other framework types (BigInteger, Uri...), a type without public members; a cycle;
/// more than 100 nested tables.</item>
/// </list>
/// <para><b>Lua to .NET</b> (<see cref="Read(nint, int, Type)"/>), by target type:</para>
/// <list type="bullet">
/// <item>object: nil null, boolean bool, integer long, float double, string string, table
/// List&lt;object?&gt; when its keys are exactly 1..n (n ≥ 1), else Dictionary&lt;object, object?&gt;
/// (keys long, double, string, bool; other keys are an error); an empty table is an empty
/// Dictionary&lt;object, object?&gt;. Functions, userdata and threads are errors.</item>
/// <item>Integer types: from an integer or an integral float, range-checked. float, double,
/// Half, decimal: from an integer or a float (a finite double too large for float or decimal is
/// an error). bool: from a boolean only. string: from a string only (numbers are an error),
/// decoded as UTF-8 with U+FFFD for invalid bytes; byte[] (and ReadOnlyMemory&lt;byte&gt;,
/// Memory&lt;byte&gt;) gets the raw bytes. char: a one-char string. enum: a member's name
/// (exact, else ignoring case; flags as "A, B") or an integer in the underlying range. Guid and
/// the date and time types: their string forms (invariant); TimeSpan: seconds.</item>
/// <item>nil: null for reference types and Nullable&lt;T&gt;, an error for other value types.</item>
/// <item>T[], List&lt;T&gt;, IList&lt;T&gt;, ICollection&lt;T&gt;, IEnumerable&lt;T&gt;,
/// IReadOnlyList&lt;T&gt;, IReadOnlyCollection&lt;T&gt;: a table whose keys are exactly 1..n (an empty
/// table is empty). ValueTuple/Tuple: a sequence of exactly their arity.
/// Dictionary&lt;K,V&gt;, IDictionary&lt;K,V&gt;, IReadOnlyDictionary&lt;K,V&gt;: any table, keys and
/// values read as K and V.</item>
/// <item>Records, classes, structs: from a table. The constructor: the only public one; else
/// a public parameterless one; else the public one with the most parameters. Its parameters
/// and the public settable properties and fields (init too) match string keys ignoring case;
/// other keys are ignored, two keys for one member are an error. A missing key: the
/// parameter's default value if it has one, null if it is nullable (int?, string?), else an
/// error; a missing settable member keeps its initial value, unless it is `required`.</item>
/// <item>Cycles and more than 100 nested tables are errors.</item>
/// </list>
/// <para>A failure throws <see cref="LuaConversionException"/> with the path of the value in
/// error, and leaves the stack as it was. Only raw, non-raising Lua calls are used (no
/// metamethod ever runs); a memory error inside a lua_push* or lua_createtable would still
/// longjmp across the codec's frames: as in the engine, that is accepted.</para>
/// </remarks>
internal static partial class LuaCodec
{
    public const int LUA_TTHREAD = 8;

    private const string DefaultRoot = "value";

    /// <summary>Pushes <paramref name="value"/> as one Lua value; on failure throws with the stack unchanged.</summary>
    public static void Push(lua_State L, object? value) => Push(L, value, DefaultRoot, 0);

    /// <summary>As <see cref="Push(lua_State, object?)"/>; errors name the value <paramref name="root"/>[<paramref name="position"/>] ("args", 2: args[2]; position 0: root alone).</summary>
    /// <remarks>T only saves boxing an int, long, double, bool...; the runtime type decides the conversion.</remarks>
    public static void Push<T>(lua_State L, T value, string root = DefaultRoot, int position = 0)
    {
        if (lua_checkstack(L, 1) == 0)
        {
            throw AtRoot(StackFull(), root, position);
        }
        if (TryPushScalar(L, value))
        {
            return;
        }
        PushComplex(L, value!, root, position);
    }

    // Inside a conversion: one value, null as nil, room for it already made.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PushValue<T>(lua_State L, T value, ConversionWalk walk)
    {
        if (TryPushScalar(L, value))
        {
            return;
        }
        object boxed = value!;
        Type type = boxed.GetType();
        (type == typeof(T) ? PusherOf<T>.Instance : Pushers.For(type)).Push(L, boxed, walk);
    }

    // The values that need no pusher: typed when T is known (no boxing), by runtime type when
    // T is object or an interface.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryPushScalar<T>(lua_State L, T value)
    {
        if (typeof(T) == typeof(int))
        {
            lua_pushinteger(L, Unsafe.As<T, int>(ref value));
        }
        else if (typeof(T) == typeof(long))
        {
            lua_pushinteger(L, Unsafe.As<T, long>(ref value));
        }
        else if (typeof(T) == typeof(double))
        {
            lua_pushnumber(L, Unsafe.As<T, double>(ref value));
        }
        else if (typeof(T) == typeof(bool))
        {
            lua_pushboolean(L, Unsafe.As<T, bool>(ref value) ? 1 : 0);
        }
        else if (typeof(T) == typeof(float))
        {
            lua_pushnumber(L, Unsafe.As<T, float>(ref value));
        }
        else if (typeof(T) == typeof(short))
        {
            lua_pushinteger(L, Unsafe.As<T, short>(ref value));
        }
        else if (typeof(T) == typeof(byte))
        {
            lua_pushinteger(L, Unsafe.As<T, byte>(ref value));
        }
        else if (typeof(T) == typeof(uint))
        {
            lua_pushinteger(L, Unsafe.As<T, uint>(ref value));
        }
        else if (Nulls<T>.Possible && value is null)
        {
            lua_pushnil(L);
        }
        else if (typeof(T).IsValueType)
        {
            return false;
        }
        else
        {
            return value is not null && TryPushBoxedScalar(L, value);
        }
        return true;
    }

    private static bool TryPushBoxedScalar(lua_State L, object value)
    {
        switch (value)
        {
            case string s:
                LuaStrings.Push(L, s);
                return true;
            case int i:
                lua_pushinteger(L, i);
                return true;
            case long l:
                lua_pushinteger(L, l);
                return true;
            case double d:
                lua_pushnumber(L, d);
                return true;
            case bool b:
                lua_pushboolean(L, b ? 1 : 0);
                return true;
            default:
                return false;
        }
    }

    private static void PushComplex(lua_State L, object value, string root, int position)
    {
        int top = lua_gettop(L);
        ConversionWalk walk = ConversionWalk.Rent();
        try
        {
            Pushers.For(value.GetType()).Push(L, value, walk);
        }
        catch (LuaConversionException e)
        {
            lua_settop(L, top);
            e.AtRoot(root, position);
            throw;
        }
        catch
        {
            lua_settop(L, top);
            throw;
        }
        finally
        {
            ConversionWalk.Return(walk);
        }
        Debug.Assert(lua_gettop(L) == top + 1, "a pusher pushes exactly one value");
    }

    internal static LuaConversionException StackFull() =>
        new("the Lua stack cannot grow any further");

    private static LuaConversionException AtRoot(LuaConversionException e, string root, int position)
    {
        e.AtRoot(root, position);
        return e;
    }
}
