using System.Globalization;
using System.Numerics;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Readers of one Lua scalar. Integer and float stay apart where the target can tell (object);
// numeric targets take either, range-checked; nothing converts between strings and numbers.
internal static class ScalarReaders
{
    public static Reader? For(Type type)
    {
        if (type.IsEnum)
        {
            return (Reader)Activator.CreateInstance(typeof(EnumReader<>).MakeGenericType(type))!;
        }
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => new BooleanReader(),
            TypeCode.Char => new CharReader(),
            TypeCode.SByte => new IntegerReader<sbyte>(),
            TypeCode.Byte => new IntegerReader<byte>(),
            TypeCode.Int16 => new IntegerReader<short>(),
            TypeCode.UInt16 => new IntegerReader<ushort>(),
            TypeCode.Int32 => new IntegerReader<int>(),
            TypeCode.UInt32 => new IntegerReader<uint>(),
            TypeCode.Int64 => new IntegerReader<long>(),
            TypeCode.UInt64 => new IntegerReader<ulong>(),
            TypeCode.Single => new SingleReader(),
            TypeCode.Double => new DoubleReader(),
            TypeCode.Decimal => new DecimalReader(),
            TypeCode.String => new StringReader(),
            TypeCode.DateTime => new ParsedReader<DateTime>(static s =>
                DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTime v) ? v : null),
            _ => Other(type),
        };
    }

    private static Reader? Other(Type type)
    {
        if (type == typeof(byte[]))
        {
            return new BytesReader();
        }
        if (type == typeof(ReadOnlyMemory<byte>))
        {
            return new MemoryReader<ReadOnlyMemory<byte>>(static bytes => bytes);
        }
        if (type == typeof(Memory<byte>))
        {
            return new MemoryReader<Memory<byte>>(static bytes => bytes);
        }
        if (type == typeof(Half))
        {
            return new HalfReader();
        }
        if (type == typeof(Int128))
        {
            return new IntegerReader<Int128>();
        }
        if (type == typeof(UInt128))
        {
            return new IntegerReader<UInt128>();
        }
        if (type == typeof(Guid))
        {
            return new ParsedReader<Guid>(static s => Guid.TryParse(s, CultureInfo.InvariantCulture, out Guid v) ? v : null);
        }
        if (type == typeof(DateTimeOffset))
        {
            return new ParsedReader<DateTimeOffset>(static s =>
                DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTimeOffset v) ? v : null);
        }
        if (type == typeof(DateOnly))
        {
            return new ParsedReader<DateOnly>(static s =>
                DateOnly.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly v) ? v : null);
        }
        if (type == typeof(TimeOnly))
        {
            return new ParsedReader<TimeOnly>(static s =>
                TimeOnly.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out TimeOnly v) ? v : null);
        }
        if (type == typeof(TimeSpan))
        {
            return new TimeSpanReader();
        }
        return null;
    }

    /// <summary>The number at <paramref name="index"/> (type LUA_TNUMBER) as a double.</summary>
    public static unsafe double Number(lua_State L, int index) => lua_tonumberx(L, index, null);
}

internal sealed unsafe class IntegerReader<T> : Reader<T> where T : IBinaryInteger<T>
{
    // ±2^63 as doubles: the floats that convert to long without overflow are in [-2^63, 2^63).
    private const double TwoPow63 = 9223372036854775808.0;

    public override T Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TNUMBER)
        {
            return NilOrMismatch(L, index, type);
        }
        long integer;
        if (lua_isinteger(L, index) != 0)
        {
            integer = lua_tointegerx(L, index, null);
        }
        else
        {
            double number = lua_tonumberx(L, index, null);
            if (!double.IsFinite(number) || Math.Floor(number) != number)
            {
                throw Mismatch(L, index, "it has no integer representation");
            }
            if (number < -TwoPow63 || number >= TwoPow63)
            {
                // Beyond long, only ulong and the 128-bit types may still hold it.
                try
                {
                    return T.CreateChecked(number);
                }
                catch (OverflowException)
                {
                    throw Mismatch(L, index, "out of range");
                }
            }
            integer = (long)number;
        }
        T value = T.CreateSaturating(integer);
        return long.CreateSaturating(value) == integer ? value : throw Mismatch(L, index, "out of range");
    }
}

