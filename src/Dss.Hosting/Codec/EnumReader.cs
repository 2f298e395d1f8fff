using System.Text;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// An enum from a member's name (exact case first, then ignoring case; for [Flags] enums also
/// "A, B") or from an integer within the range of the underlying type.
/// </summary>
internal sealed class EnumReader<TEnum> : Reader<TEnum> where TEnum : struct, Enum
{
    private static readonly bool IsFlags = typeof(TEnum).IsDefined(typeof(FlagsAttribute), false);

    private readonly Dictionary<string, TEnum> exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TEnum> ignoringCase = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, TEnum>.AlternateLookup<ReadOnlySpan<char>> exactLookup;
    private readonly Reader underlying = Readers.For(Enum.GetUnderlyingType(typeof(TEnum)));

    public EnumReader()
    {
        foreach (TEnum value in Enum.GetValues<TEnum>())
        {
            string name = Enum.GetName(value)!;
            exact.TryAdd(name, value);
            ignoringCase.TryAdd(name, value);
        }
        exactLookup = exact.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public override TEnum Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type == LUA_TNUMBER)
        {
            object integer;
            try
            {
                integer = underlying.ReadBoxed(L, index, walk)!;
            }
            catch (LuaConversionException)
            {
                throw Mismatch(L, index, "not an integer of its underlying type " + TypeNames.Of(Enum.GetUnderlyingType(typeof(TEnum))));
            }
            return (TEnum)Enum.ToObject(typeof(TEnum), integer);
        }
        if (type != LUA_TSTRING)
        {
            return NilOrMismatch(L, index, type);
        }
        ReadOnlySpan<byte> utf8 = LuaStrings.Bytes(L, index);
        if (utf8.Length <= 128)
        {
            Span<char> chars = stackalloc char[128];
            if (Encoding.UTF8.TryGetChars(utf8, chars, out int length) && exactLookup.TryGetValue(chars[..length], out TEnum found))
            {
                return found;
            }
        }
        string name = LuaStrings.ReadString(L, index);
        if (ignoringCase.TryGetValue(name.Trim(), out TEnum value))
        {
            return value;
        }
        // Enum.TryParse also takes numbers in strings ("3"): Lua strings are not numbers here.
        string trimmed = name.TrimStart();
        if (IsFlags && trimmed.Length > 0 && !char.IsAsciiDigit(trimmed[0]) && trimmed[0] is not ('-' or '+')
            && Enum.TryParse(name, ignoreCase: true, out TEnum flags))
        {
            return flags;
        }
        throw Mismatch(L, index, "no such member (members: " + string.Join(", ", exact.Keys.Take(12)) + (exact.Count > 12 ? ", ..." : "") + ")");
    }
}
