using System.Globalization;
using System.Text;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// The pushers of values that become one Lua scalar (the commonest ones, int, long, double,
// bool and string, are pushed by LuaCodec without a lookup and never reach these).
internal static class ScalarPushers
{
    public static Pusher? For(Type type)
    {
        if (type.IsEnum)
        {
            return (Pusher)Activator.CreateInstance(typeof(EnumPusher<>).MakeGenericType(type))!;
        }
        return Type.GetTypeCode(type) switch
        {
            TypeCode.DBNull => new ScalarPusher(static (L, _) => lua_pushnil(L)),
            TypeCode.Boolean => new ScalarPusher(static (L, v) => lua_pushboolean(L, (bool)v ? 1 : 0)),
            TypeCode.Char => new ScalarPusher(static (L, v) => LuaStrings.Push(L, (char)v)),
            TypeCode.SByte => new ScalarPusher(static (L, v) => lua_pushinteger(L, (sbyte)v)),
            TypeCode.Byte => new ScalarPusher(static (L, v) => lua_pushinteger(L, (byte)v)),
            TypeCode.Int16 => new ScalarPusher(static (L, v) => lua_pushinteger(L, (short)v)),
            TypeCode.UInt16 => new ScalarPusher(static (L, v) => lua_pushinteger(L, (ushort)v)),
            TypeCode.Int32 => new ScalarPusher(static (L, v) => lua_pushinteger(L, (int)v)),
            TypeCode.UInt32 => new ScalarPusher(static (L, v) => lua_pushinteger(L, (uint)v)),
            TypeCode.Int64 => new ScalarPusher(static (L, v) => lua_pushinteger(L, (long)v)),
            TypeCode.UInt64 => new ScalarPusher(static (L, v) => lua_pushinteger(L, ULongToInteger((ulong)v))),
            TypeCode.Single => new ScalarPusher(static (L, v) => lua_pushnumber(L, (float)v)),
            TypeCode.Double => new ScalarPusher(static (L, v) => lua_pushnumber(L, (double)v)),
            TypeCode.Decimal => new ScalarPusher(static (L, v) => lua_pushnumber(L, (double)(decimal)v)),
            TypeCode.String => new ScalarPusher(static (L, v) => LuaStrings.Push(L, (string)v)),
            TypeCode.DateTime => new ScalarPusher(static (L, v) => PushFormatted(L, (DateTime)v, "O")),
            _ => Other(type),
        };
    }

    private static ScalarPusher? Other(Type type)
    {
        if (type == typeof(byte[]))
        {
            return new ScalarPusher(static (L, v) => LuaStrings.PushBytes(L, (byte[])v));
        }
        if (type == typeof(ReadOnlyMemory<byte>))
        {
            return new ScalarPusher(static (L, v) => LuaStrings.PushBytes(L, ((ReadOnlyMemory<byte>)v).Span));
        }
        if (type == typeof(Memory<byte>))
        {
            return new ScalarPusher(static (L, v) => LuaStrings.PushBytes(L, ((Memory<byte>)v).Span));
        }
        if (type == typeof(ArraySegment<byte>))
        {
            return new ScalarPusher(static (L, v) => LuaStrings.PushBytes(L, (ArraySegment<byte>)v));
        }
        if (type == typeof(Half))
        {
            return new ScalarPusher(static (L, v) => lua_pushnumber(L, (double)(Half)v));
        }
        if (type == typeof(Int128))
        {
            return new ScalarPusher(static (L, v) => lua_pushinteger(L, WideToInteger((Int128)v)));
        }
        if (type == typeof(UInt128))
        {
            return new ScalarPusher(static (L, v) => lua_pushinteger(L, WideToInteger((UInt128)v)));
        }
        if (type == typeof(Guid))
        {
            return new ScalarPusher(static (L, v) => PushFormatted(L, (Guid)v, "D"));
        }
        if (type == typeof(DateTimeOffset))
        {
            return new ScalarPusher(static (L, v) => PushFormatted(L, (DateTimeOffset)v, "O"));
        }
        if (type == typeof(DateOnly))
        {
            return new ScalarPusher(static (L, v) => PushFormatted(L, (DateOnly)v, "O"));
        }
        if (type == typeof(TimeOnly))
        {
            return new ScalarPusher(static (L, v) => PushFormatted(L, (TimeOnly)v, "O"));
        }
        if (type == typeof(TimeSpan))
        {
            return new ScalarPusher(static (L, v) => lua_pushnumber(L, ((TimeSpan)v).TotalSeconds));
        }
        return null;
    }

    private static long ULongToInteger(ulong value) => value <= long.MaxValue
        ? (long)value
        : throw new LuaConversionException(
            $"cannot push ulong {value.ToString(CultureInfo.InvariantCulture)}: Lua integers stop at {long.MaxValue.ToString(CultureInfo.InvariantCulture)}");

    private static long WideToInteger<T>(T value) where T : System.Numerics.IBinaryInteger<T> =>
        long.CreateSaturating(value) is var narrowed && T.CreateSaturating(narrowed) == value
            ? narrowed
            : throw new LuaConversionException($"cannot push {TypeNames.Of(typeof(T))} {value}: outside the range of Lua integers");

    private static void PushFormatted<T>(lua_State L, T value, string format) where T : IUtf8SpanFormattable
    {
        Span<byte> utf8 = stackalloc byte[64];
        if (!value.TryFormat(utf8, out int length, format, CultureInfo.InvariantCulture))
        {
            LuaStrings.Push(L, string.Create(CultureInfo.InvariantCulture, $"{value}"));
            return;
        }
        LuaStrings.PushBytes(L, utf8[..length]);
    }
}

internal sealed class ScalarPusher(Action<lua_State, object> push) : Pusher
{
    public override void Push(lua_State L, object value, ConversionWalk walk) => push(L, value);
}

/// <summary>
/// An enum value goes to Lua as its member's name (a string, as written in C#); a value that no
/// single member names (a combination of flags, an undefined value) as its integer.
/// </summary>
internal sealed class EnumPusher<TEnum> : Pusher where TEnum : struct, Enum
{
    // The UTF-8 name of each named value.
    private readonly Dictionary<TEnum, byte[]> names = [];

    public EnumPusher()
    {
        foreach (TEnum value in Enum.GetValues<TEnum>())
        {
            names.TryAdd(value, Encoding.UTF8.GetBytes(Enum.GetName(value)!));
        }
    }

    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        var member = (TEnum)value;
        if (names.TryGetValue(member, out byte[]? name))
        {
            LuaStrings.PushBytes(L, name);
            return;
        }
        lua_pushinteger(L, EnumUnderlyingIsSigned
            ? Convert.ToInt64(member, CultureInfo.InvariantCulture)
            : ULongToInteger(Convert.ToUInt64(member, CultureInfo.InvariantCulture)));
    }

    private static readonly bool EnumUnderlyingIsSigned =
        Type.GetTypeCode(Enum.GetUnderlyingType(typeof(TEnum))) is TypeCode.SByte or TypeCode.Int16 or TypeCode.Int32 or TypeCode.Int64;

    private static long ULongToInteger(ulong raw) => raw <= long.MaxValue
        ? (long)raw
        : throw new LuaConversionException($"cannot push {TypeNames.Of(typeof(TEnum))} {raw}: outside the range of Lua integers");
}
