using System.Buffers;
using System.Text;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Strings both ways. .NET strings go to Lua as UTF-8 (a lone surrogate becomes U+FFFD, as
// Encoding.UTF8 does); Lua strings come back decoded as UTF-8 with U+FFFD for invalid bytes,
// or as their raw bytes for byte[] targets. The only allocation pushing a string is Lua's own
// copy (and a pooled buffer above StackLimit chars).
internal static unsafe class LuaStrings
{
    // Strings up to this many chars are encoded on the stack (at most 3 bytes per char).
    private const int StackLimit = 256;

    public static void Push(lua_State L, string value) => Push(L, value.AsSpan());

    public static void Push(lua_State L, ReadOnlySpan<char> value)
    {
        if (value.Length <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit * 3];
            int length = Encoding.UTF8.GetBytes(value, buffer);
            PushBytes(L, buffer[..length]);
            return;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(value));
        try
        {
            int length = Encoding.UTF8.GetBytes(value, rented);
            PushBytes(L, rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static void Push(lua_State L, char value) => Push(L, new ReadOnlySpan<char>(in value));

    // lua_pushlstring copies the bytes and may run a GC step (so finalizers): it is called with
    // a GC transition. A memory error inside it would longjmp across this frame; like the engine,
    // the codec accepts that (Lua's allocator failing leaves nothing sound to return to).
    public static void PushBytes(lua_State L, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            // A non-null pointer even for an empty span: lua_pushlstring reads no byte then.
            byte dummy = 0;
            lua_pushlstring(L, p is null ? &dummy : p, (nuint)bytes.Length);
        }
    }

    /// <summary>The bytes of the string at <paramref name="index"/>, whose type must be LUA_TSTRING (no number conversion), valid while it stays on the stack.</summary>
    public static ReadOnlySpan<byte> Bytes(lua_State L, int index)
    {
        nuint length;
        byte* p = lua_tolstring(L, index, &length);
        return new ReadOnlySpan<byte>(p, checked((int)length));
    }

    /// <summary>The string at <paramref name="index"/> (type LUA_TSTRING) decoded as UTF-8.</summary>
    public static string ReadString(lua_State L, int index) => Encoding.UTF8.GetString(Bytes(L, index));
}