internal sealed class DoubleReader : Reader<double>
{
    public override double Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        return type == LUA_TNUMBER ? ScalarReaders.Number(L, index) : NilOrMismatch(L, index, type);
    }
}

internal sealed class SingleReader : Reader<float>
{
    public override float Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TNUMBER)
        {
            return NilOrMismatch(L, index, type);
        }
        double number = ScalarReaders.Number(L, index);
        float value = (float)number;
        return float.IsInfinity(value) && double.IsFinite(number) ? throw Mismatch(L, index, "out of range") : value;
    }
}

internal sealed class HalfReader : Reader<Half>
{
    public override Half Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TNUMBER)
        {
            return NilOrMismatch(L, index, type);
        }
        double number = ScalarReaders.Number(L, index);
        var value = (Half)number;
        return Half.IsInfinity(value) && double.IsFinite(number) ? throw Mismatch(L, index, "out of range") : value;
    }
}

internal sealed unsafe class DecimalReader : Reader<decimal>
{
    public override decimal Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TNUMBER)
        {
            return NilOrMismatch(L, index, type);
        }
        if (lua_isinteger(L, index) != 0)
        {
            return lua_tointegerx(L, index, null);
        }
        double number = lua_tonumberx(L, index, null);
        if (!double.IsFinite(number))
        {
            throw Mismatch(L, index, "decimal has no NaN or infinity");
        }
        try
        {
            return (decimal)number;
        }
        catch (OverflowException)
        {
            throw Mismatch(L, index, "out of range");
        }
    }
}

internal sealed class BooleanReader : Reader<bool>
{
    public override bool Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        return type == LUA_TBOOLEAN ? lua_toboolean(L, index) != 0 : NilOrMismatch(L, index, type);
    }
}

internal sealed class StringReader : Reader<string>
{
    public override string Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        return type == LUA_TSTRING ? LuaStrings.ReadString(L, index) : NilOrMismatch(L, index, type);
    }
}

internal sealed class CharReader : Reader<char>
{
    public override char Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TSTRING)
        {
            return NilOrMismatch(L, index, type);
        }
        string text = LuaStrings.ReadString(L, index);
        return text.Length == 1 ? text[0] : throw Mismatch(L, index, "a char needs a string of exactly one UTF-16 char");
    }
}

internal sealed class BytesReader : Reader<byte[]>
{
    public override byte[] Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        return type == LUA_TSTRING ? LuaStrings.Bytes(L, index).ToArray() : NilOrMismatch(L, index, type);
    }
}

internal sealed class MemoryReader<T>(Func<byte[], T> wrap) : Reader<T>
{
    public override T Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        return type == LUA_TSTRING ? wrap(LuaStrings.Bytes(L, index).ToArray()) : NilOrMismatch(L, index, type);
    }
}

/// <summary>Values that Lua holds as strings (Guid, dates and times), parsed with the invariant culture.</summary>
internal sealed class ParsedReader<T>(Func<string, T?> parse) : Reader<T> where T : struct
{
    public override T Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TSTRING)
        {
            return NilOrMismatch(L, index, type);
        }
        return parse(LuaStrings.ReadString(L, index)) ?? throw Mismatch(L, index, "not in a form it parses from");
    }
}

internal sealed class TimeSpanReader : Reader<TimeSpan>
{
    public override TimeSpan Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TNUMBER)
        {
            return NilOrMismatch(L, index, type);
        }
        double seconds = ScalarReaders.Number(L, index);
        try
        {
            return TimeSpan.FromSeconds(seconds);
        }
        catch (Exception e) when (e is OverflowException or ArgumentException)
        {
            throw Mismatch(L, index, "out of range (seconds)");
        }
    }
}
